package io.engram.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.app.PipelineRunner;
import io.engram.errors.BadInputException.Reason;
import io.engram.model.EncoderModel;
import io.engram.model.ModelManifest;
import io.engram.model.StepModel;
import io.engram.monitoring.EngramMetrics;
import io.engram.topology.InputKeyDeserializer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both video input topics check the key before any state (FuzzIT found that a frame with a 1 MB key
 * made a prediction Kafka refused, which stopped the exactly-once pipeline).
 */
class VideoBadKeysTopologyTest {
    @TempDir
    Path stateDir;

    @Test
    void framesAndFeatureRecordsWithANonUtf8OrOversizedKeyAreDeadLetteredAndMakeNoCamera() throws Exception {
        VideoPipelineConfig config = VideoPipelineConfig.load(Path.of("topology/video-activity.yaml"));
        EngramMetrics metrics = EngramMetrics.unbound(config.name());
        try (EncoderModel encoder = EncoderModel.load(ModelManifest.load(config.encoderManifest()), 1);
                StepModel classifier = StepModel.load(ModelManifest.load(config.modelManifest()));
                TopologyTestDriver driver = new TopologyTestDriver(VideoTopology.build(config, encoder, classifier, metrics),
                        PipelineRunner.streamsProperties(config.applicationId(), config.guarantee(), config.commitIntervalMs(), 1,
                                (short) 1, config.topics().deadLetter(), "ttd:9092", stateDir, metrics))) {
            VideoPipelineConfig.Topics t = config.topics();
            TestInputTopic<byte[], byte[]> frames = driver.createInputTopic(t.frames(), new ByteArraySerializer(), new ByteArraySerializer());
            TestInputTopic<byte[], byte[]> features = driver.createInputTopic(t.features(), new ByteArraySerializer(), new ByteArraySerializer());
            byte[] png = Files.readAllBytes(Path.of("models/activity/clip/frame-00000.png"));
            byte[] feature = new FeatureRecordSerde().serialize("t", new FeatureRecord(encoder.manifest().id() + "@"
                    + encoder.manifest().version(), 0, new float[classifier.manifest().input().size()]));
            byte[] notUtf8 = {'c', (byte) 0xFF};
            byte[] oversized = new byte[InputKeyDeserializer.MAX_KEY_BYTES + 1];
            frames.pipeInput(notUtf8, png, 1_000);
            frames.pipeInput(oversized, png, 1_000);
            features.pipeInput(notUtf8, feature, 1_000);
            features.pipeInput(oversized, feature, 1_000);
            // TopologyTestDriver drops the deserialization handler's dead letters: count them instead.
            assertEquals(2.0, metrics.deadLetterCount(Reason.BAD_KEY));
            assertEquals(2.0, metrics.deadLetterCount(Reason.TOO_LARGE));
            assertTrue(driver.createOutputTopic(t.features(), new ByteArrayDeserializer(), new ByteArrayDeserializer()).isEmpty());
            assertTrue(driver.createOutputTopic(t.predictions(), new ByteArrayDeserializer(), new ByteArrayDeserializer()).isEmpty());
            assertEquals(0.0, metrics.processedCount());
        }
    }
}

package io.engram.engine.pipeline.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.monitoring.EngramMetrics;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.testkit.PipelineDriver;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.video.FrameStage;
import io.engram.engine.runtime.Pipelines;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both video input topics check the key before any state (FuzzIT found that a frame with a 1 MB key
 * made a prediction Kafka refused, which stopped the exactly-once pipeline).
 */
class VideoBadKeysTopologyTest {
    @ParameterizedTest
    @EnumSource(FrameStage.Layout.class)
    void framesAndFeatureRecordsWithANonUtf8OrOversizedKeyAreDeadLetteredAndMakeNoCamera(FrameStage.Layout layout) throws Exception {
        PipelineSpec spec = Pipelines.load(Path.of("topology/video-activity.yaml"));
        spec = spec.withSettings(spec.settings(VideoActivityPipeline.INSTANCE).withLayout(layout, true));
        boolean split = layout == FrameStage.Layout.SPLIT;
        try (PipelineDriver pd = new PipelineDriver(spec)) {
            TopologyTestDriver driver = pd.driver;
            EngramMetrics metrics = pd.metrics;
            PipelineTopics t = pd.spec.topics();
            String encoderRef = "frame-encoder-cnn@1.0.0";
            TestInputTopic<byte[], byte[]> frames = driver.createInputTopic(t.name(VideoActivityPipeline.FRAMES), new ByteArraySerializer(), new ByteArraySerializer());
            TestInputTopic<byte[], byte[]> features = driver.createInputTopic(t.name(VideoActivityPipeline.FEATURES), new ByteArraySerializer(), new ByteArraySerializer());
            byte[] png = Files.readAllBytes(Path.of("models/activity/clip/frame-00000.png"));
            byte[] feature = new FeatureRecordSerde().serialize("t", new FeatureRecord(encoderRef, 0, new float[pd.manifest.input().size()]));
            byte[] notUtf8 = {'c', (byte) 0xFF};
            byte[] oversized = new byte[InputKeyDeserializer.MAX_KEY_BYTES + 1];
            frames.pipeInput(notUtf8, png, 1_000);
            frames.pipeInput(oversized, png, 1_000);
            if (split) { // the fused layout reads no features topic
                features.pipeInput(notUtf8, feature, 1_000);
                features.pipeInput(oversized, feature, 1_000);
            }
            // TopologyTestDriver drops the deserialization handler's dead letters: count them instead.
            assertEquals(split ? 2.0 : 1.0, metrics.deadLetterCount(Reason.BAD_KEY));
            assertEquals(split ? 2.0 : 1.0, metrics.deadLetterCount(Reason.TOO_LARGE));
            assertTrue(driver.createOutputTopic(t.name(VideoActivityPipeline.FEATURES), new ByteArrayDeserializer(), new ByteArrayDeserializer()).isEmpty());
            assertTrue(driver.createOutputTopic(t.name(ActivityHead.PREDICTIONS), new ByteArrayDeserializer(), new ByteArrayDeserializer()).isEmpty());
            assertEquals(0.0, metrics.processedCount());
        }
    }
}

package io.engram.engine.pipeline.activity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.pipeline.video.FrameStage;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import io.engram.testkit.PipelineYaml;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fused layout of the video pipeline ({@code encoder.layout: fused}): one sub-topology from
 * frame to prediction, the features topic an optional output, and a frame the step refuses
 * dead-lettered whole (the frame's own bytes).
 */
class FusedStageTest {
    static final Path SHIPPED = Path.of("topology/video-activity.yaml");

    static PipelineSpec spec(FrameStage.Layout layout, boolean writeFeatures) {
        PipelineSpec s = Pipelines.load(SHIPPED);
        return s.withSettings(s.settings(VideoActivityPipeline.INSTANCE).withLayout(layout, writeFeatures));
    }

    static void send(TestInputTopic<String, byte[]> frames, String camera, byte[] png, long seq, long ts) {
        RecordHeaders h = new RecordHeaders();
        h.add(FrameEncodeProcessor.H_CONTENT_TYPE, "image/png".getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        frames.pipeInput(new TestRecord<>(camera, png, h, ts));
    }

    static byte[] frame(int i) throws Exception {
        return Files.readAllBytes(Path.of(String.format("models/activity/clip/frame-%05d.png", i)));
    }

    @Test
    void theShippedFileFusesTheStagesInOneSubTopologyAndTheSplitLayoutHasTwo() throws Exception {
        VideoActivityPipeline.Settings shipped = Pipelines.load(SHIPPED).settings(VideoActivityPipeline.INSTANCE);
        assertEquals(FrameStage.Layout.FUSED, shipped.layout());
        assertTrue(shipped.featuresWritten(), "video-anomaly.yaml reads the shipped pipeline's features");
        for (FrameStage.Layout layout : FrameStage.Layout.values()) {
            try (PipelineDriver pd = new PipelineDriver(spec(layout, true))) {
                int subtopologies;
                try (io.engram.engine.config.BuiltPipeline built = pd.spec.kind().build(pd.spec, pd.manifest, null, pd.metrics)) {
                    subtopologies = built.topology().describe().subtopologies().size();
                }
                assertEquals(layout == FrameStage.Layout.FUSED ? 1 : 2, subtopologies, layout.yaml());
                PipelineTopics t = pd.spec.topics();
                assertEquals(layout == FrameStage.Layout.FUSED ? List.of(t.name(VideoActivityPipeline.FRAMES)) : List.of(t.name(VideoActivityPipeline.FRAMES), t.name(VideoActivityPipeline.FEATURES)),
                        pd.spec.consumedTopics());
                assertEquals(List.of(t.name(VideoActivityPipeline.FRAMES)), pd.spec.inputTopics());
            }
        }
    }

    @Test
    void withoutWriteFeaturesTheFusedLayoutWritesNoFeaturesAndStillPredictsEveryFrame() throws Exception {
        try (PipelineDriver pd = new PipelineDriver(spec(FrameStage.Layout.FUSED, false))) {
            PipelineTopics t = pd.spec.topics();
            assertFalse(pd.spec.usedTopics().contains(t.name(VideoActivityPipeline.FEATURES)), "the features topic is neither created nor written");
            TestInputTopic<String, byte[]> frames = pd.driver.createInputTopic(t.name(VideoActivityPipeline.FRAMES), new StringSerializer(),
                    new ByteArraySerializer());
            for (int i = 0; i < 5; i++) {
                send(frames, "cam-1", frame(i), i, 1_000_000L + 100L * i);
            }
            assertEquals(5, pd.output(ActivityHead.PREDICTIONS).readValuesToList().size());
            assertFalse(pd.driver.producedTopicNames().contains(t.name(VideoActivityPipeline.FEATURES)), "produced: " + pd.driver.producedTopicNames());
        }
    }

    @Test
    void aFrameTheStepRefusesIsDeadLetteredWithItsOwnBytesAndItsFeaturesAreWrittenAsInTheSplitLayout() throws Exception {
        try (PipelineDriver pd = new PipelineDriver(spec(FrameStage.Layout.FUSED, true))) {
            PipelineTopics t = pd.spec.topics();
            TestInputTopic<String, byte[]> frames = pd.driver.createInputTopic(t.name(VideoActivityPipeline.FRAMES), new StringSerializer(),
                    new ByteArraySerializer());
            byte[] late = frame(1);
            send(frames, "cam-1", frame(0), 0, 1_010_000L);
            send(frames, "cam-1", late, 1, 1_005_000L); // older than the camera's last frame: out of order (state.out_of_order: drop)
            send(frames, "cam-1", frame(2), 2, 1_020_000L);
            List<TestRecord<byte[], byte[]>> dead = pd.deadLetters().readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals("out-of-order", new String(dead.get(0).headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8));
            assertArrayEquals(late, dead.get(0).value(), "the dead letter is the frame as sent, not its features");
            assertEquals(3, pd.driver.createOutputTopic(t.name(VideoActivityPipeline.FEATURES), new StringDeserializer(), new ByteArrayDeserializer())
                    .readRecordsToList().size(), "as in the split layout: features of every frame the encoder accepted");
            assertEquals(2, pd.output(ActivityHead.PREDICTIONS).readValuesToList().size());
        }
    }

    @Test
    void anUnknownLayoutIsAStartUpErrorNamingTheKey(@TempDir Path dir) {
        Path bad = PipelineYaml.of(SHIPPED.toString()).set("encoder.layout", "sideways").write(dir.resolve("bad.yaml"));
        ConfigException e = assertThrows(ConfigException.class, () -> Pipelines.load(bad));
        assertTrue(e.getMessage().contains("encoder.layout") && e.getMessage().contains("fused, split"), e.getMessage());
    }
}

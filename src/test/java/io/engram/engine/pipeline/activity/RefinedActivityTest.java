package io.engram.engine.pipeline.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.step.StateLifecycle;
import io.engram.engine.state.StreamState;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.pipeline.video.FrameStage;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Fixed-lag bidirectional refinement in the video pipeline (TopologyTestDriver, real encoder,
 * classifier and refiner): the refined output equals PyTorch's offline bidirectional model on
 * the same windows (golden/activity-refined-clip.json) to 1e-4, at two lags and in both layouts;
 * refined events follow the event rule over the refined labels; a reset discards the window.
 */
class RefinedActivityTest {
    static final Path MODELS = Path.of("models/activity");
    static final ObjectMapper JSON = new ObjectMapper();
    static final long T0 = 1_000_000L;

    static PipelineSpec spec(int lag, FrameStage.Layout layout) {
        PipelineSpec s = Pipelines.load(Path.of("topology/video-activity.yaml"));
        VideoActivityPipeline.Settings v = s.settings(VideoActivityPipeline.INSTANCE);
        return s.withSettings(v.withLayout(layout, true).withRefine(new io.engram.engine.pipeline.refine.RefineSettings(v.refine().manifest(), lag)));
    }

    static void send(TestInputTopic<String, byte[]> frames, String camera, int i, long seq, long ts) throws Exception {
        RecordHeaders h = new RecordHeaders();
        h.add(FrameEncodeProcessor.H_CONTENT_TYPE, "image/png".getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        frames.pipeInput(new TestRecord<>(camera, Files.readAllBytes(MODELS.resolve(String.format("clip/frame-%05d.png", i))), h, ts));
    }

    @ParameterizedTest
    @CsvSource({"8, FUSED", "2, SPLIT"})
    void theRefinedOutputEqualsPyTorchsBidirectionalModelOnTheSameWindows(int lag, FrameStage.Layout layout) throws Exception {
        JsonNode g = JSON.readTree(MODELS.resolve("golden/activity-refined-clip.json").toFile()).get("lags").get(Integer.toString(lag));
        JsonNode clip = JSON.readTree(MODELS.resolve("golden/activity-clip.json").toFile());
        int n = clip.get("frames").asInt();
        try (PipelineDriver pd = new PipelineDriver(spec(lag, layout))) {
            List<String> labels = pd.manifest.labels();
            PipelineTopics t = pd.spec.topics();
            TestInputTopic<String, byte[]> frames = pd.driver.createInputTopic(t.name(VideoActivityPipeline.FRAMES), new StringSerializer(), new ByteArraySerializer());
            for (int i = 0; i < n; i++) {
                send(frames, "cam-1", i, i, T0 + 100L * i);
            }
            List<String> refined = pd.output(ActivityHead.REFINED).readValuesToList();
            assertEquals(n - lag, refined.size(), "one refined record per frame but the last L, which have no look-ahead yet");
            assertEquals(n - lag, g.size());
            List<String> expectedEvents = new ArrayList<>();
            String top = null;
            int run = 0;
            String announced = null;
            for (int j = 0; j < refined.size(); j++) {
                JsonNode r = JSON.readTree(refined.get(j));
                assertEquals(j, r.get("frame_seq").asLong(), "refined records come in frame order");
                assertEquals(j, r.get("step").asLong());
                assertEquals(T0 + 100L * j, r.get("event_time").asLong(), "the refined frame's own capture time");
                assertEquals(lag, r.get("lag").asInt());
                int best = 0;
                for (int c = 0; c < labels.size(); c++) {
                    double want = g.get(j).get(c).asDouble();
                    assertEquals(want, r.get("probabilities").get(labels.get(c)).asDouble(), 1e-4, "frame " + j + " " + labels.get(c));
                    best = want > g.get(j).get(best).asDouble() ? c : best;
                }
                assertEquals(labels.get(best), r.get("label").asText());
                run = labels.get(best).equals(top) ? run + 1 : 1;
                top = labels.get(best);
                if (run >= 3 && !top.equals(announced)) {
                    expectedEvents.add(j + ":" + announced + "->" + top);
                    announced = top;
                }
            }
            List<String> got = new ArrayList<>();
            for (String e : pd.output(ActivityHead.REFINED_EVENTS).readValuesToList()) {
                JsonNode r = JSON.readTree(e);
                assertEquals(lag, r.get("lag").asInt());
                got.add(r.get("frame_seq").asLong() + ":" + (r.get("previous_label").isNull() ? null : r.get("previous_label").asText())
                        + "->" + r.get("label").asText());
            }
            assertEquals(expectedEvents, got, "refined events: the event rule over the refined labels");
            assertFalse(got.isEmpty());
            // Live predictions are unchanged by refinement: one per frame.
            assertEquals(n, pd.output(ActivityHead.PREDICTIONS).readValuesToList().size());
        }
    }

    @Test
    void aResetDiscardsTheWindowItsFramesGetNoRefinedRecordAndTheCameraStartsAfresh() throws Exception {
        int lag = 4;
        try (PipelineDriver pd = new PipelineDriver(spec(lag, FrameStage.Layout.FUSED))) {
            PipelineTopics t = pd.spec.topics();
            TestInputTopic<String, byte[]> frames = pd.driver.createInputTopic(t.name(VideoActivityPipeline.FRAMES), new StringSerializer(), new ByteArraySerializer());
            for (int i = 0; i < 10; i++) {
                send(frames, "cam-1", i, i, T0 + 100L * i);
            }
            RecordHeaders h = new RecordHeaders();
            h.add(StateLifecycle.CONTROL_HEADER, StateLifecycle.RESET_COMMAND.getBytes(StandardCharsets.UTF_8));
            frames.pipeInput(new TestRecord<>("cam-1", new byte[0], h, T0 + 1_000));
            StreamState<ActivityState> none = pd.<ActivityState>store().get("cam-1");
            assertEquals(null, none, "the reset deleted the camera's state, window and all");
            for (int i = 10; i < 20; i++) {
                send(frames, "cam-1", i, i, T0 + 100L * i + 1_000);
            }
            List<Long> seqs = new ArrayList<>();
            List<Long> steps = new ArrayList<>();
            for (String r : pd.output(ActivityHead.REFINED).readValuesToList()) {
                seqs.add(JSON.readTree(r).get("frame_seq").asLong());
                steps.add(JSON.readTree(r).get("step").asLong());
            }
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 10L, 11L, 12L, 13L, 14L, 15L), seqs,
                    "frames 6-9 were in the window at the reset: discarded; after it, a new window fills first");
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 0L, 1L, 2L, 3L, 4L, 5L), steps);
            ActivityState a = pd.<ActivityState>store().get("cam-1").payload();
            assertEquals(lag + 1, a.window().filled());
            assertTrue(a.hasWindow());
        }
    }

    @Test
    void theWindowSurvivesTheStoreRoundTripAndALagChangedInTheFileStartsAnEmptyWindow() throws Exception {
        ActivityCodec codec = new ActivityCodec();
        io.engram.engine.state.StateSerde<ActivityState> serde = new io.engram.engine.state.StateSerde<>(codec);
        try (PipelineDriver pd = new PipelineDriver(spec(3, FrameStage.Layout.FUSED))) {
            TestInputTopic<String, byte[]> frames = pd.driver.createInputTopic(pd.spec.topics().name(VideoActivityPipeline.FRAMES), new StringSerializer(),
                    new ByteArraySerializer());
            for (int i = 0; i < 6; i++) {
                send(frames, "cam-1", i, i, T0 + 100L * i);
            }
            StreamState<ActivityState> s = pd.<ActivityState>store().get("cam-1");
            StreamState<ActivityState> back = serde.deserialize("t", serde.serialize("t", s));
            assertEquals(s.payload(), back.payload(), "every window field written and read back");
            assertEquals(4, back.payload().window().filled());
        }
    }

    @Test
    void aHeadClosedWithItsTaskRefinesAgainWhenKafkaStreamsRevivesTheTask() throws Exception {
        // SoakIT found it: after a broker restart Kafka Streams closes a task's processors and
        // initialises the same ones again; a head whose refiner buffers stayed closed then failed
        // every frame (dead-lettered as processing errors, the camera stuck).
        PipelineSpec spec = spec(2, FrameStage.Layout.FUSED);
        io.engram.engine.model.ModelManifest classifier = io.engram.engine.model.ModelManifest.load(spec.modelManifest());
        try (io.engram.engine.model.RefinerModel refiner = io.engram.engine.model.RefinerModel.load(io.engram.engine.model.ModelManifest.load(
                spec.settings(VideoActivityPipeline.INSTANCE).refine().manifest()))) {
            ActivityHead head = new ActivityHead(classifier, 3, io.engram.engine.monitoring.PipelineMeters.NONE, refiner, 2);
            StreamState<ActivityState> s = StreamState.fresh(classifier.id(), classifier.version(), classifier.stateCompat(),
                    classifier.stateFloats(), new ActivityState());
            float[] probs = {0.1f, 0.6f, 0.1f, 0.05f, 0.05f, 0.05f, 0.05f};
            for (int i = 0; i < 6; i++) {
                if (i == 3) {
                    head.close(); // the task closes, then is initialised again
                }
                head.output("cam", new io.engram.engine.pipeline.video.FeatureRecord("frame-encoder-cnn@1.0.0", i, new float[128]), T0 + i,
                        s, probs, i, new io.engram.engine.step.Outputs());

            }
            assertEquals(3, s.payload().window().filled());
            assertTrue(s.payload().window().labels().last() >= 0, "refined after the close too");
            head.close();
            head.close(); // idempotent
        }
    }

    @Test
    void aRefinerOfAnotherClassifierOrALagOverItsMaximumIsAStartUpErrorNamingTheFix() throws Exception {
        ConfigException e = assertThrows(ConfigException.class, () -> new PipelineDriver(spec(40, FrameStage.Layout.FUSED)).close());
        assertTrue(e.getMessage().contains("refine.lag 40") && e.getMessage().contains("max_lag"), e.getMessage());
    }
}

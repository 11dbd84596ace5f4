package io.engram.engine.pipeline.pose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fixed-lag refinement in the person pipeline (the shipped person-activity.yaml, its step fed on the
 * keypoints topic, the real keypoint GRU and refiner): a person's refined outputs equal PyTorch's
 * refined probabilities of the golden held-out sequence (models/pose-activity/golden/keypoint-refined.json)
 * to 1e-4, at the shipped lag and another; each comes L frames late, one per frame, with the refined
 * frame's own sequence number, time and step; refined events follow the change rule over the refined
 * labels; the live outputs (predictions, events, falls) are those of the pipeline without refinement;
 * a reset discards the window; the window survives the store round trip; refinement turned off writes
 * neither topic.
 */
class RefinedPoseTest {
    static final Path SHIPPED = Path.of("topology/person-activity.yaml");
    static final Path GOLDEN = Path.of("models/pose-activity/golden/keypoint-refined.json");
    static final ObjectMapper JSON = new ObjectMapper();
    static final long T0 = 1_700_000_000_000L;
    static final String CAMERA = "cam-1";
    static final String PERSON = CAMERA + "/1";
    static final String POSE_MODEL = "movenet-multipose-lightning@1.0.0";
    /** The live outputs, which refinement leaves as they are. */
    static final List<TopicRole> LIVE = List.of(PoseHead.PREDICTIONS, PoseHead.EVENTS, PoseHead.FALLS);

    static PipelineSpec spec(Map<String, String> overrides) {
        return Pipelines.load(SHIPPED, overrides);
    }

    /** The shipped file at {@code lag}, travel gate off: the golden is the models' own output, and the gate is not a model (TravelTest). */
    static PipelineSpec spec(int lag) {
        return spec(Map.of("refine.lag", Integer.toString(lag), "travel.min_speed", "0"));
    }

    /** The golden sequence's keypoints, one row a frame. */
    static float[][] keypoints() throws Exception {
        JsonNode kp = JSON.readTree(GOLDEN.toFile()).get("kp");
        float[][] rows = new float[kp.size()][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new float[kp.get(i).size()];
            for (int k = 0; k < rows[i].length; k++) {
                rows[i][k] = (float) kp.get(i).get(k).asDouble();
            }
        }
        return rows;
    }

    static void send(TestInputTopic<byte[], byte[]> in, String person, float[] kp, long seq, long ts) {
        in.pipeInput(person.getBytes(StandardCharsets.UTF_8), new FeatureRecordSerde().serialize("t", new FeatureRecord(POSE_MODEL, seq, kp)),
                ts);
    }

    @Test
    void theShippedFileRefinesAtLag8WithTheKeypointRefinerAndWritesTheTwoRefinedTopics() {
        PipelineSpec s = Pipelines.load(SHIPPED);
        var r = s.settings(PoseActivityPipeline.INSTANCE).refine();
        assertEquals(8, r.lag());
        assertEquals(Path.of("models/pose-activity/keypoint-refiner.yaml").toAbsolutePath().normalize(), r.manifest().toAbsolutePath());
        assertEquals("person-activity-refined", s.topics().name(PoseHead.REFINED));
        assertEquals("person-events-refined", s.topics().name(PoseHead.REFINED_EVENTS));
        assertTrue(s.usedTopics().containsAll(List.of("person-activity-refined", "person-events-refined")), s.usedTopics().toString());
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 2})
    void aPersonsRefinedOutputEqualsPyTorchsAndComesLFramesLateOnePerFrame(int lag) throws Exception {
        JsonNode golden = JSON.readTree(GOLDEN.toFile()).get("refined").get(Integer.toString(lag));
        float[][] kp = keypoints();
        int n = kp.length;
        List<String> live = new ArrayList<>();
        List<JsonNode> refined = new ArrayList<>();
        List<String> events = new ArrayList<>();
        try (PipelineDriver pd = PipelineDriver.stepFed(spec(lag))) {
            List<String> labels = pd.manifest.labels();
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            TestOutputTopic<String, String> out = pd.output(PoseHead.REFINED);
            for (int i = 0; i < n; i++) {
                send(in, PERSON, kp[i], i, T0 + 100L * i);
                var now = out.readRecordsToList();
                if (i < lag) {
                    assertEquals(List.of(), now, "frame " + i + ": the window is still filling");
                    continue;
                }
                assertEquals(1, now.size(), "frame " + i + ": one refined record per frame");
                assertEquals(PERSON, now.get(0).key());
                JsonNode r = JSON.readTree(now.get(0).value());
                assertEquals(i - lag, r.get("frame_seq").asLong(), "frame " + i + " refines the frame L back");
                refined.add(r);
            }
            assertEquals(n - lag, refined.size());
            assertEquals(n - lag, golden.size());
            List<String> expected = new ArrayList<>();
            String top = null;
            int run = 0;
            String announced = null;
            for (int j = 0; j < refined.size(); j++) {
                JsonNode r = refined.get(j);
                assertEquals(PERSON, r.get("person").asText());
                assertEquals(CAMERA, r.get("camera").asText());
                assertEquals(1, r.get("track").asLong());
                assertEquals(j, r.get("step").asLong(), "the refined frame's own step");
                assertEquals(T0 + 100L * j, r.get("event_time").asLong(), "the refined frame's own capture time");
                assertEquals(lag, r.get("lag").asInt());
                assertEquals(POSE_MODEL, r.get("pose_model").asText());
                int best = 0;
                for (int c = 0; c < labels.size(); c++) {
                    double want = golden.get(j).get(c).asDouble();
                    assertEquals(want, r.get("probabilities").get(labels.get(c)).asDouble(), 1e-4, "frame " + j + " " + labels.get(c));
                    best = want > golden.get(j).get(best).asDouble() ? c : best;
                }
                assertEquals(labels.get(best), r.get("label").asText(), "frame " + j);
                run = labels.get(best).equals(top) ? run + 1 : 1;
                top = labels.get(best);
                if (run >= 3 && !top.equals(announced)) {
                    expected.add(j + ":" + announced + "->" + top);
                    announced = top;
                }
            }
            for (String e : pd.output(PoseHead.REFINED_EVENTS).readValuesToList()) {
                JsonNode r = JSON.readTree(e);
                assertEquals(lag, r.get("lag").asInt());
                assertEquals(3, r.get("frames").asInt(), "held events.min_frames frames");
                assertEquals(PERSON, r.get("person").asText());
                assertEquals(T0 + 100L * r.get("frame_seq").asLong(), r.get("event_time").asLong());
                events.add(r.get("frame_seq").asLong() + ":" + (r.get("previous_label").isNull() ? null : r.get("previous_label").asText())
                        + "->" + r.get("label").asText());
            }
            assertEquals(expected, events, "refined events: the change rule over the refined labels");
            assertTrue(expected.size() >= 3, "the sequence changes activity (wave, squat, fall): " + expected);
            for (TopicRole role : LIVE) {
                pd.output(role).readValuesToList().forEach(v -> live.add(role.key() + " " + v));
            }
        }
        // The live outputs are those of the pipeline without refinement, byte for byte: no "lag" field, and falls on the live labels.
        List<String> without = new ArrayList<>();
        try (PipelineDriver pd = PipelineDriver.stepFed(spec(Map.of("refine.enabled", "false", "travel.min_speed", "0")))) {
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            for (int i = 0; i < n; i++) {
                send(in, PERSON, kp[i], i, T0 + 100L * i);
            }
            for (TopicRole role : LIVE) {
                pd.output(role).readValuesToList().forEach(v -> without.add(role.key() + " " + v));
            }
            assertTrue(pd.output(PoseHead.REFINED).isEmpty());
        }
        assertEquals(without, live);
        assertEquals(n, live.stream().filter(l -> l.startsWith("predictions ")).count());
        assertFalse(live.stream().anyMatch(l -> l.contains("\"lag\"")), "live records have no lag field");
    }

    @Test
    void aResetDiscardsTheWindowItsFramesGetNoRefinedRecordAndThePersonStartsAfresh() throws Exception {
        int lag = 4;
        float[][] kp = keypoints();
        try (PipelineDriver pd = PipelineDriver.stepFed(spec(lag))) {
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            for (int i = 0; i < 10; i++) {
                send(in, PERSON, kp[i], i, T0 + 100L * i);
            }
            pd.sendControl(PERSON, "reset", T0 + 1_000);
            assertNull(pd.<PoseState>store().get(PERSON), "the reset deleted the person's state, window and all");
            for (int i = 10; i < 20; i++) {
                send(in, PERSON, kp[i], i, T0 + 100L * i + 1_000);
            }
            List<Long> seqs = new ArrayList<>();
            List<Long> steps = new ArrayList<>();
            for (String r : pd.output(PoseHead.REFINED).readValuesToList()) {
                seqs.add(JSON.readTree(r).get("frame_seq").asLong());
                steps.add(JSON.readTree(r).get("step").asLong());
            }
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 10L, 11L, 12L, 13L, 14L, 15L), seqs,
                    "frames 6-9 were in the window at the reset: discarded; after it, a new window fills first");
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 0L, 1L, 2L, 3L, 4L, 5L), steps);
            PoseState p = pd.<PoseState>store().get(PERSON).payload();
            assertEquals(lag + 1, p.window().filled());
            assertEquals(lag, p.window().lag());
        }
    }

    @Test
    void thePersonsWindowAndTravelSurviveTheStoreRoundTripInPayloadVersion4() throws Exception {
        float[][] kp = keypoints();
        StateSerde<PoseState> serde = new StateSerde<>(new PoseCodec());
        try (PipelineDriver pd = PipelineDriver.stepFed(Pipelines.load(SHIPPED))) {
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            for (int i = 0; i < 12; i++) {
                send(in, PERSON, kp[i], i, T0 + 100L * i);
            }
            StreamState<PoseState> s = pd.<PoseState>store().get(PERSON);
            assertEquals(9, s.payload().window().filled(), "L + 1 frames");
            assertTrue(s.payload().window().labels().last() >= 0, "refined since frame 8");
            byte[] bytes = serde.serialize("t", s);
            StreamState<PoseState> back = serde.deserialize("t", bytes);
            assertEquals(s.payload(), back.payload(), "every window field written and read back");
            assertArrayEquals(bytes, serde.serialize("t", back));
            int payload = bytes.length - new PoseCodec().size(s.payload());
            assertEquals(4, bytes[payload], "payload version 4");
            assertTrue(s.payload().travel.observations > 0, "the travel measure is in the payload");
        }
    }

    @Test
    void refinementTurnedOffWritesNeitherRefinedTopicAndKeepsNoWindow() throws Exception {
        PipelineSpec off = spec(Map.of("refine.enabled", "false"));
        assertNull(off.settings(PoseActivityPipeline.INSTANCE).refine());
        assertFalse(off.usedTopics().contains("person-activity-refined"), off.usedTopics().toString());
        assertFalse(off.usedTopics().contains("person-events-refined"), off.usedTopics().toString());
        float[][] kp = keypoints();
        try (PipelineDriver pd = PipelineDriver.stepFed(off)) {
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            for (int i = 0; i < 12; i++) {
                send(in, PERSON, kp[i], i, T0 + 100L * i);
            }
            assertTrue(pd.output(PoseHead.REFINED).isEmpty());
            assertFalse(pd.<PoseState>store().get(PERSON).payload().window().present());
        }
    }

    @Test
    void aLagOverTheRefinersMaximumOrUnder1IsAStartUpErrorNamingTheKey() {
        ConfigException over = assertThrows(ConfigException.class, () -> PipelineDriver.stepFed(spec(40)).close());
        assertTrue(over.getMessage().contains("refine.lag 40") && over.getMessage().contains("max_lag"), over.getMessage());
        ConfigException zero = assertThrows(ConfigException.class, () -> PipelineDriver.stepFed(spec(0)).close());
        assertTrue(zero.getMessage().contains("refine.lag"), zero.getMessage());
    }
}

package io.engram.engine.pipeline.pose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * The travel measure and gate ({@link Travel}), on people whose motion is known: drawn through a
 * pinhole camera of the configured field of view, so that the expected speed in torso lengths per
 * second is the one the person was given.
 */
class TravelTest {
    static final List<String> LABELS = List.of("stand", "walk", "run", "wave", "sit_squat", "fall_lying", "other");
    static final Travel TRAVEL = new Travel(Travel.Settings.DEFAULT, LABELS);
    static final ObjectMapper JSON = new ObjectMapper();
    /** A standing body's keypoints, metres from the hips' midpoint (x right, y down): torso (shoulders to hips) 0.5 m. */
    static final double[][] BODY = {
        {0, -0.68}, {-0.03, -0.71}, {0.03, -0.71}, {-0.07, -0.69}, {0.07, -0.69}, // nose, eyes, ears
        {-0.18, -0.5}, {0.18, -0.5}, {-0.22, -0.22}, {0.22, -0.22}, {-0.23, 0.02}, {0.23, 0.02}, // shoulders, elbows, wrists
        {-0.1, 0}, {0.1, 0}, {-0.1, 0.45}, {0.1, 0.45}, {-0.1, 0.9}, {0.1, 0.9}}; // hips, knees, ankles

    /**
     * Keypoints as the pose stage gives them (x / width, y / height, score) for a body whose hips are
     * at {@code (x, 0.9)} metres (right, below the camera) and {@code z} metres ahead of a camera of
     * horizontal field of view {@code fov} and aspect ratio {@code aspect}, with {@code jitter}
     * (frame heights) of noise.
     */
    static float[] body(double x, double z, double fov, double aspect, double jitter, Random rnd) {
        double f = 0.5 / Math.tan(Math.toRadians(fov) / 2) * aspect; // focal length in frame heights
        float[] kp = new float[51];
        for (int k = 0; k < 17; k++) {
            double u = f * (x + BODY[k][0]) / z + (rnd == null ? 0 : jitter * rnd.nextGaussian()); // frame heights from the centre
            double v = f * (0.9 + BODY[k][1]) / z + (rnd == null ? 0 : jitter * rnd.nextGaussian());
            kp[3 * k] = (float) (0.5 + u / aspect);
            kp[3 * k + 1] = (float) (0.5 + v);
            kp[3 * k + 2] = 0.9f;
        }
        return kp;
    }

    @Test
    void aWalkerAcrossTheFrameIsMeasuredAtTheSpeedTheyWereGiven() {
        Travel.State s = new Travel.State();
        double speed = Double.NaN;
        for (int i = 0; i <= 40; i++) { // 4 s at 10 frames/s, 0.75 m/s across at 6 m: 1.5 torso lengths a second
            speed = TRAVEL.update(s, body(-1.5 + 0.075 * i, 6, 60, 16 / 9.0, 0, null), 100L * i, 16 / 9.0);
        }
        assertEquals(1.5, speed, 0.03);
    }

    @Test
    void aWalkerComingAtTheCameraIsMeasuredFromTheirGrowingSize() {
        Travel.State s = new Travel.State();
        double speed = Double.NaN;
        for (int i = 0; i <= 30; i++) { // 3 s, 1 m/s straight at the camera from 10 m: 2 torso lengths a second
            speed = TRAVEL.update(s, body(0, 10 - 0.1 * i, 60, 4 / 3.0, 0, null), 100L * i, 4 / 3.0);
        }
        // The averages lag about a stride while the rate of growth climbs (v / distance): within 15 %.
        assertEquals(2.0, speed, 0.3);
        assertTrue(speed > 2 * Travel.Settings.DEFAULT.minSpeed(), "well above min_speed: " + speed);
    }

    @Test
    void aStanderWithTheKeypointNoiseOfAPoseModelIsNotTravelling() {
        Random rnd = new Random(7);
        Travel.State s = new Travel.State();
        // 10 s at 4 m (torso 0.19 frame heights): 0.3 % of the frame height of noise on every keypoint, so the hips'
        // midpoint jitters by 1.1 % of the torso from frame to frame, as MultiPose's do on BIISC's standers at their 90th percentile.
        for (int i = 0; i <= 100; i++) {
            double speed = TRAVEL.update(s, body(0.3, 4, 60, 16 / 9.0, 0.003, rnd), 100L * i, 16 / 9.0);
            if (i >= Travel.MIN_OBSERVATIONS) {
                assertTrue(speed < Travel.Settings.DEFAULT.minSpeed(), "frame " + i + ": " + speed);
            }
        }
    }

    @Test
    void theMeasureDoesNotDependOnTheFrameRate() {
        double[] at3s = new double[2];
        int[] fps = {10, 30};
        for (int r = 0; r < 2; r++) {
            Travel.State s = new Travel.State();
            for (int i = 0; i <= 3 * fps[r]; i++) {
                double t = i / (double) fps[r];
                at3s[r] = TRAVEL.update(s, body(-1 + 0.6 * t, 5, 60, 16 / 9.0, 0, null), Math.round(1000 * t), 16 / 9.0);
            }
        }
        assertEquals(at3s[0], at3s[1], 0.02 * at3s[0]);
    }

    @Test
    void theFramesAspectRatioPutsBothAxesInTheSameUnit() {
        // The same motion in a 16:9 frame, read as if the frame were square: across-the-frame speed 16/9 times too small.
        Travel.State right = new Travel.State();
        Travel.State square = new Travel.State();
        double a = Double.NaN;
        double b = Double.NaN;
        for (int i = 0; i <= 30; i++) {
            float[] kp = body(-1.5 + 0.075 * i, 6, 60, 16 / 9.0, 0, null);
            a = TRAVEL.update(right, kp, 100L * i, 16 / 9.0);
            b = TRAVEL.update(square, kp, 100L * i, 1);
        }
        assertEquals(16 / 9.0, a / b, 0.01);
        assertEquals(16 / 9.0, Travel.aspect("1920", "1080"), 1e-12);
        assertEquals(1, Travel.aspect(null, "1080"));
        assertEquals(1, Travel.aspect("wide", "1080"));
        assertEquals(1, Travel.aspect("0", "1080"));
    }

    @Test
    void unseenShouldersOrHipsLeaveTheMeasureAsItWasAndALongGapStartsItAgain() {
        Travel.State s = new Travel.State();
        double speed = Double.NaN;
        for (int i = 0; i <= 20; i++) {
            speed = TRAVEL.update(s, body(-1.5 + 0.075 * i, 6, 60, 1, 0, null), 100L * i, 1);
        }
        float[] hidden = body(0, 6, 60, 1, 0, null);
        hidden[3 * Travel.L_HIP + 2] = 0.1f; // a hip the pose model barely sees
        Travel.State before = copy(s);
        assertEquals(speed, TRAVEL.update(s, hidden, 2_100, 1), 1e-12);
        assertEquals(before, s, "nothing learned from a frame without shoulders and hips");
        // Seen again after more than two time constants: what was measured is stale.
        assertTrue(Double.isNaN(TRAVEL.update(s, body(0, 6, 60, 1, 0, null), 2_000 + 2 * 1_000 + 1, 1)));
        assertEquals(0, s.observations());
    }

    @Test
    void theGateDecidesOnlyBetweenStandingAndMoving() {
        double fast = 1.5;
        double still = 0.1;
        float[] stand = {0.6f, 0.2f, 0.05f, 0.05f, 0.04f, 0.03f, 0.03f};
        float[] p = stand.clone();
        assertTrue(TRAVEL.gate(p, fast));
        assertEquals(0, p[0]);
        assertEquals(0.8f, p[1], 1e-6);
        assertEquals(1.0, sum(p), 1e-6, "probability moved, not made");
        float[] walk = {0.2f, 0.5f, 0.1f, 0.1f, 0.04f, 0.03f, 0.03f};
        p = walk.clone();
        assertTrue(TRAVEL.gate(p, still));
        assertEquals(0.8f, p[0], 1e-6);
        assertEquals(0, p[1]);
        assertEquals(0, p[2]);
        assertEquals(1.0, sum(p), 1e-6);
        // Travelling walkers, still standers, and any other label on top: as the model said.
        for (float[] q : List.of(walk, stand, new float[] {0.3f, 0.1f, 0f, 0.5f, 0.05f, 0.05f, 0f}, new float[] {0.1f, 0f, 0f, 0f, 0f, 0.9f, 0f})) {
            for (double v : new double[] {fast, still}) {
                float[] c = q.clone();
                boolean moved = TRAVEL.gate(c, v);
                if (!moved) {
                    assertEquals(java.util.Arrays.toString(q), java.util.Arrays.toString(c));
                }
            }
        }
        float[] wave = {0.3f, 0.1f, 0f, 0.5f, 0.05f, 0.05f, 0f};
        assertFalse(TRAVEL.gate(wave.clone(), fast), "waving while walking stays waving");
        assertFalse(TRAVEL.gate(stand.clone(), Double.NaN), "not measured: the model's");
        assertFalse(new Travel(Travel.Settings.OFF, LABELS).gate(stand.clone(), fast), "off");
        assertFalse(new Travel(Travel.Settings.DEFAULT, List.of("a", "b")).on(), "a model without stand and walk: off");
    }

    /**
     * Through the pipeline: a body with a standing posture carried across a 16:9 frame (frame size
     * in the headers, as the pose stage writes them) is reported walking once its speed is measured,
     * with the speed on the live record; the same body still is never walking or running.
     */
    @Test
    void thePipelineReportsAStandingPostureThatTravelsAsWalking() throws Exception {
        double aspect = 16 / 9.0;
        try (PipelineDriver pd = PipelineDriver.stepFed(Pipelines.load(RefinedPoseTest.SHIPPED, Map.of()))) {
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            for (int i = 0; i < 40; i++) {
                send(in, "cam-1/1", body(-1.5 + 0.075 * i, 6, 60, aspect, 0, null), i);
                send(in, "cam-1/2", body(0.5, 6, 60, aspect, 0, null), i);
            }
            int moving = 0;
            for (var r : pd.output(PoseHead.PREDICTIONS).readRecordsToList()) {
                JsonNode j = JSON.readTree(r.value());
                long seq = j.get("frame_seq").asLong();
                String label = j.get("label").asText();
                if (seq < Travel.MIN_OBSERVATIONS) {
                    assertFalse(j.has("speed"), "not measured yet");
                    continue;
                }
                double speed = j.get("speed").asDouble();
                if (r.key().equals("cam-1/1")) {
                    if (seq >= 20) { // two time constants in
                        assertTrue(speed > 1.0, "frame " + seq + ": " + speed);
                    }
                    if (speed >= Travel.Settings.DEFAULT.minSpeed()) {
                        assertTrue(!label.equals("stand"), "frame " + seq + ": travelling at " + speed + " yet " + label);
                        moving += label.equals("walk") || label.equals("run") ? 1 : 0;
                    }
                } else {
                    assertTrue(speed < 0.01, "the still body: " + speed);
                    assertTrue(!label.equals("walk") && !label.equals("run"), "frame " + seq + ": still yet " + label);
                }
            }
            assertTrue(moving >= 30, "the travelling body was walking on " + moving + " frames");
        }
    }

    @Test
    void theShippedFileHasTheGateOnAndBadSettingsAreStartUpErrorsNamingThem() {
        Travel.Settings t = Pipelines.load(RefinedPoseTest.SHIPPED).settings(PoseActivityPipeline.INSTANCE).travel();
        assertEquals(Travel.Settings.DEFAULT, t, "the shipped file states the defaults");
        for (Map.Entry<String, String> bad : Map.of("travel.min_speed", "-1", "travel.field_of_view_deg", "180",
                "travel.time_constant_ms", "0", "travel.speed", "1").entrySet()) {
            io.engram.engine.errors.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.engram.engine.errors.ConfigException.class, () -> Pipelines.load(RefinedPoseTest.SHIPPED, Map.of(bad.getKey(), bad.getValue())));
            assertTrue(e.getMessage().contains(bad.getKey()), e.getMessage());
        }
        assertFalse(Pipelines.load(RefinedPoseTest.SHIPPED, Map.of("travel.min_speed", "0")).settings(PoseActivityPipeline.INSTANCE).travel().on());
    }

    static void send(TestInputTopic<byte[], byte[]> in, String person, float[] kp, long seq) {
        RecordHeaders h = new RecordHeaders();
        h.add(PersonRecord.H_FRAME_WIDTH, "1920".getBytes(StandardCharsets.UTF_8));
        h.add(PersonRecord.H_FRAME_HEIGHT, "1080".getBytes(StandardCharsets.UTF_8));
        in.pipeInput(new TestRecord<>(person.getBytes(StandardCharsets.UTF_8),
                new FeatureRecordSerde().serialize("t", new FeatureRecord("movenet-multipose-lightning@1.0.0", seq, kp)), h,
                1_700_000_000_000L + 100 * seq));
    }

    static Travel.State copy(Travel.State s) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(Travel.State.BYTES);
        s.write(b);
        b.flip();
        return Travel.State.read(b);
    }

    static double sum(float[] p) {
        double t = 0;
        for (float v : p) {
            t += v;
        }
        return t;
    }
}

package io.engram.engine.pipeline.pose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.refine.Labels;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import io.engram.engine.step.Outputs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fall rule of {@link PoseHead} on synthetic probabilities: upright, then fall_lying on top for
 * N frames in a row, is one fall event; N - 1 frames is none; and the rule's memory is the stream's
 * payload, so a state restored from its bytes mid-fall goes on to the same event. And the change
 * rule: a new top label held 3 frames is one event on the events topic; a flicker is none.
 */
class PoseHeadTest {
    static final ModelManifest MODEL = ModelManifest.load(Path.of("models/pose-activity/keypoint-gru.yaml"));
    static final int N = 3;

    /** Counts falls: the head counts each on the meters' activity changes. */
    static final class Falls implements PipelineMeters {
        int count;

        @Override
        public void stepped(long stepNanos) {}

        @Override
        public void deadLetter(BadInputException.Reason reason) {}

        @Override
        public void stateReset(String reason) {}

        @Override
        public void stateExpired() {}

        @Override
        public void anomaly() {}

        @Override
        public void activityChange() {}

        @Override
        public void fall() {
            count++;
        }

        @Override
        public void frameEncoded(long nanos) {}
    }

    static float[] top(String label) {
        float[] p = new float[MODEL.labels().size()];
        java.util.Arrays.fill(p, 0.3f / (p.length - 1));
        p[MODEL.labels().indexOf(label)] = 0.7f;
        return p;
    }

    static StreamState<PoseState> fresh() {
        return StreamState.fresh(MODEL.id(), MODEL.version(), MODEL.stateCompat(), MODEL.stateFloats(), new PoseState());
    }

    /** Feeds {@code labels} as top labels; returns the frames (0-based) at which a fall was announced. */
    static List<Integer> run(PoseHead head, Falls falls, StreamState<PoseState> s, List<String> labels, int from) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            int before = falls.count;
            head.output("cam-1/7", new PersonRecord(new FeatureRecord("movenet-multipose-lightning@1.0.0", from + i, new float[51]), 1),
                    1_000L * (from + i), s,
                    top(labels.get(i)), from + i, new Outputs());
            if (falls.count > before) {
                at.add(from + i);
            }
        }
        return at;
    }

    static List<String> seq(Object... parts) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < parts.length; i += 2) {
            for (int k = 0; k < (Integer) parts[i + 1]; k++) {
                l.add((String) parts[i]);
            }
        }
        return l;
    }

    @Test
    void uprightThenFallLyingHeldNFramesIsExactlyOneEvent() {
        Falls falls = new Falls();
        PoseHead head = new PoseHead(MODEL, 3, N, 10, falls);
        List<Integer> at = run(head, falls, fresh(), seq("walk", 5, "fall_lying", 20), 0);
        assertEquals(List.of(5 + N - 1), at, "one event, at the Nth fall_lying frame");
    }

    @Test
    void fallLyingHeldNMinus1FramesIsNoEvent() {
        Falls falls = new Falls();
        PoseHead head = new PoseHead(MODEL, 3, N, 10, falls);
        assertEquals(List.of(), run(head, falls, fresh(), seq("stand", 5, "fall_lying", N - 1, "stand", 5, "fall_lying", N - 1, "walk", 3), 0));
    }

    @Test
    void aSecondFallNeedsThePersonUprightAgainAndAFewTransitionFramesAreAllowed() {
        Falls falls = new Falls();
        PoseHead head = new PoseHead(MODEL, 3, N, 10, falls);
        List<Integer> at = run(head, falls, fresh(),
                seq("run", 3, "fall_lying", 4, "other", 1, "fall_lying", 5, "stand", 2, "sit_squat", 2, "fall_lying", 3), 0);
        // 0-2 run; 3-6 fall (event at 5); 7 other; 8-12 fall again, no upright in between: none; 13-14 stand;
        // 15-16 sit_squat (transition); 17-19 fall: event at 19
        assertEquals(List.of(5, 19), at);
    }

    @Test
    void lyingDownLongAfterTheLastUprightFrameIsNotAFall() {
        Falls falls = new Falls();
        PoseHead head = new PoseHead(MODEL, 3, N, 10, falls);
        assertEquals(List.of(), run(head, falls, fresh(), seq("stand", 2, "sit_squat", 30, "fall_lying", 10), 0));
        assertEquals(List.of(), run(head, falls, fresh(), seq("fall_lying", 10), 0), "lying from the first frame: never seen upright");
    }

    @Test
    void theRuleIsInThePayloadSoAStateRestoredMidFallGoesOnToTheSameEvent() {
        StateSerde<PoseState> serde = new StateSerde<>(new PoseCodec());
        Falls falls = new Falls();
        StreamState<PoseState> s = fresh();
        assertEquals(List.of(), run(new PoseHead(MODEL, 3, N, 10, falls), falls, s, seq("wave", 2, "fall_lying", N - 1), 0));
        StreamState<PoseState> back = serde.deserialize("t", serde.serialize("t", s));
        assertEquals(s.payload(), back.payload());
        // a new head (another task, after a restart) with the restored state
        assertEquals(List.of(2 + N - 1), run(new PoseHead(MODEL, 3, N, 10, falls), falls, back, seq("fall_lying", 3), 2 + N - 1));
        assertEquals(1, falls.count);
        assertEquals(-1, back.payload().upright, "announced: disarmed until upright again");
    }

    @Test
    void thePayloadsBytesAreTheDocumentedLayout() {
        PoseState p = new PoseState();
        p.lastSequence = 0x0102030405060708L;
        p.live = new Labels(5, 2, 4);
        p.upright = 1;
        p.sinceUpright = 3;
        p.fallRun = 2;
        p.travel.lastTime = 0x1112131415161718L;
        p.travel.hipX = 1f;
        p.travel.hipY = 2f;
        p.travel.lastTorso = 0.5f;
        p.travel.torso = 0.25f;
        p.travel.vx = -1f;
        p.travel.vy = 3f;
        p.travel.vScale = 4f;
        p.travel.observations = 3;
        StreamState<PoseState> s = new StreamState<>(MODEL.id(), MODEL.version(), MODEL.stateCompat(), 9, 1_000, new float[MODEL.stateFloats()], p);
        byte[] b = new StateSerde<>(new PoseCodec()).serialize("t", s);
        String tail = java.util.HexFormat.of().formatHex(b, b.length - 77, b.length);
        // payload version 4; long last sequence; int last label, run, announced, upright, since upright, fall run; the travel
        // measure: long last time, floats hip x, hip y, last torso, torso, vx, vy, v scale, int observations; int lag 0: no
        // window (docs/topics.md)
        assertEquals("04" + "0102030405060708" + "00000005" + "00000002" + "00000004" + "00000001" + "00000003" + "00000002"
                + "1112131415161718" + "3f800000" + "40000000" + "3f000000" + "3e800000" + "bf800000" + "40400000" + "40800000" + "00000003"
                + "00000000", tail);
        assertEquals(p, new StateSerde<>(new PoseCodec()).deserialize("t", b).payload());
    }

    /**
     * A version 3 payload with a window (before the travel gate), written by hand from the documented
     * layout: read as a person with no travel measure yet, then written as version 4, the same bytes
     * with the travel measure's 40 bytes (none: time -1) before the window.
     */
    @Test
    void aPayloadWithAWindowIsTheDocumentedLayout() {
        String head = "0000000000000007" + "00000001" + "00000004" + "00000001" + "00000000" + "00000002" + "00000000";
        String hex = "03" + head
                // window: lag 2, filled 2, F 2, H 1; before (F floats: 0.5, 0.25)
                + "00000002" + "00000002" + "00000002" + "00000001" + "3f000000" + "3e800000"
                // frame 6: seq, time, x (1.0, 2.0), h (-1.0); frame 7: seq, time, x (3.0, 4.0), h (0.5)
                + "0000000000000006" + "00000000000003e8" + "3f800000" + "40000000" + "bf800000"
                + "0000000000000007" + "00000000000007d0" + "40400000" + "40800000" + "3f000000"
                // the refined labels: last 1, run 2, announced -1
                + "00000001" + "00000002" + "ffffffff";
        byte[] bytes = java.util.HexFormat.of().parseHex(hex);
        PoseCodec codec = new PoseCodec();
        PoseState p = codec.read(java.nio.ByteBuffer.wrap(bytes));
        assertEquals(7, p.lastSequence);
        assertEquals(new Labels(1, 4, 1), p.live);
        assertEquals(2, p.window.lag());
        assertEquals(2, p.window.filled());
        assertEquals(new Labels(1, 2, -1), p.window.labels());
        assertEquals(new Travel.State(), p.travel, "no travel measure yet");
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(codec.size(p));
        codec.write(p, out);
        String none = "ffffffffffffffff" + "00000000".repeat(8);
        assertEquals("04" + head + none + hex.substring(2 + head.length()), java.util.HexFormat.of().formatHex(out.array()));
        assertEquals(p, codec.read(java.nio.ByteBuffer.wrap(out.array())));
    }

    @Test
    void aVersion2PayloadFromBeforeTheRefinerStaysReadableWithNoWindow() {
        // Payload version 2 (before the person refiner): version 3 without the window.
        byte[] v2 = java.util.HexFormat.of().parseHex("02" + "0102030405060708" + "00000005" + "00000002" + "00000004" + "00000001"
                + "00000003" + "00000002");
        PoseState p = new PoseCodec().read(java.nio.ByteBuffer.wrap(v2));
        assertEquals(0x0102030405060708L, p.lastSequence);
        assertEquals(new Labels(5, 2, 4), p.live);
        assertEquals(1, p.upright);
        assertEquals(3, p.sinceUpright);
        assertEquals(2, p.fallRun);
        assertTrue(!p.window.present(), "no window: refinement starts one at the person's next frame");
    }

    @Test
    void aVersion1PayloadFromBeforeTheEventsTopicStaysReadableWithNothingAnnounced() {
        // Payload version 1 (stop 24): long last sequence; int last label, run, upright, since upright, fall run.
        byte[] v1 = java.util.HexFormat.of().parseHex("01" + "0102030405060708" + "00000005" + "00000002" + "00000001" + "00000003"
                + "00000002");
        PoseState p = new PoseCodec().read(java.nio.ByteBuffer.wrap(v1));
        assertEquals(0x0102030405060708L, p.lastSequence);
        assertEquals(5, p.live.last());
        assertEquals(2, p.live.run());
        assertEquals(-1, p.live.announced());
        assertEquals(1, p.upright);
        assertEquals(3, p.sinceUpright);
        assertEquals(2, p.fallRun);
        assertTrue(!p.window.present());
    }

    @Test
    void aNewActivityHeldThreeFramesIsOneEventAndAFlickerIsNone() throws Exception {
        PoseHead head = new PoseHead(MODEL, 3, N, 10, PipelineMeters.NONE);
        StreamState<PoseState> s = fresh();
        List<String> labels = seq("stand", 4, "walk", 2, "stand", 1, "walk", 5, "wave", 1, "walk", 2);
        List<String> events = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            Outputs out = new Outputs();
            head.output("cam-1/7", new PersonRecord(new FeatureRecord("movenet-multipose-lightning@1.0.0", i, new float[51]), 1), 1_000L * i, s,
                    top(labels.get(i)), i, out);
            for (Object o : out.of(PoseHead.EVENTS)) {
                PersonEvent e = (PersonEvent) o;
                assertEquals("cam-1", e.camera());
                assertEquals(7, e.track());
                assertEquals(3, e.frames());
                events.add(e.frameSeq() + ":" + e.previousLabel() + "->" + e.label());
            }
        }
        // stand from frame 0, announced at 2; walk 4-5 and the stand at 6 flicker; walk from 7, announced at 9; wave at 12 flickers
        assertEquals(List.of("2:null->stand", "9:stand->walk"), events);
        StreamState<PoseState> back = new StateSerde<>(new PoseCodec()).deserialize("t", new StateSerde<>(new PoseCodec()).serialize("t", s));
        assertEquals(1, back.payload().live.announced(), "walk announced, kept in the payload");
    }

    @Test
    void aModelWithoutTheFallLabelIsRefusedAtBuild() {
        ModelManifest activity = ModelManifest.load(Path.of("models/activity/activity-gru.yaml"));
        ConfigException e = assertThrows(ConfigException.class, () -> PoseHead.type(activity, 3, N, 10, PipelineMeters.NONE));
        assertTrue(e.getMessage().contains("fall_lying"), e.getMessage());
    }
}

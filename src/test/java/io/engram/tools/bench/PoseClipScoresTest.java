package io.engram.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The clip rules, matrices and intervals on synthetic predictions (no video is read). */
class PoseClipScoresTest {
    @Test
    void parsesClipNames() {
        PoseClipScores.Clip c = PoseClipScores.Clip.parse("S003_F_WAVE_WLK_LFT.avi");
        assertEquals("S003_F_WAVE_WLK_LFT", c.name());
        assertEquals("S003", c.subject());
        assertEquals("WAVE", c.action());
        assertTrue(c.walking());
        assertTrue(c.waving());
        assertEquals("LFT", c.side());
        assertFalse(PoseClipScores.Clip.parse("S010_M_CALL_STD_FCE").walking());
        assertThrows(IllegalArgumentException.class, () -> PoseClipScores.Clip.parse("clip.avi"));
    }

    @Test
    void personIsTheTrackWithMostPredictionsTiesLowestId() {
        PoseClipScores.Tally t = new PoseClipScores.Tally();
        t.add(5, "walk").add(5, "walk").add(2, "stand").add(2, "stand").add(9, "wave");
        assertEquals(2, t.person());
        t.add(5, "run");
        assertEquals(5, t.person());
        assertEquals(3, t.tracks());
        assertEquals(-1, new PoseClipScores.Tally().person());
    }

    @Test
    void standWalkIsTheMajorityOfWalkAndRunAgainstStand() {
        PoseClipScores.Clip walk = PoseClipScores.Clip.parse("S001_M_COUG_WLK_FCE");
        PoseClipScores.Tally t = new PoseClipScores.Tally();
        t.add(1, "walk").add(1, "run").add(1, "stand").add(1, "stand").add(1, "wave").add(1, "wave");
        PoseClipScores.Scored tie = PoseClipScores.score(walk, 60, t);
        assertFalse(tie.decidedWalking(), "ties are standing");
        t.add(1, "run");
        assertTrue(PoseClipScores.score(walk, 60, t).decidedWalking());
        PoseClipScores.Scored none = PoseClipScores.score(walk, 60, new PoseClipScores.Tally());
        assertFalse(none.decidedWalking());
        assertEquals(0, none.waveShare());
        assertEquals(2.0 / 7, PoseClipScores.score(walk, 60, t).waveShare(), 1e-12);
    }

    @Test
    void confusionMatrixCountsAndAccuracy() {
        List<PoseClipScores.Scored> clips = new ArrayList<>();
        clips.add(scored("S001_M_CALL_WLK_FCE", "walk", 3, "stand", 1)); // TP
        clips.add(scored("S001_M_CALL_WLK_LFT", "stand", 3)); // FN
        clips.add(scored("S001_M_CALL_STD_FCE", "stand", 3)); // TN
        clips.add(scored("S001_M_CALL_STD_RGT", "run", 3)); // FP
        clips.add(scored("S001_M_DRIN_STD_RGT", "stand", 2, "wave", 2)); // TN
        BinaryConfusion c = PoseClipScores.standWalk(clips);
        assertEquals(new BinaryConfusion("walking", "standing", 1, 1, 1, 2), c);
        assertEquals(3.0 / 5, c.accuracy().p(), 1e-12);
        assertEquals(0.5, c.positiveRecall().p(), 1e-12);
        assertEquals(2.0 / 3, c.negativeRecall().p(), 1e-12);
        assertEquals((0.5 + 2.0 / 3) / 2, c.balancedAccuracy()[0], 1e-12);
        assertTrue(c.table().contains("walking"));
    }

    @Test
    void wilsonIntervalMatchesKnownValues() {
        // 8 of 10: Wilson 95% [0.490, 0.943].
        BinaryConfusion.Interval i = BinaryConfusion.wilson(8, 10);
        assertEquals(0.8, i.p(), 1e-12);
        assertEquals(0.4902, i.lo(), 1e-3);
        assertEquals(0.9433, i.hi(), 1e-3);
        BinaryConfusion.Interval all = BinaryConfusion.wilson(20, 20);
        assertEquals(1.0, all.hi(), 1e-12);
        assertEquals(0.8389, all.lo(), 1e-3);
        BinaryConfusion.Interval none = BinaryConfusion.wilson(0, 20);
        assertEquals(0.0, none.lo(), 1e-12);
        assertEquals(0.1611, none.hi(), 1e-3);
        assertTrue(Double.isNaN(BinaryConfusion.wilson(0, 0).p()));
        assertThrows(IllegalArgumentException.class, () -> BinaryConfusion.wilson(3, 2));
    }

    @Test
    void waveThresholdIsChosenLeaveOneSubjectOut() {
        // Wave clips have wave shares 0.4-0.6, others 0-0.1, for every subject but S003, whose wave
        // clips are at 0.05: the threshold chosen without S003 (0.1) misses them; the others are all right.
        List<PoseClipScores.Scored> clips = new ArrayList<>();
        for (String s : List.of("S001", "S002", "S003")) {
            double waveShare = s.equals("S003") ? 0.05 : 0.5;
            clips.add(share(s + "_M_WAVE_STD_FCE", waveShare));
            clips.add(share(s + "_M_WAVE_WLK_FCE", waveShare));
            for (String a : List.of("CALL", "COUG", "DRIN")) {
                clips.add(share(s + "_M_" + a + "_STD_FCE", 0.1));
            }
        }
        PoseClipScores.Loso l = PoseClipScores.leaveOneSubjectOut(clips);
        assertEquals(3, l.thresholdBySubject().size());
        assertTrue(l.thresholdBySubject().get("S003") >= 0.1 && l.thresholdBySubject().get("S003") < 0.5);
        BinaryConfusion c = l.confusion();
        assertEquals(15, c.total());
        assertEquals(9, c.tn());
        assertEquals(0, c.fp());
        assertEquals(4, c.tp());
        assertEquals(2, c.fn());
        // The decision is "share > threshold": at 0.05, the other actions' 0.1 counts, S003's 0.05 does not.
        BinaryConfusion at = PoseClipScores.wave(clips, 0.05);
        assertEquals(4, at.tp());
        assertEquals(9, at.fp());
    }

    private static PoseClipScores.Scored share(String name, double waveShare) {
        int wave = (int) Math.round(waveShare * 20);
        return scored(name, "wave", wave, "stand", 20 - wave);
    }

    private static PoseClipScores.Scored scored(String name, Object... labelCounts) {
        PoseClipScores.Tally t = new PoseClipScores.Tally();
        for (int i = 0; i < labelCounts.length; i += 2) {
            for (int k = 0; k < (Integer) labelCounts[i + 1]; k++) {
                t.add(1, (String) labelCounts[i]);
            }
        }
        return PoseClipScores.score(PoseClipScores.Clip.parse(name), 60, t);
    }
}

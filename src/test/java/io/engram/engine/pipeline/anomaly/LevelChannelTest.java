package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.NEWS;
import static io.engram.engine.pipeline.anomaly.ChannelKit.feed;
import static io.engram.engine.pipeline.anomaly.ChannelKit.min;
import static io.engram.engine.pipeline.anomaly.ChannelKit.noise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LevelChannelTest {
    final LevelChannel level = new LevelChannel(ScoringConfig.DEFAULTS);

    @Test
    void aSustainedLevelShiftIsNewsAndAOneReadingBlipOfTheSameSizeIsNot() {
        double[] x = noise(3000, 100, 3, 1);
        x[1500] += 15; // a blip of 5 sd
        for (int i = 2000; i < 3000; i++) {
            x[i] += 15; // the same size, sustained
        }
        double[] t = feed(level, ChannelKit.stream(ScoringConfig.DEFAULTS), x, 0, 3000);
        assertTrue(min(t, 300, 1500) > NEWS, "quiet: " + min(t, 300, 1500));
        assertTrue(min(t, 1500, 1510) > NEWS, "the blip is not news: " + min(t, 1500, 1510));
        assertTrue(t[1500] < t[1499], "though it moves the channel a little");
        assertTrue(min(t, 2000, 2010) <= NEWS, "the shift is news within 10 readings: " + min(t, 2000, 2010));
    }

    @Test
    void aStreamThatStaysAtItsNewLevelStopsBeingNews() {
        double[] x = noise(9000, 100, 3, 2);
        for (int i = 2000; i < 9000; i++) {
            x[i] += 15;
        }
        double[] t = feed(level, ChannelKit.stream(ScoringConfig.DEFAULTS), x, 0, 9000);
        assertTrue(min(t, 2000, 2100) <= NEWS);
        assertTrue(min(t, 8000, 9000) > NEWS / 2, "the baseline has moved to the new level: " + min(t, 8000, 9000));
    }

    @Test
    void bothTailsCountSoADropIsNewsToo() {
        double[] x = noise(2000, 100, 3, 3);
        for (int i = 1500; i < 2000; i++) {
            x[i] = 0;
        }
        double[] t = feed(level, ChannelKit.stream(ScoringConfig.DEFAULTS), x, 0, 2000);
        assertTrue(min(t, 1500, 1505) <= NEWS);
    }

    @Test
    void itIsWeightedByTheLevelWeight() {
        double[] x = noise(2000, 100, 3, 4);
        for (int i = 1500; i < 2000; i++) {
            x[i] += 6;
        }
        ScoringConfig d = ScoringConfig.DEFAULTS;
        ScoringConfig half = new ScoringConfig(d.shortAlpha(), d.longAlpha(), d.warmupSteps(), d.threshold(), d.suppressSteps(),
                d.rawClip(), d.levelWeight() / 2, d.channels(), d.seasonal(), d.routine(), d.shape(), d.stuck());
        double[] full = feed(level, ChannelKit.stream(d), x, 0, 2000);
        double[] halved = feed(new LevelChannel(half), ChannelKit.stream(half), x, 0, 2000);
        for (int i = 1500; i < 1600; i++) {
            assertEquals(full[i] / 2, halved[i], 1e-9 * Math.abs(full[i]), "reading " + i);
        }
        assertTrue(full[1510] < NEWS / 4, "and the shift does say something: " + full[1510]);
    }

    @Test
    void itJudgesEachValueOfAVectorAndARecordWithoutReadingsLeavesItAlone() {
        ForecastState s = ForecastState.fresh(3);
        double[] a = noise(2000, 10, 1, 5);
        double[] b = noise(2000, -50, 2, 6);
        double[] c = noise(2000, 1e4, 30, 7);
        double quiet = 0;
        double shifted = 0;
        for (int i = 0; i < 1510; i++) {
            double shift = i >= 1500 ? 200 : 0; // only the third value moves, by about 7 sd
            double t = level.score(s, new double[] {a[i], b[i], c[i] + shift}, 0);
            s.scored++;
            if (i >= 300 && i < 1500) {
                quiet = Math.min(quiet, t);
            } else if (i >= 1500) {
                shifted = Math.min(shifted, t);
            }
        }
        assertTrue(quiet > NEWS, "quiet: " + quiet);
        assertTrue(shifted <= NEWS, "one value of three shifting is news: " + shifted);
        assertEquals(2, level.component(s), "and it names the value that moved");
        ForecastState before = ChannelKit.roundTrip(s);
        assertEquals(0.0, level.score(s, null, 0));
        assertEquals(before, s, "no readings: untouched");
        assertEquals(72, level.stateBytes(s));
    }

    @Test
    void onAVectorStreamTheScorersLevelReasonNamesTheComponentThatMoved() {
        // Without the joint channel, which alerts on such independent noise now and then (JointChannelTest).
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS.without(ScoringConfig.Channel.JOINT));
        ForecastState s = ForecastState.fresh(3);
        VectorReading names = new VectorReading(null, new double[3], java.util.List.of("Flow", "Pressure", "Temperature"));
        double[] a = noise(1200, 30, 1, 9);
        double[] b = noise(1200, 2, 0.1, 10);
        double[] c = noise(1200, 70, 0.5, 11);
        java.util.List<String> reasons = null;
        for (int i = 0; i < 1200; i++) {
            double[] v = {a[i], b[i] + (i >= 1000 ? 1.0 : 0), c[i]}; // Pressure steps up by 10 sd
            AnomalyScorer.Score sc = scorer.score(s, i + 1, 1.0, v, ChannelKit.T0 + i * ChannelKit.STEP);
            if (sc.anomaly()) {
                assertTrue(i >= 1000, "quiet before the shift: alert at " + i);
                reasons = AnomalyScorer.reasonNames(sc.reasons(), sc.components(), names::name);
                break;
            }
        }
        assertEquals(java.util.List.of("level:Pressure"), reasons);
        assertEquals(java.util.List.of("level"), AnomalyScorer.reasonNames(AnomalyScorer.LEVEL), "one value: no component");
        assertEquals(AnomalyScorer.LEVEL, AnomalyScorer.reasonBit("level:Pressure"));
    }

    @Test
    void itsSliceRoundTripsAndItSaysLevel() {
        double[] x = noise(1500, 20, 1, 8);
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        feed(level, s, x, 0, 1000);
        assertTrue(s.levelVar[0] > 0);
        ChannelKit.assertRestoredStreamGoesOn(level, s, x, 1000, 1500);
        assertEquals("level", level.reason());
        assertEquals(ScoringConfig.Channel.LEVEL, level.key());
        assertEquals(AnomalyScorer.LEVEL, AnomalyScorer.reasonBit(level.reason()));
        assertFalse(level.needsMemory(), "it works for vectors: no memory of a one-value stream");
    }
}

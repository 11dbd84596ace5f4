package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.NEWS;
import static io.engram.engine.pipeline.anomaly.ChannelKit.feed;
import static io.engram.engine.pipeline.anomaly.ChannelKit.min;
import static io.engram.engine.pipeline.anomaly.ChannelKit.noise;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StuckChannelTest {
    final StuckChannel stuck = new StuckChannel(ScoringConfig.DEFAULTS);

    @Test
    void aVaryingStreamNeverSpeaks() {
        double[] t = feed(stuck, ChannelKit.stream(ScoringConfig.DEFAULTS), noise(3000, 5, 1, 1), 0, 3000);
        assertEquals(0.0, min(t, 0, 3000));
    }

    @Test
    void aRunOfIdenticalReadingsLongerThanMinStepsIsNewsAndGrowsWithItsLength() {
        double[] x = noise(1000, 5, 1, 2);
        for (int i = 500; i < 600; i++) {
            x[i] = 7.25;
        }
        double[] t = feed(stuck, ChannelKit.stream(ScoringConfig.DEFAULTS), x, 0, 1000);
        // The run's 20th reading is still within min_steps (20), the 21st is past it: one score scale and a bit.
        assertEquals(0.0, t[519]);
        assertEquals(NEWS * 21 / 20, t[520], 1e-12);
        for (int i = 521; i < 600; i++) {
            assertTrue(t[i] < t[i - 1], "rarer the longer it lasts, at " + i);
        }
        assertEquals(0.0, t[600], "a new reading ends the run");
    }

    @Test
    void aStreamWhoseRepeatsAreLongIsJudgedByItsLongestEarlierRun() {
        double[] x = noise(3000, 5, 1, 3);
        for (int i = 500; i < 560; i++) {
            x[i] = 1.0; // an earlier run of 60
        }
        for (int i = 2000; i < 2100; i++) {
            x[i] = 2.0;
        }
        double[] t = feed(stuck, ChannelKit.stream(ScoringConfig.DEFAULTS), x, 0, 3000);
        assertTrue(min(t, 500, 560) < 0, "the first long run is news");
        assertEquals(0.0, min(t, 2000, 2090), "a run of up to 1.5 x 60 readings is not news any more");
        assertTrue(t[2090] < 0, "the 91st reading is");
    }

    @Test
    void onAStreamOfSeveralValuesItWatchesEachAndNamesTheOneThatIsStuck() {
        ForecastState s = ForecastState.fresh(3);
        double[] a = noise(1000, 5, 1, 5);
        double[] b = noise(1000, 50, 2, 6);
        double t = 0;
        double before = 0;
        for (int i = 0; i < 1000; i++) {
            // value 2 is a constant (it never changed: not stuck); value 1 sticks from reading 700
            double[] v = {a[i], i >= 700 ? 51.5 : b[i], 7.0};
            t = stuck.score(s, v, 0);
            s.scored++;
            if (i < 720) {
                before = Math.min(before, t);
            }
            if (i == 721) {
                assertEquals(1, stuck.component(s), "the stuck value");
            }
        }
        assertEquals(0.0, before, "no run past min_steps before 720, and the constant is no news");
        assertTrue(t <= NEWS * 250 / 20, "a run of 300 readings, 15 times min_steps: " + t);
        assertEquals(1, stuck.component(s));
        assertEquals(72, stuck.stateBytes(s));
        ForecastState back = ChannelKit.roundTrip(s);
        assertEquals(s, back, "the runs are stored");
        assertEquals(0.0, stuck.score(s, null, 0), "no readings: no evidence");
    }

    @Test
    void itsSliceRoundTripsMidRunAndItSaysStuck() {
        double[] x = noise(400, 5, 1, 4);
        for (int i = 180; i < 400; i++) {
            x[i] = 3.0;
        }
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        feed(stuck, s, x, 0, 200);
        assertEquals(20, s.memory.run);
        ChannelKit.assertRestoredStreamGoesOn(stuck, s, x, 200, 400);
        assertEquals(220, s.memory.run, "the run went on across the restore");
        assertEquals("stuck", stuck.reason());
        assertEquals(ScoringConfig.Channel.STUCK, stuck.key());
        assertEquals(AnomalyScorer.STUCK, AnomalyScorer.reasonBit(stuck.reason()));
        assertEquals(24, stuck.stateBytes(s));
        assertTrue(stuck.needsMemory());
    }
}

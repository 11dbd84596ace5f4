package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AnomalyScorerTest {
    /** A stream as the scorer sees it: the head's fields and the step count the core keeps. */
    static final class Stream {
        final ForecastState f;
        long steps;

        Stream(int channels) {
            f = ForecastState.fresh(channels);
        }
    }

    private static final ScoringConfig CFG = new ScoringConfig(0.2, 0.001, 300, 0.5, 300, 20.0, 0.8);

    /** Feeds raw scores the way the processor does (steps counted first) and returns the outcomes. */
    private static AnomalyScorer.Score[] feed(AnomalyScorer scorer, Stream s, double[] raws) {
        AnomalyScorer.Score[] out = new AnomalyScorer.Score[raws.length];
        for (int i = 0; i < raws.length; i++) {
            s.steps++;
            out[i] = scorer.score(s.f, s.steps, raws[i]);
        }
        return out;
    }

    private static double[] noise(int n, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = Math.abs(r.nextGaussian()) * scale;
        return d;
    }

    @Test
    void upperTailMatchesKnownNormalQuantiles() {
        assertEquals(0.5, AnomalyScorer.upperTail(0), 1e-7);
        assertEquals(0.0227501, AnomalyScorer.upperTail(2), 1e-6);
        assertEquals(2.8665e-7, AnomalyScorer.upperTail(5), 1e-9);
        assertEquals(0.9772499, AnomalyScorer.upperTail(-2), 1e-6);
    }

    @Test
    void aSpikeAfterWarmupAlertsOnceAndQuietDataDoesNot() {
        AnomalyScorer scorer = new AnomalyScorer(CFG);
        Stream s = new Stream(1);
        s.steps = 1;
        double[] raws = noise(1000, 0.8, 1);
        for (int i = 600; i < 606; i++) raws[i] = 12.0;
        AnomalyScorer.Score[] out = feed(scorer, s, raws);
        int alerts = 0;
        for (int i = 0; i < out.length; i++) {
            if (out[i].anomaly()) {
                alerts++;
                assertTrue(i >= 600 && i < 620, "alert at " + i + " is not at the spike");
            }
        }
        assertEquals(1, alerts, "one incident gives one alert");
        assertTrue(out[601].score() > 0.9, "score in the spike: " + out[601].score());
        for (int i = 350; i < 590; i++) {
            assertTrue(out[i].score() < CFG.threshold(), "no alert level on noise at " + i + ": " + out[i].score());
        }
    }

    @Test
    void noAlertDuringWarmupEvenForAHugeError() {
        AnomalyScorer scorer = new AnomalyScorer(CFG);
        Stream s = new Stream(1);
        double[] raws = noise(300, 0.5, 2);
        raws[200] = 20;
        for (AnomalyScorer.Score sc : feed(scorer, s, raws)) {
            assertFalse(sc.anomaly());
        }
    }

    @Test
    void theLikelihoodAdaptsToEachStreamsOwnErrorLevel() {
        // A stream whose errors are always large is not anomalous for being large; a step up is.
        AnomalyScorer scorer = new AnomalyScorer(CFG);
        Stream noisy = new Stream(1);
        AnomalyScorer.Score[] out = feed(scorer, noisy, noise(800, 5.0, 3));
        double max = 0;
        for (int i = 400; i < 800; i++) max = Math.max(max, out[i].score());
        assertTrue(max < CFG.threshold(), "steady large errors stay below the alert level: " + max);
    }

    @Test
    void aSecondIncidentAfterAQuietSuppressionWindowAlertsAgain() {
        AnomalyScorer scorer = new AnomalyScorer(new ScoringConfig(0.2, 0.001, 10, 0.5, 100, 20.0, 0.8));
        Stream s = new Stream(1);
        double[] raws = noise(1200, 0.5, 4);
        raws[400] = 15.0;
        raws[450] = 15.0; // same incident: within 100 steps of the last high score
        raws[900] = 15.0; // a new incident
        AnomalyScorer.Score[] out = feed(scorer, s, raws);
        java.util.List<Integer> alerts = new java.util.ArrayList<>();
        for (int i = 0; i < out.length; i++) if (out[i].anomaly()) alerts.add(i);
        assertEquals(java.util.List.of(400, 900), alerts);
    }

    /**
     * Feeds readings and the raw scores a one-step forecaster would give them: it follows the series
     * with one step of lag, so its error is the step-to-step change in units of the noise.
     */
    private static AnomalyScorer.Score[] feedReadings(AnomalyScorer scorer, Stream s, double[] values, double noise) {
        AnomalyScorer.Score[] out = new AnomalyScorer.Score[values.length];
        for (int i = 0; i < values.length; i++) {
            s.steps++;
            double raw = i == 0 ? 0 : Math.abs(values[i] - values[i - 1]) / noise;
            out[i] = scorer.score(s.f, s.steps, raw, new double[] {values[i]});
        }
        return out;
    }

    private static double[] noisyLevel(int n, double level, double noise, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = level + noise * r.nextGaussian();
        return v;
    }

    @Test
    void aLevelShiftThatTheForecastErrorMissesIsDetectedByTheLevelSignal() {
        // A ramp to a new level, 0.3 noise-sigmas per step: the one-step forecast error never stands
        // out from the noise, but after ~30 steps the stream sits 8 sigmas above anywhere it has been.
        double[] v = noisyLevel(1200, 10.0, 1.0, 5);
        for (int i = 700; i < v.length; i++) v[i] += Math.min(8.0, 0.3 * (i - 700));
        AnomalyScorer.Score[] with = feedReadings(new AnomalyScorer(CFG), new Stream(1), v, 1.0);
        ScoringConfig off = new ScoringConfig(0.2, 0.001, 300, 0.5, 300, 20.0, 0.0);
        AnomalyScorer.Score[] without = feedReadings(new AnomalyScorer(off), new Stream(1), v, 1.0);
        int first = -1;
        for (int i = 0; i < with.length; i++) {
            if (with[i].anomaly()) {
                assertTrue(first < 0, "one incident, one alert; second alert at " + i);
                first = i;
            }
            assertFalse(without[i].anomaly(), "the forecast error alone does not see the ramp (alert at " + i + ")");
        }
        assertTrue(first >= 700 && first < 760, "level shift alert at " + first);
    }

    @Test
    void aSteadyNoisyStreamDoesNotTripTheLevelSignal() {
        // Wide noise around a fixed level, and a slow drift far inside the noise: no alert anywhere.
        double[] v = noisyLevel(4000, 50.0, 5.0, 6);
        for (int i = 0; i < v.length; i++) v[i] += 2.0 * Math.sin(i / 500.0);
        AnomalyScorer.Score[] out = feedReadings(new AnomalyScorer(CFG), new Stream(1), v, 5.0);
        for (int i = 0; i < out.length; i++) {
            assertFalse(out[i].anomaly(), "alert on steady noise at " + i + ": " + out[i].score());
        }
    }

    @Test
    void theLevelSignalTakesTheWorstChannelWithoutLookingAhead() {
        // Two channels, a shift in the second only; the score at a step must not depend on later readings.
        AnomalyScorer scorer = new AnomalyScorer(CFG);
        double[] a = noisyLevel(900, 0.0, 1.0, 7);
        double[] b = noisyLevel(900, 100.0, 1.0, 8);
        for (int i = 700; i < b.length; i++) b[i] += 10.0;
        Stream s1 = new Stream(2);
        Stream s2 = new Stream(2);
        double[] scores = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            s1.steps++;
            scores[i] = scorer.score(s1.f, s1.steps, 0.5, new double[] {a[i], b[i]}).score();
        }
        assertTrue(scores[702] >= CFG.threshold(), "shift in one channel: " + scores[702]);
        for (int i = 0; i < 700; i++) {
            // Replaying only the prefix gives the same scores: nothing after step i was used.
            s2.steps++;
            assertEquals(scores[i], scorer.score(s2.f, s2.steps, 0.5, new double[] {a[i], b[i]}).score(), 0.0, "step " + i);
        }
    }

    @Test
    void theScoreNeverSaturatesSoStrongerAnomaliesScoreHigher() {
        double a = AnomalyScorer.scoreOf(AnomalyScorer.logUpperTail(8));
        double b = AnomalyScorer.scoreOf(AnomalyScorer.logUpperTail(30));
        assertTrue(b > a && b < 1.0, a + " " + b);
        assertEquals(0.5, AnomalyScorer.scoreOf(Math.log(1e-6)), 1e-12, "one in a million scores 0.5");
    }
}

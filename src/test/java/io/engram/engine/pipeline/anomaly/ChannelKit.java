package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.util.SplittableRandom;

/**
 * Drives one {@link ScoreChannel} the way {@link AnomalyScorer} does, without the others: a
 * one-value stream just past its startup steps, one reading every 5 minutes from a Monday midnight
 * UTC, {@code s.scored} counted after each record.
 */
final class ChannelKit {
    static final long T0 = 1_767_571_200_000L; // 2026-01-05T00:00Z, a Monday
    static final long STEP = 300_000L;
    static final int DAY = 288;
    /** A log tail at or below this scores 0.5 on its own: the default threshold, where a channel gives its reason. */
    static final double NEWS = -AnomalyScorer.LN10 * AnomalyScorer.HALF_SCORE_DECADES;

    private ChannelKit() {}

    /** A fresh one-value stream with the memory that {@code cfg} sizes, as the scorer makes it. */
    static ForecastState stream(ScoringConfig cfg) {
        ForecastState f = ForecastState.fresh(1);
        f.memory = ForecastState.Memory.fresh(cfg.seasonal().bins(), ShapeChannel.WORDS, cfg.routine().memory());
        return f;
    }

    /** Scores readings {@code x[from..to)} at their times with {@code c} alone; returns the log tails. */
    static double[] feed(ScoreChannel c, ForecastState s, double[] x, int from, int to) {
        double[] out = new double[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = c.score(s, new double[] {x[i]}, T0 + i * STEP);
            s.scored++;
        }
        return out;
    }

    static double[] noise(int n, double mean, double sd, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = mean + sd * r.nextGaussian();
        }
        return x;
    }

    static double min(double[] a, int from, int to) {
        double m = 0;
        for (int i = from; i < to; i++) {
            m = Math.min(m, a[i]);
        }
        return m;
    }

    /** {@code s} through the stored state's bytes and back. */
    static ForecastState roundTrip(ForecastState s) {
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        byte[] bytes = serde.serialize("t", new StreamState<>("m", "1", "c", s.scored, T0, new float[1], s));
        return serde.deserialize("t", bytes).payload();
    }

    /**
     * Stores and restores {@code s}: every field comes back, and the restored stream goes on exactly
     * as the one that never stopped over readings {@code x[from..to)}.
     */
    static void assertRestoredStreamGoesOn(ScoreChannel c, ForecastState s, double[] x, int from, int to) {
        ForecastState back = roundTrip(s);
        assertEquals(s, back, "every field comes back");
        assertArrayEquals(feed(c, s, x, from, to), feed(c, back, x, from, to), "the same log tails after the restore");
        assertEquals(s, back, "and the same state");
    }
}

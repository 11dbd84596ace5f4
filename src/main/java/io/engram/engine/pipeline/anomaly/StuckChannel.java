package io.engram.engine.pipeline.anomaly;

/**
 * The stuck channel: a run of identical readings longer than {@code scoring.stuck.factor} times the
 * longest earlier run (and than {@code min_steps}) is news, the more so the longer it lasts. Catches
 * a stuck sensor and a dropout to a constant, which the forecast channel learns to predict within a
 * few steps. Reason {@code stuck}.
 *
 * <p>Its slice, in {@link ForecastState.Memory}: {@code lastValue}, {@code run}, {@code maxRun}, 24
 * bytes. The scorer sets {@code lastValue} during the startup steps too, so that the first scored
 * reading continues the run it belongs to.
 *
 * <p>On a stream of several values it watches each value ({@link ForecastState#stuckLast}, 24 bytes a
 * value, started at the first scored reading), and its reason names the value whose run is the
 * rarest ({@code stuck:<component>}). There a value that has never changed is a constant, not a
 * stuck sensor: it speaks only once the value's run has broken at least once.
 */
final class StuckChannel implements ScoreChannel {
    private final ScoringConfig.Stuck cfg;

    StuckChannel(ScoringConfig config) {
        this.cfg = config.stuck();
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.STUCK;
    }

    @Override
    public boolean needsMemory() {
        return true;
    }

    @Override
    public boolean scoresVectors() {
        return true;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return s.channels() == 1 ? 24 : 24 * s.channels();
    }

    @Override
    public int component(ForecastState s) {
        return s.stuckTop;
    }

    /** A run of {@code ref} readings is worth one score scale ({@code 10^-6}); the rarity grows with the run's length. */
    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        if (values == null) {
            return 0.0;
        }
        if (values.length > 1) {
            return scoreEach(s, values);
        }
        ForecastState.Memory m = s.memory;
        double x = values[0];
        if (x == m.lastValue) {
            m.run++;
        } else {
            m.maxRun = Math.max(m.maxRun, m.run);
            m.run = 1;
        }
        m.lastValue = x;
        double ref = Math.max(m.maxRun * cfg.factor(), cfg.minSteps());
        return m.run > ref ? -AnomalyScorer.LN10 * AnomalyScorer.HALF_SCORE_DECADES * (m.run / ref) : 0.0;
    }

    /** Each value's run as above (for a value whose run has broken before); the rarest speaks. */
    private double scoreEach(ForecastState s, double[] values) {
        int n = values.length;
        s.stuckTop = -1;
        if (s.stuckLast == null || s.stuckLast.length != n) {
            s.stuckLast = values.clone();
            s.stuckRun = new long[n];
            s.stuckMaxRun = new long[n];
            java.util.Arrays.fill(s.stuckRun, 1);
            return 0.0;
        }
        double worst = 1.0;
        for (int c = 0; c < n; c++) {
            if (values[c] == s.stuckLast[c]) {
                s.stuckRun[c]++;
            } else {
                s.stuckMaxRun[c] = Math.max(s.stuckMaxRun[c], s.stuckRun[c]);
                s.stuckRun[c] = 1;
            }
            s.stuckLast[c] = values[c];
            double ratio = s.stuckRun[c] / Math.max(s.stuckMaxRun[c] * cfg.factor(), cfg.minSteps());
            if (s.stuckMaxRun[c] > 0 && ratio > worst) {
                worst = ratio;
                s.stuckTop = c;
            }
        }
        return s.stuckTop < 0 ? 0.0 : -AnomalyScorer.LN10 * AnomalyScorer.HALF_SCORE_DECADES * worst;
    }
}

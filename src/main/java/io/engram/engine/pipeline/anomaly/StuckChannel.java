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
    public int stateBytes(ForecastState s) {
        return 24;
    }

    /** A run of {@code ref} readings is worth one score scale ({@code 10^-6}); the rarity grows with the run's length. */
    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
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
}

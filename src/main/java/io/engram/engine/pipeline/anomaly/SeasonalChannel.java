package io.engram.engine.pipeline.anomaly;

/**
 * The seasonal channel: the reading against its time-of-day bin's mean, standardised by the pooled
 * residual spread, averaged over the short window (a changed daily shape lasts). It speaks only once
 * every bin has been seen twice and while the profile explains at least {@code scoring.seasonal.gate}
 * of the stream's variance, so that a stream without a daily shape is judged by the other channels.
 * Reason {@code seasonal}.
 *
 * <p>Its slice, in {@link ForecastState.Memory}: the profile ({@code binMean}, {@code binCount},
 * {@code binsReady}) and the stream's and residual's statistics ({@code globalMean},
 * {@code globalVar}, {@code residualVar}, {@code residualShort}): 40 + 6 bytes per bin.
 */
final class SeasonalChannel implements ScoreChannel {
    private static final long DAY_MS = 86_400_000L;
    /**
     * Floor of the residual spread, relative to the readings' scale: above the rounding of the float
     * profile (~1e-7 of the readings' scale), so a perfectly periodic stream does not turn rounding into news.
     */
    private static final double MIN_REL_STD = 1e-6;

    private final ScoringConfig config;

    SeasonalChannel(ScoringConfig config) {
        this.config = config;
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.SEASONAL;
    }

    @Override
    public boolean needsMemory() {
        return true;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return 4 + 6 * s.memory.binMean.length + 4 + 32;
    }

    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        ForecastState.Memory m = s.memory;
        double x = values[0];
        ScoringConfig.Seasonal cfg = config.seasonal();
        int bins = m.binMean.length;
        int b = (int) (Math.floorMod(eventTime, DAY_MS) * bins / DAY_MS);
        double a = Math.max(1.0 / (s.scored + 1), config.longAlpha());
        if (s.scored == 0) {
            m.globalMean = x;
            m.globalVar = 0.0;
        } else {
            double d = x - m.globalMean;
            m.globalMean += a * d;
            m.globalVar = (1 - a) * (m.globalVar + a * d * d);
        }
        double res;
        if (m.binCount[b] == 0) {
            m.binMean[b] = (float) x;
            res = 0.0;
        } else {
            res = x - m.binMean[b];
        }
        double r2 = res * res;
        m.residualVar = s.scored == 0 ? r2 : m.residualVar + a * (r2 - m.residualVar);
        double explained = m.globalVar > 0 ? 1.0 - m.residualVar / m.globalVar : 0.0;
        double logTail = 0.0;
        if (m.binsReady == bins && explained >= cfg.gate()) {
            double z = res / Math.max(Math.sqrt(m.residualVar), MIN_REL_STD * (Math.abs(m.globalMean) + Math.sqrt(m.globalVar)));
            double sa = config.shortAlpha();
            m.residualShort += sa * (z - m.residualShort);
            // The short average of unit white noise has spread sqrt(sa / (2 - sa)).
            logTail = cfg.weight() * Math.min(0.0, AnomalyScorer.logUpperTail(Math.abs(m.residualShort) / Math.sqrt(sa / (2 - sa))));
        } else {
            m.residualShort = 0.0;
        }
        if (m.binCount[b] > 0) {
            double ab = Math.max(1.0 / (m.binCount[b] + 1), cfg.alpha());
            m.binMean[b] = (float) (m.binMean[b] + ab * res);
        }
        if (m.binCount[b] < Short.MAX_VALUE) {
            m.binCount[b]++;
            if (m.binCount[b] == 2) {
                m.binsReady++;
            }
        }
        return logTail;
    }
}

package io.engram.pipeline.forecast;

/**
 * The forecaster head's per-stream fields, behind the common state header: per channel, the
 * preprocessing statistics and the last forecast; the anomaly scorer's statistics. Owned by the
 * head for one record at a time; written by {@link ForecastHead} and {@link AnomalyScorer} only.
 * Binary layout: {@link ForecastCodec}.
 */
public final class ForecastState {
    /** Per channel: running mean of the readings. */
    double[] mean;
    /** Per channel: running variance of the readings. */
    double[] var;
    /** Per channel: the model's forecast of the next reading, in the stream's units. */
    double[] forecast;
    /** Scorer: short exponential average of the raw score. */
    double shortAvg;
    /** Scorer: long-run mean of {@link #shortAvg}. */
    double longMean;
    /** Scorer: long-run variance of {@link #shortAvg}. */
    double longVar;
    /** Scorer: steps that fed the long-run statistics. */
    long scored;
    /** Scorer: step of the last alert, or -1. */
    long lastAlertStep = -1;
    /** Scorer: last step whose score reached the alert threshold, or -1 (for repeat suppression). */
    long lastAboveStep = -1;
    /** Scorer, level signal, per channel: short exponential average of the reading. */
    double[] levelShort;
    /** Scorer, level signal, per channel: long-run mean of {@link #levelShort}. */
    double[] levelMean;
    /** Scorer, level signal, per channel: long-run variance of {@link #levelShort}. */
    double[] levelVar;

    static ForecastState fresh(int channels) {
        ForecastState f = new ForecastState();
        f.mean = new double[channels];
        f.var = new double[channels];
        f.forecast = new double[channels];
        f.levelShort = new double[channels];
        f.levelMean = new double[channels];
        f.levelVar = new double[channels];
        return f;
    }

    public int channels() {
        return mean.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ForecastState s && java.util.Arrays.equals(mean, s.mean) && java.util.Arrays.equals(var, s.var)
                && java.util.Arrays.equals(forecast, s.forecast)
                && Double.compare(shortAvg, s.shortAvg) == 0 && Double.compare(longMean, s.longMean) == 0
                && Double.compare(longVar, s.longVar) == 0 && scored == s.scored
                && lastAlertStep == s.lastAlertStep && lastAboveStep == s.lastAboveStep
                && java.util.Arrays.equals(levelShort, s.levelShort) && java.util.Arrays.equals(levelMean, s.levelMean)
                && java.util.Arrays.equals(levelVar, s.levelVar);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(mean) * 31 + Long.hashCode(scored);
    }

    @Override
    public String toString() {
        return "ForecastState{channels=" + channels() + ", scored=" + scored + "}";
    }
}

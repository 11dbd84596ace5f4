package io.engram.state;

import java.util.Arrays;

/**
 * Everything Engram keeps for one stream between two records: the model's recurrent state, the
 * preprocessing statistics, the last forecast, the anomaly scorer's statistics, and which model
 * this state belongs to. Mutable and owned by the one processor that fetched it from the store for
 * the duration of one record; it is written back before the next record of the stream is read.
 * Serialised by {@link StreamStateSerde} in a versioned binary format.
 */
public final class StreamState implements StoredState {
    @Override
    public long steps() {
        return steps;
    }

    @Override
    public long lastEventTime() {
        return lastEventTime;
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public String modelVersion() {
        return modelVersion;
    }

    public String modelId;
    public String modelVersion;
    /** Models with equal non-empty compat strings can take over each other's hidden state. */
    public String stateCompat;
    /** Records stepped so far. */
    public long steps;
    /** Event time (ms) of the last stepped record. */
    public long lastEventTime;
    /** Per channel: running mean of the readings. */
    public double[] mean;
    /** Per channel: running variance of the readings. */
    public double[] var;
    /** Per channel: the model's forecast of the next reading, in the sensor's units. */
    public double[] forecast;
    /** All state pairs of the model, concatenated in manifest order. */
    public float[] hidden;
    /** Scorer: short exponential average of the raw score. */
    public double shortAvg;
    /** Scorer: long-run mean of {@link #shortAvg}. */
    public double longMean;
    /** Scorer: long-run variance of {@link #shortAvg}. */
    public double longVar;
    /** Scorer: steps that fed the long-run statistics. */
    public long scored;
    /** Scorer, level signal, per channel: short exponential average of the reading. */
    public double[] levelShort;
    /** Scorer, level signal, per channel: long-run mean of {@link #levelShort}. */
    public double[] levelMean;
    /** Scorer, level signal, per channel: long-run variance of {@link #levelShort}. */
    public double[] levelVar;
    /** Step of the last alert, or -1. */
    public long lastAlertStep = -1;
    /** Last step whose score reached the alert threshold, or -1 (for repeat suppression). */
    public long lastAboveStep = -1;

    public static StreamState fresh(String modelId, String modelVersion, String stateCompat, int channels, int stateFloats) {
        StreamState s = new StreamState();
        s.modelId = modelId;
        s.modelVersion = modelVersion;
        s.stateCompat = stateCompat;
        s.lastEventTime = Long.MIN_VALUE;
        s.mean = new double[channels];
        s.var = new double[channels];
        s.forecast = new double[channels];
        s.hidden = new float[stateFloats];
        s.levelShort = new double[channels];
        s.levelMean = new double[channels];
        s.levelVar = new double[channels];
        return s;
    }

    public int channels() {
        return mean.length;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof StreamState s)) {
            return false;
        }
        return modelId.equals(s.modelId) && modelVersion.equals(s.modelVersion) && stateCompat.equals(s.stateCompat)
                && steps == s.steps && lastEventTime == s.lastEventTime
                && Arrays.equals(mean, s.mean) && Arrays.equals(var, s.var) && Arrays.equals(forecast, s.forecast)
                && Arrays.equals(hidden, s.hidden)
                && Double.compare(shortAvg, s.shortAvg) == 0 && Double.compare(longMean, s.longMean) == 0
                && Double.compare(longVar, s.longVar) == 0 && scored == s.scored
                && Arrays.equals(levelShort, s.levelShort) && Arrays.equals(levelMean, s.levelMean)
                && Arrays.equals(levelVar, s.levelVar)
                && lastAlertStep == s.lastAlertStep && lastAboveStep == s.lastAboveStep;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(steps) * 31 + modelId.hashCode();
    }

    @Override
    public String toString() {
        return "StreamState{model=" + modelId + "@" + modelVersion + ", steps=" + steps + ", channels=" + channels()
                + ", hidden=" + hidden.length + "}";
    }
}

package io.engram.engine.pipeline.anomaly;

/**
 * The forecaster head's per-stream fields, behind the common state header: per channel, the
 * preprocessing statistics and the last forecast; the anomaly scorer's statistics. Owned by the
 * head for one record at a time; written by {@link ForecastHead}, {@link AnomalyScorer} and the
 * scorer's channels ({@link ScoreChannel}), each channel only its own slice.
 * Binary layout: {@link ForecastCodec}.
 */
public final class ForecastState implements io.engram.engine.state.StateSummary {
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
    /**
     * Level channel, for the record being scored only (not stored): the component with the largest
     * |z|, which its reason names, or -1.
     */
    int levelTop = -1;
    /**
     * Stuck channel, streams of several values only (else null; null until the channel first sees
     * the stream): per value, the last reading, the current run of identical readings and the longest
     * earlier run. A one-value stream keeps these in its {@link Memory}.
     */
    double[] stuckLast;
    long[] stuckRun;
    long[] stuckMaxRun;
    /** Stuck channel, for the record being scored only (not stored): the value whose run its reason names, or -1. */
    int stuckTop = -1;
    /**
     * Joint channel, streams of several values only (else null; null until the channel first sees the
     * stream): the short average of the vector, that average's long-run mean and covariance (the upper
     * triangle, row by row: C(C+1)/2 values), and the records they have seen.
     */
    double[] jointShort;
    double[] jointMean;
    double[] jointCov;
    long jointCount;
    /**
     * Joint channel: the stream's own distribution of the distance, a histogram of its log (weights
     * summing to 1 once it has seen a record, {@link JointChannel#BINS} bins; null until the channel
     * first sees the stream), and the records it has seen.
     */
    double[] jointHist;
    long jointDistCount;
    /** Joint channel, for the record being scored only (not stored): the component contributing most to the distance, or -1. */
    int jointTop = -1;

    /**
     * The memory beyond one step of a one-value stream (seasonal profile, word counts, runs of
     * repeats, incident times): null for streams of several values, which these channels do not score.
     */
    Memory memory;

    /**
     * Per-stream memory of the {@link SeasonalChannel seasonal}, {@link ShapeChannel shape},
     * {@link StuckChannel stuck} and {@link RoutineChannel routine} channels, one slice each.
     * About 1 KB in the default configuration (96 profile bins, 64 words, 16 incidents); its size
     * follows the scoring configuration, and a stored memory whose sizes differ from the
     * configuration's is started afresh (see {@link AnomalyScorer#fits}).
     */
    static final class Memory {
        /** Seasonal: mean reading per time-of-day bin (float: it is a profile, not an accumulator). */
        float[] binMean;
        /** Seasonal: readings seen per bin, saturating at Short.MAX_VALUE. */
        short[] binCount;
        /** Seasonal: bins seen at least twice (the profile speaks when all are). */
        int binsReady;
        /** Seasonal: long-run mean and variance of the readings, and of the residual from the profile. */
        double globalMean;
        double globalVar;
        double residualVar;
        /** Seasonal: short average of the standardised residual. */
        double residualShort;
        /** Shape: decayed word counts, in units of {@link #wordScale}. */
        float[] words;
        /** Shape: the decay is applied by growing the unit of new counts; renormalised before it overflows. */
        double wordScale = 1.0;
        /** Shape: decayed number of words counted. */
        double wordTotal;
        /** Shape: long-run mean and variance of the readings, for the level letter of a word. */
        double wordMean;
        double wordVar;
        /** Stuck: the previous reading, the current run of identical readings, the longest earlier run. */
        double lastValue = Double.NaN;
        long run = 1;
        long maxRun;
        /** Routine: start of each remembered incident, in minutes since the epoch (event time); a ring. */
        int[] incidents;
        /** Routine: incidents recorded so far (the ring's next slot is incidentCount % incidents.length). */
        long incidentCount;

        static Memory fresh(int bins, int words, int incidents) {
            Memory m = new Memory();
            m.binMean = new float[bins];
            m.binCount = new short[bins];
            m.words = new float[words];
            m.incidents = new int[incidents];
            return m;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Memory m && java.util.Arrays.equals(binMean, m.binMean) && java.util.Arrays.equals(binCount, m.binCount)
                    && binsReady == m.binsReady && Double.compare(globalMean, m.globalMean) == 0
                    && Double.compare(globalVar, m.globalVar) == 0 && Double.compare(residualVar, m.residualVar) == 0
                    && Double.compare(residualShort, m.residualShort) == 0 && java.util.Arrays.equals(words, m.words)
                    && Double.compare(wordScale, m.wordScale) == 0 && Double.compare(wordTotal, m.wordTotal) == 0
                    && Double.compare(wordMean, m.wordMean) == 0 && Double.compare(wordVar, m.wordVar) == 0
                    && Double.compare(lastValue, m.lastValue) == 0 && run == m.run && maxRun == m.maxRun
                    && java.util.Arrays.equals(incidents, m.incidents) && incidentCount == m.incidentCount;
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(binMean) * 31 + Long.hashCode(incidentCount);
        }
    }

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
                && java.util.Arrays.equals(levelVar, s.levelVar) && java.util.Objects.equals(memory, s.memory)
                && java.util.Arrays.equals(stuckLast, s.stuckLast) && java.util.Arrays.equals(stuckRun, s.stuckRun)
                && java.util.Arrays.equals(stuckMaxRun, s.stuckMaxRun)
                && java.util.Arrays.equals(jointShort, s.jointShort) && java.util.Arrays.equals(jointMean, s.jointMean)
                && java.util.Arrays.equals(jointCov, s.jointCov) && jointCount == s.jointCount
                && java.util.Arrays.equals(jointHist, s.jointHist) && jointDistCount == s.jointDistCount;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(mean) * 31 + Long.hashCode(scored);
    }

    /** The forecast of the next reading (the model's normalised units), the anomaly score's short average, the last alert. */
    @Override
    public java.util.Map<String, Object> summary(io.engram.engine.model.ModelManifest model) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("forecast", forecast.clone());
        m.put("score", shortAvg);
        m.put("scored", scored);
        m.put("last_alert_step", lastAlertStep < 0 ? null : lastAlertStep);
        return m;
    }

    @Override
    public String toString() {
        return "ForecastState{channels=" + channels() + ", scored=" + scored + "}";
    }
}

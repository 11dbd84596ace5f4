package io.engram.engine.pipeline.anomaly;

/**
 * The forecaster head's own settings, from a pipeline YAML's {@code scoring:}, {@code input:} and
 * {@code output:} sections. Immutable.
 *
 * @param scoring the anomaly scorer's parameters
 * @param format what the input records are ({@code input.format})
 * @param vectors whether each prediction carries the values, forecast, error and next forecast
 *     arrays ({@code output.vectors}); without them a record holds the scores only
 */
public record ForecastSettings(ScoringConfig scoring, Format format, boolean vectors) {
    /** The input records' format. */
    public enum Format {
        /** JSON sensor readings, {@code {"ts": ..., "values": [...]}} (docs/topics.md). */
        JSON,
        /** Binary feature records of {@code frame-features}: one reading per frame, a channel per feature. */
        FEATURES
    }

    public static final ForecastSettings DEFAULTS = new ForecastSettings(ScoringConfig.DEFAULTS, Format.JSON, true);

    public ForecastSettings withScoring(ScoringConfig s) {
        return new ForecastSettings(s, format, vectors);
    }
}

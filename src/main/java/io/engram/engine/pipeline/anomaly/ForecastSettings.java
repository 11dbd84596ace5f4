package io.engram.engine.pipeline.anomaly;

/**
 * The forecaster head's own settings, from a pipeline YAML's {@code scoring:}, {@code input:} and
 * {@code output:} sections. Immutable.
 *
 * @param scoring the anomaly scorer's parameters
 * @param format what the input records are ({@code input.format})
 * @param vectors whether each prediction carries the values, forecast, error and next forecast
 *     arrays ({@code output.vectors}); without them a record holds the scores only
 * @param values values per reading ({@code input.values}); 0: the model's input size. More than one
 *     with a one-value model runs the model on each value with its own state
 *     ({@link io.engram.engine.model.PerValueStep})
 */
public record ForecastSettings(ScoringConfig scoring, Format format, boolean vectors, int values) {
    public ForecastSettings(ScoringConfig scoring, Format format, boolean vectors) {
        this(scoring, format, vectors, 0);
    }

    /** The input records' format. */
    public enum Format {
        /** JSON sensor readings, {@code {"ts": ..., "values": [...]}} (docs/topics.md). */
        JSON,
        /** Binary feature records of {@code frame-features}: one reading per frame, a channel per feature. */
        FEATURES
    }

    public static final ForecastSettings DEFAULTS = new ForecastSettings(ScoringConfig.DEFAULTS, Format.JSON, true);

    public ForecastSettings withScoring(ScoringConfig s) {
        return new ForecastSettings(s, format, vectors, values);
    }

    public ForecastSettings withValues(int n) {
        return new ForecastSettings(scoring, format, vectors, n);
    }
}

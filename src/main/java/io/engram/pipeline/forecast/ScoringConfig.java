package io.engram.pipeline.forecast;

/**
 * Parameters of {@link AnomalyScorer}; one set for all streams of a pipeline.
 *
 * @param shortAlpha weight of the short exponential averages: of the raw score, and of each channel's
 *     reading for the level signal (0.2 ~ the last 10 steps)
 * @param longAlpha floor of the weight of the long-run statistics of those averages (0.001 ~ 1000 steps)
 * @param warmupSteps no alert fires before a stream has this many steps
 * @param threshold alert when the score (log-scaled likelihood, in [0,1]) reaches this
 * @param suppressSteps one alert per incident: a reading at or above the threshold alerts only if no
 *     reading of the stream reached the threshold in the previous {@code suppressSteps} steps
 * @param rawClip raw scores (normalised forecast errors) are clipped to this
 * @param levelWeight weight of the level signal's log tail probability against the forecast-error
 *     signal's (the score takes the rarer of the two); 0 turns the level signal off
 */
public record ScoringConfig(
        double shortAlpha, double longAlpha, long warmupSteps, double threshold, long suppressSteps, double rawClip,
        double levelWeight) {

    public static final ScoringConfig DEFAULTS = new ScoringConfig(0.2, 0.001, 300, 0.5, 20, 20.0, 0.8);

    public ScoringConfig {
        if (!(shortAlpha > 0 && shortAlpha <= 1) || !(longAlpha > 0 && longAlpha <= 1)) {
            throw new IllegalArgumentException("scoring alphas must be in (0, 1]");
        }
        if (warmupSteps < 0 || suppressSteps < 0 || !(threshold > 0 && threshold <= 1) || !(rawClip > 0)) {
            throw new IllegalArgumentException(
                    "scoring needs warmup_steps >= 0, suppress_steps >= 0, 0 < threshold <= 1, raw_clip > 0");
        }
        if (!(levelWeight >= 0 && levelWeight <= 10)) {
            throw new IllegalArgumentException("scoring.level_weight must be in [0, 10]");
        }
    }
}

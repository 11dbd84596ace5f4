package io.engram.engine.pipeline.anomaly;

/**
 * The forecast channel, in the spirit of Numenta's anomaly likelihood: the short average of the
 * model's normalised forecast error ({@link ForecastState#shortAvg}) against that average's own
 * long-run mean and spread ({@link ForecastState#longMean}, {@link ForecastState#longVar}), as a
 * Gaussian log tail. Reason {@code forecast}.
 *
 * <p>Its slice is that error baseline, 24 bytes of the scorer's fields. The scorer keeps the baseline
 * ({@link #average}, {@link #learn}) for every record whether or not this channel is on: the shape
 * channel reads the short average, and a forecast channel turned on again finds its baseline warm.
 *
 * <p>With a {@link ShapeChannel} (one-value streams with the shape channel on), a familiar word caps
 * this channel's rarity: a departure the stream has made often is not news.
 */
final class ForecastChannel implements ScoreChannel {
    /**
     * Floor of the spread of the averaged raw score (in the stream's standard deviations). On a
     * perfectly predictable stream the spread tends to zero and a harmless wobble of a few
     * hundredths of a standard deviation would look like a one-in-a-billion event.
     */
    static final double MIN_STD = 0.1;
    /** Updates of the long-run statistics are limited to this many standard deviations (winsorised). */
    static final double MAX_UPDATE_STD = 4.0;

    private final ScoringConfig config;
    /** The shape channel whose familiar words cap this one; null for none. */
    private final ShapeChannel familiar;

    ForecastChannel(ScoringConfig config, ShapeChannel familiar) {
        this.config = config;
        this.familiar = familiar;
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.FORECAST;
    }

    @Override
    public boolean needsMemory() {
        return false;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return 24;
    }

    /** Adds a record's clipped raw score to the short average (the first scored record starts it). */
    static void average(ForecastState s, double raw, ScoringConfig config) {
        s.shortAvg = s.scored == 0 ? raw : s.shortAvg + config.shortAlpha() * (raw - s.shortAvg);
    }

    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        double logErr = Math.log(0.5);
        if (s.scored >= 2) {
            double std = Math.max(Math.sqrt(s.longVar), MIN_STD);
            logErr = AnomalyScorer.logUpperTail((s.shortAvg - s.longMean) / std);
        }
        if (familiar != null) {
            logErr = Math.max(logErr, familiar.cap(s, values[0]));
        }
        return logErr;
    }

    /**
     * Updates the long-run statistics with the short average, after every channel has judged the
     * record: the record is judged against the past only. {@code s.scored} does not count it yet.
     */
    static void learn(ForecastState s, ScoringConfig config) {
        double a = Math.max(1.0 / (s.scored + 1), config.longAlpha());
        if (s.scored == 0) {
            s.longMean = s.shortAvg;
            s.longVar = 0.0;
        } else {
            double d = s.shortAvg - s.longMean;
            if (s.scored > AnomalyScorer.STARTUP_STEPS) {
                // One extreme record (the anomaly itself) must not blow up the baseline it is judged by.
                double lim = MAX_UPDATE_STD * Math.max(Math.sqrt(s.longVar), MIN_STD);
                d = Math.max(-lim, Math.min(lim, d));
            }
            s.longMean += a * d;
            s.longVar = (1 - a) * (s.longVar + a * d * d);
        }
    }
}

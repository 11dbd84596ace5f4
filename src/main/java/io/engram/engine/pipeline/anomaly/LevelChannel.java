package io.engram.engine.pipeline.anomaly;

/**
 * The level channel: per value, a short average of the reading against that average's own long-run
 * mean and spread, both tails. A one-step forecaster follows a level shift within a step or two, so
 * its error only blips; a reading that moves to, and stays at, a level the stream has not been at
 * for a long time is still news, and this channel sees it. Its log tail is weighted by
 * {@code scoring.level_weight} (below 1: it is the cruder signal, so it needs a rarer event to win).
 * Reason {@code level}; on a stream of several values, {@code level:<component>}, the component
 * with the largest |z| (its name when the reading carries names, see {@link VectorReading#names}).
 *
 * <p>Its slice: {@link ForecastState#levelShort}, {@link ForecastState#levelMean} and
 * {@link ForecastState#levelVar}, 24 bytes per value. Works for streams of any number of values; a
 * record without readings leaves it untouched.
 */
final class LevelChannel implements ScoreChannel {
    private final ScoringConfig config;

    LevelChannel(ScoringConfig config) {
        this.config = config;
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.LEVEL;
    }

    @Override
    public boolean needsMemory() {
        return false;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return 24 * s.channels();
    }

    @Override
    public int component(ForecastState s) {
        return s.levelTop;
    }

    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        if (values == null) {
            return 0.0;
        }
        return config.levelWeight() * logTail(s, values);
    }

    /**
     * Updates, per value, the short average of the reading and (after judging it) that average's
     * long-run mean and variance, and returns log P(Z > z) for the largest |z| over the values,
     * Bonferroni-corrected for the number of values, or 0 while the statistics are still being seeded.
     *
     * <p>Unlike the forecast channel's, these long-run updates are not winsorised: after a level shift the
     * baseline should move to the new level within its ~1/longAlpha memory, so that a stream that
     * stays at its new level stops being news (winsorising here cost ~4 NAB points).
     */
    private double logTail(ForecastState s, double[] values) {
        int channels = values.length;
        double zMax = 0;
        s.levelTop = -1;
        for (int c = 0; c < channels; c++) {
            double x = values[c];
            if (s.scored <= 1) {
                s.levelShort[c] = x;
                s.levelMean[c] = x;
                s.levelVar[c] = 0.0;
                continue;
            }
            s.levelShort[c] += config.shortAlpha() * (x - s.levelShort[c]);
            double d = s.levelShort[c] - s.levelMean[c];
            if (s.scored > AnomalyScorer.STARTUP_STEPS) {
                double std = Math.max(Math.sqrt(s.levelVar[c]),
                        AnomalyScorer.LEVEL_MIN_REL_STD * Math.max(1.0, Math.abs(s.levelMean[c])));
                double z = Math.abs(d) / std;
                if (z > zMax || s.levelTop < 0) {
                    zMax = Math.max(zMax, z);
                    s.levelTop = c;
                }
            }
            double a = Math.max(1.0 / (s.scored + 1), config.longAlpha());
            s.levelMean[c] += a * d;
            s.levelVar[c] = (1 - a) * (s.levelVar[c] + a * d * d);
        }
        if (s.scored <= AnomalyScorer.STARTUP_STEPS) {
            return 0.0;
        }
        return Math.min(0.0, AnomalyScorer.logUpperTail(zMax) + Math.log(channels));
    }
}

package io.engram.engine.pipeline.anomaly;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Parameters of {@link AnomalyScorer} and its channels; one set for all streams of a pipeline. The
 * defaults marked "on data" in models/sensor-forecaster/MODEL_CARD.md ("Constants") were chosen by
 * the protocol in docs/benchmarks.md ("Anomaly detection: protocol"): leave-one-category-out on
 * NAB's development categories, never on its held-out ones; that table says how every other one was set.
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
 * @param channels the detector's channels that are on ({@link Channel}); the ablation turns them off one by one
 * @param seasonal the seasonal channel's settings
 * @param routine the routine-incident memory's settings
 * @param shape the shape memory's settings
 * @param stuck the stuck-sensor channel's settings
 * @param joint the joint channel's settings (streams of several values)
 */
public record ScoringConfig(
        double shortAlpha, double longAlpha, long warmupSteps, double threshold, long suppressSteps, double rawClip,
        double levelWeight, Set<Channel> channels, Seasonal seasonal, Routine routine, Shape shape, Stuck stuck,
        Joint joint) {

    /**
     * The detector's channels. {@code FORECAST} and {@code LEVEL} work on streams of any number of
     * channels; the others need a time of day or a word of one reading, so they speak only for
     * one-value streams (sensors), and are silent for feature vectors.
     */
    public enum Channel {
        /** The model's forecast error against its own long-run distribution. */
        FORECAST,
        /** The reading's short average against its own long-run mean and spread (both tails). */
        LEVEL,
        /** The reading against the stream's time-of-day profile, for streams the profile explains. */
        SEASONAL,
        /** An incident that starts at the time of day of incidents on two earlier days does not alert. */
        ROUTINE,
        /** Words of (level, departure from forecast): familiar words damp the forecast channel, a never-seen one is a signal. */
        SHAPE,
        /** A reading repeated for longer than any earlier run of repeats (stuck or dropped sensor). */
        STUCK,
        /** Streams of several values: the vector as a whole against its own mean and covariance (Mahalanobis). */
        JOINT;

        /** The name in YAML, in reasons and on the command line. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Channel of(String key) {
            for (Channel c : values()) {
                if (c.key().equals(key)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("unknown scoring channel '" + key + "' (known: forecast, level, seasonal, routine, shape, stuck, joint)");
        }
    }

    /**
     * @param weight weight of the seasonal log tail against the others
     * @param bins time-of-day bins of the profile (96 = 15 minutes)
     * @param gate the channel speaks only while the profile explains at least this share of the stream's variance
     * @param alpha floor of the weight of a new reading in its bin's mean
     */
    public record Seasonal(double weight, int bins, double gate, double alpha) {
        public Seasonal {
            if (!(weight > 0 && weight <= 10) || bins < 1 || bins > 288 || !(gate >= 0 && gate < 1) || !(alpha > 0 && alpha <= 1)) {
                throw new IllegalArgumentException("scoring.seasonal needs 0 < weight <= 10, 1 <= bins <= 288, 0 <= gate < 1, 0 < alpha <= 1");
            }
        }
    }

    /**
     * @param days an incident is routine when incidents started at about its time of day on at least this many earlier days
     * @param toleranceMinutes "about": within this many minutes of the time of day (either way, across midnight)
     * @param memory incident starts remembered per stream
     */
    public record Routine(int days, int toleranceMinutes, int memory) {
        public Routine {
            if (days < 1 || toleranceMinutes < 0 || toleranceMinutes > 720 || memory < days || memory > 64) {
                throw new IllegalArgumentException("scoring.routine needs days >= 1, 0 <= tolerance_minutes <= 720, days <= memory <= 64");
            }
        }
    }

    /**
     * @param memorySteps the word counts decay with this time constant (in readings)
     * @param minSteps the memory speaks once it holds this many (decayed) readings
     * @param familiarCount a word (or one at the same level with a larger departure) seen at least this
     *     often is familiar: the forecast channel's rarity is capped at the word's frequency
     * @param familiarWeight the cap is {@code familiarWeight * log(frequency)}: above 1 a familiar word can still be somewhat rare
     * @param novelWeight weight of a word's log frequency as a signal ({@code novel_shape}); 0 = no novelty signal
     * @param novelBand only words whose departure band is at least this (0..7) can be novel: small departures are never news
     */
    public record Shape(double memorySteps, double minSteps, double familiarCount, double familiarWeight, double novelWeight,
            int novelBand) {
        public Shape {
            if (!(memorySteps >= 10) || !(minSteps >= 0 && minSteps < memorySteps) || !(familiarCount > 0)
                    || !(familiarWeight >= 1) || !(novelWeight >= 0) || novelBand < 0 || novelBand > 7) {
                throw new IllegalArgumentException("scoring.shape needs memory_steps >= 10, 0 <= min_steps < memory_steps, familiar_count > 0,"
                        + " familiar_weight >= 1, novel_weight >= 0, 0 <= novel_band <= 7");
            }
        }
    }

    /**
     * @param factor a run of identical readings is news once it is this many times longer than the longest earlier run
     * @param minSteps ... and longer than this many readings
     */
    public record Stuck(double factor, long minSteps) {
        public Stuck {
            if (!(factor >= 1) || minSteps < 2) {
                throw new IllegalArgumentException("scoring.stuck needs factor >= 1 and min_steps >= 2");
            }
        }
    }

    /**
     * @param weight weight of the joint channel's log tail against the others
     * @param shrinkage the covariance is shrunk this far toward its diagonal (0: none, 1: the components
     *     taken as independent), which keeps it invertible while it is young or its components collinear
     */
    public record Joint(double weight, double shrinkage) {
        public Joint {
            if (!(weight > 0 && weight <= 20) || !(shrinkage >= 0 && shrinkage <= 1)) {
                throw new IllegalArgumentException("scoring.joint needs 0 < weight <= 20 and 0 <= shrinkage <= 1");
            }
        }
    }

    public static final Seasonal SEASONAL_DEFAULTS = new Seasonal(0.8, 96, 0.5, 0.1);
    public static final Routine ROUTINE_DEFAULTS = new Routine(2, 30, 16);
    public static final Shape SHAPE_DEFAULTS = new Shape(1000, 200, 2, 2, 0.0, 4);
    public static final Stuck STUCK_DEFAULTS = new Stuck(1.5, 20);
    public static final Joint JOINT_DEFAULTS = new Joint(2.75, 0.5);

    public static final ScoringConfig DEFAULTS = new ScoringConfig(0.2, 0.001, 300, 0.5, 20, 20.0, 0.8,
            EnumSet.allOf(Channel.class), SEASONAL_DEFAULTS, ROUTINE_DEFAULTS, SHAPE_DEFAULTS, STUCK_DEFAULTS, JOINT_DEFAULTS);

    public ScoringConfig {
        if (!(shortAlpha > 0 && shortAlpha <= 1) || !(longAlpha > 0 && longAlpha <= 1)) {
            throw new IllegalArgumentException("scoring alphas must be in (0, 1]");
        }
        if (warmupSteps < 0 || suppressSteps < 0 || !(threshold > 0 && threshold < 1) || !(rawClip > 0)) {
            throw new IllegalArgumentException(
                    "scoring needs warmup_steps >= 0, suppress_steps >= 0, 0 < threshold < 1, raw_clip > 0");
        }
        if (!(levelWeight >= 0 && levelWeight <= 10)) {
            throw new IllegalArgumentException("scoring.level_weight must be in [0, 10]");
        }
        channels = Set.copyOf(channels);
        java.util.Objects.requireNonNull(seasonal, "seasonal");
        java.util.Objects.requireNonNull(routine, "routine");
        java.util.Objects.requireNonNull(shape, "shape");
        java.util.Objects.requireNonNull(stuck, "stuck");
        java.util.Objects.requireNonNull(joint, "joint");
    }

    /** As the canonical constructor, with the joint channel's default settings. */
    public ScoringConfig(double shortAlpha, double longAlpha, long warmupSteps, double threshold, long suppressSteps, double rawClip,
            double levelWeight, Set<Channel> channels, Seasonal seasonal, Routine routine, Shape shape, Stuck stuck) {
        this(shortAlpha, longAlpha, warmupSteps, threshold, suppressSteps, rawClip, levelWeight, channels, seasonal, routine, shape,
                stuck, JOINT_DEFAULTS);
    }

    /**
     * The scorer of the release before the seasonal, routine, shape and stuck channels: forecast error
     * and level only, with the given settings.
     */
    public ScoringConfig(double shortAlpha, double longAlpha, long warmupSteps, double threshold, long suppressSteps, double rawClip,
            double levelWeight) {
        this(shortAlpha, longAlpha, warmupSteps, threshold, suppressSteps, rawClip, levelWeight,
                EnumSet.of(Channel.FORECAST, Channel.LEVEL), SEASONAL_DEFAULTS, ROUTINE_DEFAULTS, SHAPE_DEFAULTS, STUCK_DEFAULTS,
                JOINT_DEFAULTS);
    }

    public boolean on(Channel c) {
        return channels.contains(c);
    }

    /** This configuration with one channel turned off (the ablation). */
    public ScoringConfig without(Channel c) {
        EnumSet<Channel> left = EnumSet.noneOf(Channel.class);
        left.addAll(channels);
        left.remove(c);
        return new ScoringConfig(shortAlpha, longAlpha, warmupSteps, threshold, suppressSteps, rawClip, levelWeight, left, seasonal,
                routine, shape, stuck, joint);
    }
}

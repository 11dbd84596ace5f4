package io.engram.engine.pipeline.anomaly;

/**
 * Turns a stream's forecast error and readings into an anomaly score that adapts to that stream. Each
 * channel ({@link ScoreChannel}) judges a record against its own statistics of the stream and gives
 * a Gaussian-style log tail probability; the score takes the rarest, on a log scale that never
 * saturates, so that it keeps varying in the extreme tail (see {@link #scoreOf}). The channels:
 * {@link ForecastChannel} (the forecast error against its own long-run distribution, in the spirit of
 * Numenta's anomaly likelihood), {@link LevelChannel} (the readings' short average against its
 * long-run distribution), and, for one-value streams (sensors), with per-stream memory beyond one step
 * ({@link ForecastState.Memory}): {@link SeasonalChannel} (a time-of-day profile),
 * {@link ShapeChannel} (familiar words of level and departure cap the forecast channel),
 * {@link StuckChannel} (runs of identical readings) and {@link RoutineChannel} (an incident at the
 * time of day of incidents on earlier days does not alert); for streams of several values,
 * {@link JointChannel} (the vector as a whole against its own mean and covariance). On streams of several values the level
 * and stuck channels watch each value, and their reasons name it ({@code level:Pressure}, see
 * {@link Score#components}); the memory channels other than stuck speak for one-value streams only. {@link ScoringConfig} switches and
 * configures them; why they are set as they are is in docs/benchmarks.md ("Anomaly detection:
 * protocol").
 *
 * <p>The scorer itself keeps what every channel shares: the raw score's short average and its
 * long-run baseline (kept whether or not the forecast channel is on: see {@link ForecastChannel}),
 * the startup steps, the count of scored records, and one alert per incident.
 *
 * <p>All statistics are O(1) per stream (O(values) for the level channel, about 1 KB for the
 * memory) and live in {@link ForecastState}; each record is judged against statistics of earlier
 * records only, so there is no look-ahead. Immutable and thread-safe: one instance, built once from
 * its configuration with the channels that are on, serves every task.
 */
public final class AnomalyScorer {
    /** -log10 of the tail probability that maps to a score of 0.5: a one-in-a-million event. */
    static final double HALF_SCORE_DECADES = 6.0;
    /**
     * The first readings of a stream are forecast from almost no history, so their errors are huge
     * and say nothing about the stream: they do not enter the long-run statistics.
     */
    static final long STARTUP_STEPS = 20;
    /**
     * Floor of a level spread (the level channel's, the shape channel's level letter's), relative to
     * the size of the level: only a stream that has been exactly constant gets near it, and for such a
     * stream any move is news. It only keeps the z finite (no division by zero).
     */
    static final double LEVEL_MIN_REL_STD = 1e-9;
    /** A log tail of {@code -LN10 * d} is d decades of rarity. */
    static final double LN10 = Math.log(10);

    private final ScoringConfig config;
    /** The channels that are on, in {@link ScoringConfig.Channel} order (the forecast channel before the shape channel it asks). */
    private final ScoreChannel[] oneValue;
    /** Their reason bits, index for index. */
    private final int[] oneValueBits;
    /** The channels that are on and need no memory, for streams of several values and records without readings. */
    private final ScoreChannel[] anyValues;
    private final int[] anyValuesBits;
    /** Whether any channel that is on needs the memory. */
    private final boolean memoryOn;
    /** A channel's own log tail at or below this reaches the threshold on its own (gives its reason). */
    private final double reasonAt;

    public AnomalyScorer(ScoringConfig config) {
        this.config = config;
        oneValue = channels(config, true);
        anyValues = channels(config, false);
        oneValueBits = bits(oneValue);
        anyValuesBits = bits(anyValues);
        boolean memory = false;
        for (ScoreChannel c : oneValue) {
            memory |= c.needsMemory();
        }
        memoryOn = memory;
        reasonAt = -LN10 * HALF_SCORE_DECADES * config.threshold() / (1 - config.threshold());
    }

    /**
     * The channels {@code config} turns on, in {@link ScoringConfig.Channel} order; for a one-value
     * stream all of them, else only those that need no memory (and a forecast channel without the
     * shape channel's cap, which reads the memory). The level channel with weight 0 is off.
     */
    static ScoreChannel[] channels(ScoringConfig config, boolean oneValue) {
        ShapeChannel shape = config.on(ScoringConfig.Channel.SHAPE) ? new ShapeChannel(config) : null;
        java.util.List<ScoreChannel> out = new java.util.ArrayList<>();
        for (ScoringConfig.Channel key : ScoringConfig.Channel.values()) {
            ScoreChannel c = !config.on(key) ? null : switch (key) {
                case FORECAST -> new ForecastChannel(config, oneValue ? shape : null);
                case LEVEL -> config.levelWeight() > 0 ? new LevelChannel(config) : null;
                case SEASONAL -> new SeasonalChannel(config);
                case ROUTINE -> new RoutineChannel(config);
                case SHAPE -> shape;
                case STUCK -> new StuckChannel(config);
                case JOINT -> new JointChannel(config);
            };
            if (c != null && (oneValue || c.scoresVectors())) {
                out.add(c);
            }
        }
        return out.toArray(new ScoreChannel[0]);
    }

    private static int[] bits(ScoreChannel[] channels) {
        int[] b = new int[channels.length];
        for (int i = 0; i < channels.length; i++) {
            b[i] = reasonBit(channels[i].reason());
        }
        return b;
    }

    public ScoringConfig config() {
        return config;
    }

    /** Reasons, as bits of {@link Score#reasons()}: the channels that reached the threshold on their own, and vetoes. */
    public static final int FORECAST = 1;
    public static final int LEVEL = 2;
    public static final int SEASONAL = 4;
    public static final int NOVEL_SHAPE = 8;
    public static final int STUCK = 16;
    /** The score reached the threshold, but the incident starts at the time of day of incidents on earlier days: no alert. */
    public static final int ROUTINE = 32;
    /** Streams of several values: the vector as a whole is far from its usual mean and covariance ({@link JointChannel}). */
    public static final int JOINT = 64;
    private static final String[] REASON_NAMES = {"forecast", "level", "seasonal", "novel_shape", "stuck", "routine", "joint"};

    /**
     * Outcome for one record.
     *
     * @param reasons bits ({@link #FORECAST} ...): the channels whose own score reached the threshold, and
     *     {@link #ROUTINE} when a routine incident was not alerted; {@link #reasonNames} spells them
     * @param components for a stream of several values: per reason (indexed by its bit's position), the
     *     component it names ({@link ScoreChannel#component}: {@code level:Pressure}), or -1; null when
     *     no reason names one
     */
    public record Score(double raw, double likelihood, double score, boolean anomaly, int reasons, java.util.List<Integer> components) {
        public Score(double raw, double likelihood, double score, boolean anomaly, int reasons) {
            this(raw, likelihood, score, anomaly, reasons, null);
        }

        public Score(double raw, double likelihood, double score, boolean anomaly) {
            this(raw, likelihood, score, anomaly, 0);
        }
    }

    /** The bit of a reason's name ({@code level:Pressure} is {@code level}'s), 0 for an unknown name. */
    public static int reasonBit(String name) {
        int colon = name.indexOf(':');
        if (colon >= 0) {
            name = name.substring(0, colon);
        }
        for (int i = 0; i < REASON_NAMES.length; i++) {
            if (REASON_NAMES[i].equals(name)) {
                return 1 << i;
            }
        }
        return 0;
    }

    /** The names of the reasons in {@code bits}, in a fixed order, as they appear in prediction records. */
    public static java.util.List<String> reasonNames(int bits) {
        return reasonNames(bits, null, null);
    }

    /**
     * As {@link #reasonNames(int)}, each reason naming its component where {@code components} has one
     * ({@code level:Pressure}, see {@link Score#components}): {@code name} spells a component index
     * (e.g. {@link VectorReading#name}).
     */
    public static java.util.List<String> reasonNames(int bits, java.util.List<Integer> components,
            java.util.function.IntFunction<String> name) {
        if (bits == 0) {
            return java.util.List.of();
        }
        java.util.List<String> out = new java.util.ArrayList<>(2);
        for (int i = 0; i < REASON_NAMES.length; i++) {
            if ((bits & (1 << i)) != 0) {
                int c = components == null ? -1 : components.get(i);
                out.add(c >= 0 ? REASON_NAMES[i] + ":" + name.apply(c) : REASON_NAMES[i]);
            }
        }
        return out;
    }

    /** Scores a record from its forecast error alone (no level signal); see {@link #score(ForecastState, long, double, double[], long)}. */
    public Score score(ForecastState s, long steps, double rawScore) {
        return score(s, steps, rawScore, null, 0L);
    }

    /** As {@link #score(ForecastState, long, double, double[], long)} at event time 0 (no time of day). */
    public Score score(ForecastState s, long steps, double rawScore, double[] values) {
        return score(s, steps, rawScore, values, 0L);
    }

    /**
     * Scores one record of a stream and updates the scorer's statistics in {@code s}. Every channel
     * judges the record against statistics of earlier records only, then learns from it.
     *
     * @param steps the stream's records so far, this one included
     * @param rawScore the record's normalised forecast error (mean over channels)
     * @param values the record's readings, one per channel, for the level signal; null skips it
     * @param eventTime the record's event time (ms since the epoch, UTC), for the seasonal and routine channels
     */
    public Score score(ForecastState s, long steps, double rawScore, double[] values, long eventTime) {
        double raw = Math.max(0.0, Math.min(config.rawClip(), rawScore));
        ForecastChannel.average(s, raw, config);
        ForecastState.Memory m = values != null && values.length == 1 && memoryOn ? memory(s) : null;
        if (steps <= STARTUP_STEPS) {
            s.scored = 0;
            if (m != null) {
                // The stuck channel's previous reading: the first scored reading continues its run.
                m.lastValue = values[0];
            }
            return new Score(raw, 0.5, 0.0, false, 0);
        }

        ScoreChannel[] channels = m != null ? oneValue : anyValues;
        int[] bits = m != null ? oneValueBits : anyValuesBits;
        // Take the rarest channel; 0 (no evidence) when none speaks.
        double logTail = 0.0;
        int below = 0;
        Integer[] components = null;
        for (int i = 0; i < channels.length; i++) {
            double t = channels[i].score(s, values, eventTime);
            logTail = Math.min(logTail, t);
            if (t <= reasonAt) {
                below |= bits[i];
                int c = values != null && values.length > 1 ? channels[i].component(s) : -1;
                if (c >= 0) {
                    if (components == null) {
                        components = new Integer[REASON_NAMES.length];
                        java.util.Arrays.fill(components, -1);
                    }
                    components[Integer.numberOfTrailingZeros(bits[i])] = c;
                }
            }
        }
        double likelihood = 1.0 - Math.exp(logTail);
        double score = scoreOf(logTail);

        // Update the long-run statistics after scoring: the record is judged against the past only.
        ForecastChannel.learn(s, config);
        s.scored++;

        // One alert per incident: an incident is a run of readings at or above the threshold whose
        // gaps are at most suppressSteps long. Only its first reading alerts, unless a channel vetoes it.
        boolean anomaly = false;
        int reasons = 0;
        long step = steps - 1;
        if (step >= config.warmupSteps() && score >= config.threshold()) {
            anomaly = s.lastAboveStep < 0 || step - s.lastAboveStep > config.suppressSteps();
            s.lastAboveStep = step;
            reasons = below;
            if (anomaly && m != null) {
                for (int i = 0; i < channels.length; i++) {
                    if (channels[i].vetoes(s, eventTime)) {
                        anomaly = false;
                        reasons |= bits[i];
                    }
                }
            }
            if (anomaly) {
                s.lastAlertStep = step;
            }
        }
        return new Score(raw, likelihood, score, anomaly, reasons, reasons == 0 || components == null ? null : java.util.List.of(components));
    }

    /** Whether a stored memory has the sizes this configuration uses (else it starts afresh). */
    boolean fits(ForecastState.Memory m) {
        return m.binMean.length == config.seasonal().bins() && m.words.length == ShapeChannel.WORDS
                && m.incidents.length == config.routine().memory();
    }

    private ForecastState.Memory memory(ForecastState s) {
        if (s.memory == null || !fits(s.memory)) {
            s.memory = ForecastState.Memory.fresh(config.seasonal().bins(), ShapeChannel.WORDS, config.routine().memory());
        }
        return s.memory;
    }

    /** P(Z > z) for a standard normal Z, accurate in the far tail (no 1 - Phi cancellation). */
    static double upperTail(double z) {
        return Math.exp(logUpperTail(z));
    }

    /**
     * log P(Z > z), computed in the log domain so that it keeps falling however large z is: the
     * score never saturates, so alerts of different strength stay ordered.
     */
    static double logUpperTail(double z) {
        double x = z / Math.sqrt(2.0);
        if (x < 0) {
            return Math.log(0.5 * erfc(x));
        }
        double t = 1.0 / (1.0 + 0.5 * x);
        double poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277))))))));
        return Math.log(0.5 * t) + poly;
    }

    /**
     * Score in [0, 1) from the log tail probability: with d = -log10(tail) decades of rarity,
     * {@code d / (d + 6)}. A one-in-a-million event scores 0.5, one in 10^12 scores 0.67, and the
     * score keeps growing, without saturating, for rarer events.
     */
    static double scoreOf(double logTail) {
        double decades = Math.max(0.0, -logTail / Math.log(10));
        return decades / (decades + HALF_SCORE_DECADES);
    }

    /** Complementary error function, fractional error below 1.2e-7 everywhere (Numerical Recipes' erfcc). */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2.0 - ans;
    }
}

package io.engram.engine.pipeline.anomaly;

/**
 * Turns a stream's forecast error into an anomaly likelihood that adapts to that stream, in the
 * spirit of Numenta's anomaly likelihood: a short average of the raw score is compared with its own
 * long-run distribution, and the Gaussian tail probability of the difference is reported on a log
 * scale that never saturates, so that the score keeps varying in the extreme tail (see
 * {@link #scoreOf}).
 *
 * <p>A second, level signal looks at the readings themselves: per channel, a short average of the
 * reading against that average's own long-run mean and spread. A one-step forecaster follows a
 * level shift within a step or two, so its error only blips; a reading that moves to, and stays at,
 * a level the stream has not been at for a long time is still news, and this signal sees it. The
 * signals are combined by taking the rarest: the level signal's log tail is weighted by
 * {@code w = scoring.level_weight} (below 1: it is the cruder signal, so it needs a rarer event to win).
 *
 * <p>One-value streams (sensors) have four more channels, with per-stream memory beyond one step
 * ({@link ForecastState.Memory}): a time-of-day profile ({@code seasonal}), a memory of the times of
 * day of earlier incidents ({@code routine}: a recurring incident does not alert), words of (level,
 * departure from the forecast) counted with decay ({@code shape}: a familiar word caps the forecast
 * channel's rarity, and with {@code novel_weight} a never-seen one is a signal), and runs of identical
 * readings ({@code stuck}). Each is configured and switched in {@link ScoringConfig}; why they are set
 * as they are is in docs/benchmarks.md ("Anomaly detection: protocol").
 *
 * <p>All statistics are O(1) per stream (O(channels) for the level signal, about 1 KB for the
 * memory) and live in {@link ForecastState}; each record is judged against statistics of earlier
 * records only, so there is no look-ahead. Stateless and thread-safe: one instance serves every task.
 */
public final class AnomalyScorer {
    /** -log10 of the tail probability that maps to a score of 0.5: a one-in-a-million event. */
    private static final double HALF_SCORE_DECADES = 6.0;
    /**
     * Floor of the spread of the averaged raw score (in the stream's standard deviations). On a
     * perfectly predictable stream the spread tends to zero and a harmless wobble of a few
     * hundredths of a standard deviation would look like a one-in-a-billion event.
     */
    private static final double MIN_STD = 0.1;
    /**
     * The first readings of a stream are forecast from almost no history, so their errors are huge
     * and say nothing about the stream: they do not enter the long-run statistics.
     */
    static final long STARTUP_STEPS = 20;
    /** Updates of the long-run statistics are limited to this many standard deviations (winsorised). */
    private static final double MAX_UPDATE_STD = 4.0;
    /**
     * Floor of the level signal's spread, relative to the size of the level: only a stream that has
     * been exactly constant gets near it, and for such a stream any move is news. It only keeps the
     * z finite (no division by zero).
     */
    private static final double LEVEL_MIN_REL_STD = 1e-9;

    private final ScoringConfig config;

    // The channels that are on, looked up once: score() runs for every record.
    private final boolean forecastOn;
    private final boolean levelOn;
    private final boolean seasonalOn;
    private final boolean routineOn;
    private final boolean shapeOn;
    private final boolean stuckOn;
    private final boolean memoryOn;

    public AnomalyScorer(ScoringConfig config) {
        this.config = config;
        forecastOn = config.on(ScoringConfig.Channel.FORECAST);
        levelOn = config.on(ScoringConfig.Channel.LEVEL) && config.levelWeight() > 0;
        seasonalOn = config.on(ScoringConfig.Channel.SEASONAL);
        routineOn = config.on(ScoringConfig.Channel.ROUTINE);
        shapeOn = config.on(ScoringConfig.Channel.SHAPE);
        stuckOn = config.on(ScoringConfig.Channel.STUCK);
        memoryOn = seasonalOn || routineOn || shapeOn || stuckOn;
    }

    public ScoringConfig config() {
        return config;
    }

    /** Words of the shape memory: 8 level letters x 8 departure letters. */
    static final int WORDS = 64;
    private static final double[] LEVEL_EDGES = {-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0};
    private static final double[] DEPARTURE_EDGES = {0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 7.0};
    private static final double WORD_ALPHA = 0.01;
    /** Prior count of a word, so that the frequency of a never-seen word is finite. */
    private static final double NOVEL_PRIOR = 0.5;
    private static final long DAY_MS = 86_400_000L;
    private static final double SEASONAL_MIN_REL_STD = 1e-6;
    private static final double LN10 = Math.log(10);

    /** Reasons, as bits of {@link Score#reasons()}: the channels that reached the threshold on their own, and vetoes. */
    public static final int FORECAST = 1;
    public static final int LEVEL = 2;
    public static final int SEASONAL = 4;
    public static final int NOVEL_SHAPE = 8;
    public static final int STUCK = 16;
    /** The score reached the threshold, but the incident starts at the time of day of incidents on earlier days: no alert. */
    public static final int ROUTINE = 32;
    private static final String[] REASON_NAMES = {"forecast", "level", "seasonal", "novel_shape", "stuck", "routine"};

    /**
     * Outcome for one record.
     *
     * @param reasons bits ({@link #FORECAST} ...): the channels whose own score reached the threshold, and
     *     {@link #ROUTINE} when a routine incident was not alerted; {@link #reasonNames} spells them
     */
    public record Score(double raw, double likelihood, double score, boolean anomaly, int reasons) {
        public Score(double raw, double likelihood, double score, boolean anomaly) {
            this(raw, likelihood, score, anomaly, 0);
        }
    }

    /** The bit of a reason's name, 0 for an unknown name. */
    public static int reasonBit(String name) {
        for (int i = 0; i < REASON_NAMES.length; i++) {
            if (REASON_NAMES[i].equals(name)) {
                return 1 << i;
            }
        }
        return 0;
    }

    /** The names of the reasons in {@code bits}, in a fixed order, as they appear in prediction records. */
    public static java.util.List<String> reasonNames(int bits) {
        if (bits == 0) {
            return java.util.List.of();
        }
        java.util.List<String> out = new java.util.ArrayList<>(2);
        for (int i = 0; i < REASON_NAMES.length; i++) {
            if ((bits & (1 << i)) != 0) {
                out.add(REASON_NAMES[i]);
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
        s.shortAvg = s.scored == 0 ? raw : s.shortAvg + config.shortAlpha() * (raw - s.shortAvg);
        ForecastState.Memory m = values != null && values.length == 1 && memoryOn ? memory(s) : null;
        if (steps <= STARTUP_STEPS) {
            s.scored = 0;
            if (m != null) {
                m.lastValue = values[0];
            }
            return new Score(raw, 0.5, 0.0, false, 0);
        }

        double logErr = Math.log(0.5);
        if (s.scored >= 2) {
            double std = Math.max(Math.sqrt(s.longVar), MIN_STD);
            logErr = logUpperTail((s.shortAvg - s.longMean) / std);
        }
        double logNovel = 0;
        if (m != null && shapeOn) {
            // The word memory caps the forecast channel (a familiar departure is not news) and may raise
            // a novel word; it reads shortAvg, which already includes this record. Judged, then counted.
            int word = word(s, m, values[0]);
            if (s.scored > STARTUP_STEPS && m.wordTotal > config.shape().minSteps()) {
                logErr = Math.max(logErr, familiarCap(m, word));
                logNovel = novelty(m, word);
            }
            count(s, m, word, values[0]);
        }
        if (!forecastOn) {
            logErr = 0;
        }
        double logLevel = 0;
        if (values != null && levelOn) {
            // Take the rarer of the signals. levelLogTail is 0 (no evidence) until its statistics exist.
            logLevel = config.levelWeight() * levelLogTail(s, values);
        }
        double logSeasonal = m != null && seasonalOn ? seasonal(s, m, values[0], eventTime) : 0;
        double logStuck = m != null && stuckOn ? stuck(m, values[0]) : 0;
        double logTail = Math.min(Math.min(logErr, logNovel), Math.min(logLevel, Math.min(logSeasonal, logStuck)));
        double likelihood = 1.0 - Math.exp(logTail);
        double score = scoreOf(logTail);

        // Update the long-run statistics after scoring: the record is judged against the past only.
        double a = Math.max(1.0 / (s.scored + 1), config.longAlpha());
        if (s.scored == 0) {
            s.longMean = s.shortAvg;
            s.longVar = 0.0;
        } else {
            double d = s.shortAvg - s.longMean;
            if (s.scored > STARTUP_STEPS) {
                // One extreme record (the anomaly itself) must not blow up the baseline it is judged by.
                double lim = MAX_UPDATE_STD * Math.max(Math.sqrt(s.longVar), MIN_STD);
                d = Math.max(-lim, Math.min(lim, d));
            }
            s.longMean += a * d;
            s.longVar = (1 - a) * (s.longVar + a * d * d);
        }
        s.scored++;

        // One alert per incident: an incident is a run of readings at or above the threshold whose
        // gaps are at most suppressSteps long. Only its first reading alerts, unless it is routine.
        boolean anomaly = false;
        int reasons = 0;
        long step = steps - 1;
        if (step >= config.warmupSteps() && score >= config.threshold()) {
            anomaly = s.lastAboveStep < 0 || step - s.lastAboveStep > config.suppressSteps();
            s.lastAboveStep = step;
            double at = -LN10 * HALF_SCORE_DECADES * config.threshold() / (1 - config.threshold());
            reasons = (logErr <= at ? FORECAST : 0) | (logLevel <= at ? LEVEL : 0) | (logSeasonal <= at ? SEASONAL : 0)
                    | (logNovel <= at ? NOVEL_SHAPE : 0) | (logStuck <= at ? STUCK : 0);
            if (anomaly && m != null && routineOn && routine(m, eventTime)) {
                anomaly = false;
                reasons |= ROUTINE;
            }
            if (anomaly) {
                s.lastAlertStep = step;
            }
        }
        return new Score(raw, likelihood, score, anomaly, reasons);
    }

    /** Whether a stored memory has the sizes this configuration uses (else it starts afresh). */
    boolean fits(ForecastState.Memory m) {
        return m.binMean.length == config.seasonal().bins() && m.words.length == WORDS && m.incidents.length == config.routine().memory();
    }

    private ForecastState.Memory memory(ForecastState s) {
        if (s.memory == null || !fits(s.memory)) {
            s.memory = ForecastState.Memory.fresh(config.seasonal().bins(), WORDS, config.routine().memory());
        }
        return s.memory;
    }

    /**
     * The seasonal channel: the reading against its time-of-day bin's mean, standardised by the
     * pooled residual spread, averaged over the short window (a changed daily shape lasts). It speaks
     * only once every bin has been seen twice and while the profile explains at least {@code gate} of
     * the stream's variance, so that a stream without a daily shape is judged by the other channels.
     * Returns its weighted log tail (0 = no evidence); updates the profile after judging.
     */
    private double seasonal(ForecastState s, ForecastState.Memory m, double x, long eventTime) {
        ScoringConfig.Seasonal cfg = config.seasonal();
        int bins = m.binMean.length;
        int b = (int) (Math.floorMod(eventTime, DAY_MS) * bins / DAY_MS);
        double a = Math.max(1.0 / (s.scored + 1), config.longAlpha());
        if (s.scored == 0) {
            m.globalMean = x;
            m.globalVar = 0.0;
        } else {
            double d = x - m.globalMean;
            m.globalMean += a * d;
            m.globalVar = (1 - a) * (m.globalVar + a * d * d);
        }
        double res;
        if (m.binCount[b] == 0) {
            m.binMean[b] = (float) x;
            res = 0.0;
        } else {
            res = x - m.binMean[b];
        }
        double r2 = res * res;
        m.residualVar = s.scored == 0 ? r2 : m.residualVar + a * (r2 - m.residualVar);
        double explained = m.globalVar > 0 ? 1.0 - m.residualVar / m.globalVar : 0.0;
        double logTail = 0.0;
        if (m.binsReady == bins && explained >= cfg.gate()) {
            // The floor is above the rounding of the float profile (~1e-7 of the readings' scale): a
            // perfectly periodic stream must not turn rounding into news.
            double z = res / Math.max(Math.sqrt(m.residualVar), SEASONAL_MIN_REL_STD * (Math.abs(m.globalMean) + Math.sqrt(m.globalVar)));
            double sa = config.shortAlpha();
            m.residualShort += sa * (z - m.residualShort);
            // The short average of unit white noise has spread sqrt(sa / (2 - sa)).
            logTail = cfg.weight() * Math.min(0.0, logUpperTail(Math.abs(m.residualShort) / Math.sqrt(sa / (2 - sa))));
        } else {
            m.residualShort = 0.0;
        }
        if (m.binCount[b] > 0) {
            double ab = Math.max(1.0 / (m.binCount[b] + 1), cfg.alpha());
            m.binMean[b] = (float) (m.binMean[b] + ab * res);
        }
        if (m.binCount[b] < Short.MAX_VALUE) {
            m.binCount[b]++;
            if (m.binCount[b] == 2) {
                m.binsReady++;
            }
        }
        return logTail;
    }

    private static final int BANDS = DEPARTURE_EDGES.length + 1;

    /**
     * The shape memory's word for this record: (the reading's level letter against the stream's slow
     * mean and spread) x BANDS + (the letter of how far recent readings departed from the forecast).
     */
    private static int word(ForecastState s, ForecastState.Memory m, double x) {
        if (s.scored == 0) {
            m.wordMean = x;
            m.wordVar = 0.0;
        }
        double sd = Math.max(Math.sqrt(m.wordVar), LEVEL_MIN_REL_STD * Math.max(1.0, Math.abs(m.wordMean)));
        return band((x - m.wordMean) / sd, LEVEL_EDGES) * BANDS + band(s.shortAvg, DEPARTURE_EDGES);
    }

    /**
     * The cap on the forecast channel's log tail: familiarWeight times the log frequency of this word
     * and of the same-level words with larger departures, when they were seen at least familiarCount
     * times; else -infinity (no cap).
     */
    private double familiarCap(ForecastState.Memory m, int word) {
        double atLeast = 0;
        for (int w = word; w < word - word % BANDS + BANDS; w++) {
            atLeast += m.words[w];
        }
        atLeast /= m.wordScale;
        ScoringConfig.Shape cfg = config.shape();
        return atLeast >= cfg.familiarCount() ? cfg.familiarWeight() * Math.log(atLeast / m.wordTotal) : Double.NEGATIVE_INFINITY;
    }

    /** novelWeight times the word's own log frequency, for departures of at least novelBand; else 0. */
    private double novelty(ForecastState.Memory m, int word) {
        ScoringConfig.Shape cfg = config.shape();
        if (word % BANDS < cfg.novelBand() || cfg.novelWeight() <= 0) {
            return 0.0;
        }
        return Math.min(0.0, cfg.novelWeight() * Math.log((m.words[word] / m.wordScale + NOVEL_PRIOR) / m.wordTotal));
    }

    /** Counts the word, with exponential decay, and updates the level letter's statistics with the reading. */
    private void count(ForecastState s, ForecastState.Memory m, int word, double x) {
        double decay = 1.0 - 1.0 / config.shape().memorySteps();
        m.wordScale /= decay;
        m.wordTotal = m.wordTotal * decay + 1.0;
        m.words[word] += (float) m.wordScale;
        if (m.wordScale > 1e6) {
            // Renormalise long before a float count could overflow; ratios are unchanged.
            for (int j = 0; j < m.words.length; j++) {
                m.words[j] = (float) (m.words[j] / m.wordScale);
            }
            m.wordScale = 1.0;
        }
        double a = Math.max(1.0 / (s.scored + 1), WORD_ALPHA);
        double d = x - m.wordMean;
        m.wordMean += a * d;
        m.wordVar = (1 - a) * (m.wordVar + a * d * d);
    }

    private static int band(double v, double[] edges) {
        int k = 0;
        for (double e : edges) {
            if (v > e) {
                k++;
            }
        }
        return k;
    }

    /**
     * The stuck channel: a run of identical readings longer than {@code factor} times the longest
     * earlier run (and than minSteps) is news, the more so the longer it lasts. Catches a stuck sensor
     * and a dropout to a constant, which the forecast channel learns to predict within a few steps.
     */
    private double stuck(ForecastState.Memory m, double x) {
        if (x == m.lastValue) {
            m.run++;
        } else {
            m.maxRun = Math.max(m.maxRun, m.run);
            m.run = 1;
        }
        m.lastValue = x;
        double ref = Math.max(m.maxRun * config.stuck().factor(), config.stuck().minSteps());
        return m.run > ref ? -LN10 * HALF_SCORE_DECADES * (m.run / ref) : 0.0;
    }

    /**
     * The routine-incident memory: records this incident's start and says whether incidents started
     * within the tolerance of its time of day on at least {@code days} distinct earlier days.
     */
    private boolean routine(ForecastState.Memory m, long eventTime) {
        ScoringConfig.Routine cfg = config.routine();
        long minutes = Math.floorDiv(eventTime, 60_000L);
        long day = Math.floorDiv(minutes, 1440L);
        long minuteOfDay = Math.floorMod(minutes, 1440L);
        int n = (int) Math.min(m.incidentCount, m.incidents.length);
        // Distinct earlier days with an incident near this time of day; n is small (memory <= 64).
        long[] days = new long[n];
        int distinct = 0;
        for (int i = 0; i < n; i++) {
            long t = m.incidents[i];
            long d = Math.floorDiv(t, 1440L);
            long diff = Math.abs(Math.floorMod(t, 1440L) - minuteOfDay);
            if (d < day && Math.min(diff, 1440 - diff) <= cfg.toleranceMinutes()) {
                boolean seen = false;
                for (int j = 0; j < distinct; j++) {
                    seen |= days[j] == d;
                }
                if (!seen) {
                    days[distinct++] = d;
                }
            }
        }
        m.incidents[(int) (m.incidentCount % m.incidents.length)] = (int) minutes;
        m.incidentCount++;
        return distinct >= cfg.days();
    }

    /**
     * The level signal for one record: updates, per channel, the short average of the reading and
     * (after judging it) that average's long-run mean and variance, and returns log P(Z > z) for the
     * largest |z| over the channels, Bonferroni-corrected for the number of channels, or 0 while the
     * statistics are still being seeded. Called once per scored record, after the startup steps,
     * with {@code s.scored} not yet counting this record.
     *
     * <p>Unlike the error signal's, these long-run updates are not winsorised: after a level shift the
     * baseline should move to the new level within its ~1/longAlpha memory, so that a stream that
     * stays at its new level stops being news (winsorising here cost ~4 NAB points).
     */
    private double levelLogTail(ForecastState s, double[] values) {
        int channels = values.length;
        double zMax = 0;
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
            if (s.scored > STARTUP_STEPS) {
                double std = Math.max(Math.sqrt(s.levelVar[c]), LEVEL_MIN_REL_STD * Math.max(1.0, Math.abs(s.levelMean[c])));
                zMax = Math.max(zMax, Math.abs(d) / std);
            }
            double a = Math.max(1.0 / (s.scored + 1), config.longAlpha());
            s.levelMean[c] += a * d;
            s.levelVar[c] = (1 - a) * (s.levelVar[c] + a * d * d);
        }
        if (s.scored <= STARTUP_STEPS) {
            return 0.0;
        }
        return Math.min(0.0, logUpperTail(zMax) + Math.log(channels));
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

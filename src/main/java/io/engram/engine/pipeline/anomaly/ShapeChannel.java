package io.engram.engine.pipeline.anomaly;

/**
 * The shape memory: words of (the reading's level letter, the letter of how far recent readings
 * departed from the forecast), counted with exponential decay. A familiar word caps the forecast
 * channel's rarity ({@link #cap}, asked by the {@link ForecastChannel} built with this channel); with
 * {@code scoring.shape.novel_weight} above 0, a never-seen word with a large departure is a signal of
 * its own, reason {@code novel_shape}.
 *
 * <p>Its slice, in {@link ForecastState.Memory}: the word counts ({@code words}, {@code wordScale},
 * {@code wordTotal}) and the level letter's statistics ({@code wordMean}, {@code wordVar}): 36 + 4
 * bytes per word.
 */
final class ShapeChannel implements ScoreChannel {
    /** Words of the memory: 8 level letters x 8 departure letters. */
    static final int WORDS = 64;
    /** Edges of the level letters, in the stream's standard deviations from its slow mean. */
    private static final double[] LEVEL_EDGES = {-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0};
    /** Edges of the departure letters, in the raw score's short average (the forecast error's scale). */
    private static final double[] DEPARTURE_EDGES = {0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 7.0};
    private static final int BANDS = DEPARTURE_EDGES.length + 1;
    /** Floor of the weight of a reading in the level letter's mean and variance (~100 readings). */
    private static final double WORD_ALPHA = 0.01;
    /** Prior count of a word, so that the frequency of a never-seen word is finite. */
    private static final double NOVEL_PRIOR = 0.5;
    /** Word counts are renormalised when their unit grows past this, long before a float count could overflow. */
    private static final double MAX_SCALE = 1e6;

    private final ScoringConfig.Shape cfg;

    ShapeChannel(ScoringConfig config) {
        this.cfg = config.shape();
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.SHAPE;
    }

    @Override
    public String reason() {
        return "novel_shape";
    }

    @Override
    public boolean needsMemory() {
        return true;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return 4 + 4 * s.memory.words.length + 32;
    }

    /**
     * The cap on the forecast channel's log tail for this record, judged before the record is
     * counted: {@code familiar_weight} times the log frequency of this word and of the same-level
     * words with larger departures, when they were seen at least {@code familiar_count} times; else
     * -infinity (no cap). Reads {@code s.shortAvg}, which already includes this record.
     */
    double cap(ForecastState s, double x) {
        ForecastState.Memory m = s.memory;
        int word = word(s, m, x);
        if (!speaks(s, m)) {
            return Double.NEGATIVE_INFINITY;
        }
        double atLeast = 0;
        for (int w = word; w < word - word % BANDS + BANDS; w++) {
            atLeast += m.words[w];
        }
        atLeast /= m.wordScale;
        return atLeast >= cfg.familiarCount() ? cfg.familiarWeight() * Math.log(atLeast / m.wordTotal) : Double.NEGATIVE_INFINITY;
    }

    /** The novelty of the record's word (0 while the memory is too young to speak), then counts the word. */
    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        ForecastState.Memory m = s.memory;
        double x = values[0];
        int word = word(s, m, x);
        double logNovel = speaks(s, m) ? novelty(m, word) : 0.0;
        count(s, m, word, x);
        return logNovel;
    }

    /** Whether the memory holds enough readings to judge by (the stream is past its startup and {@code min_steps}). */
    private boolean speaks(ForecastState s, ForecastState.Memory m) {
        return s.scored > AnomalyScorer.STARTUP_STEPS && m.wordTotal > cfg.minSteps();
    }

    /**
     * The word for this record: (the reading's level letter against the stream's slow mean and
     * spread) x BANDS + (the departure letter of the raw score's short average). The same until
     * {@link #count} runs: {@link #cap} and {@link #score} may both ask.
     */
    private static int word(ForecastState s, ForecastState.Memory m, double x) {
        if (s.scored == 0) {
            m.wordMean = x;
            m.wordVar = 0.0;
        }
        double sd = Math.max(Math.sqrt(m.wordVar), AnomalyScorer.LEVEL_MIN_REL_STD * Math.max(1.0, Math.abs(m.wordMean)));
        return band((x - m.wordMean) / sd, LEVEL_EDGES) * BANDS + band(s.shortAvg, DEPARTURE_EDGES);
    }

    /** {@code novel_weight} times the word's own log frequency, for departures of at least {@code novel_band}; else 0. */
    private double novelty(ForecastState.Memory m, int word) {
        if (word % BANDS < cfg.novelBand() || cfg.novelWeight() <= 0) {
            return 0.0;
        }
        return Math.min(0.0, cfg.novelWeight() * Math.log((m.words[word] / m.wordScale + NOVEL_PRIOR) / m.wordTotal));
    }

    /** Counts the word, with exponential decay, and updates the level letter's statistics with the reading. */
    private void count(ForecastState s, ForecastState.Memory m, int word, double x) {
        double decay = 1.0 - 1.0 / cfg.memorySteps();
        m.wordScale /= decay;
        m.wordTotal = m.wordTotal * decay + 1.0;
        m.words[word] += (float) m.wordScale;
        if (m.wordScale > MAX_SCALE) {
            // Ratios are unchanged.
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
}

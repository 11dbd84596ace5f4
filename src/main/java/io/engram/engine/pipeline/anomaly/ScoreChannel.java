package io.engram.engine.pipeline.anomaly;

/**
 * One channel of {@link AnomalyScorer}: its slice of the per-stream state, how it judges a record
 * and learns from it, and the reason it gives. The scorer builds the channels that
 * {@link ScoringConfig#channels()} turns on once, and combines them by taking the rarest log tail;
 * a channel that is off is not built, and its slice is left as it is.
 *
 * <p>An implementation is immutable and holds only its configuration: it is built by the scorer,
 * serves every stream and thread for the scorer's life, and keeps its state in the stream's
 * {@link ForecastState} (for channels that need it, in {@link ForecastState.Memory}, whose binary
 * layout is {@link ForecastCodec}'s). It touches only its own slice of that state.
 */
interface ScoreChannel {
    /** The channel's switch: its name in {@code scoring.channels} and the ablation's {@code --without}. */
    ScoringConfig.Channel key();

    /**
     * The reason this channel gives when its own log tail reaches the threshold (or when it vetoes an
     * alert), as in {@link AnomalyScorer#reasonNames}: by default its key.
     */
    default String reason() {
        return key().key();
    }

    /**
     * For a stream of several values, the component behind this channel's last {@link #score} of
     * {@code s} (the one its reason names, e.g. {@code level:Pressure}), or -1 when it watches no one
     * component. Valid right after {@link #score}, for the same record.
     */
    default int component(ForecastState s) {
        return -1;
    }

    /**
     * Whether the channel needs the memory of a one-value stream ({@link ForecastState#memory}); such
     * a channel is called only for one-value streams, after the scorer has sized the memory.
     */
    boolean needsMemory();

    /**
     * Whether the channel also judges streams of several values (then without the memory): by
     * default those that need no memory.
     */
    default boolean scoresVectors() {
        return !needsMemory();
    }

    /**
     * Bytes of this channel's slice in the stored state of {@code s} (see {@link ForecastCodec}); the
     * memory channels' slices add up to the memory's whole layout.
     */
    int stateBytes(ForecastState s);

    /**
     * Judges one scored record (after the startup steps) against this channel's statistics of earlier
     * records, then learns from it. {@code s.scored} does not count this record yet, and
     * {@code s.shortAvg} already includes its raw score.
     *
     * @param values the record's readings (one per value), or null when only its forecast error is known
     * @param eventTime the record's event time (ms since the epoch, UTC)
     * @return the channel's weighted natural-log tail probability: 0 is no evidence, more negative is rarer
     */
    double score(ForecastState s, double[] values, long eventTime);

    /**
     * Asked when a record of a one-value stream is about to alert: whether this channel vetoes the alert.
     * Called at most once per alert, so a channel may record the alert in its slice.
     */
    default boolean vetoes(ForecastState s, long eventTime) {
        return false;
    }
}

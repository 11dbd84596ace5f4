package io.engram.engine.state;

/**
 * Everything Engram keeps for one stream (a sensor series, a camera) between two of its records:
 * the header that every pipeline shares (which model wrote the state, its declared state layout,
 * the steps taken, the event time of the last one, every recurrent state pair of the model) and
 * the head's own per-stream fields, its payload {@code P} (the forecaster's statistics and scorer,
 * the classifier's label run, ...). Serialised by {@link StateSerde} in one versioned format.
 *
 * <p>Mutable, and owned by the one {@link StepProcessor} that fetched it, for the duration of one
 * record: the header is written only by the core, the payload only by the head.
 *
 * @param <P> the head's payload type
 */
public final class StreamState<P> {
    private String modelId;
    private String modelVersion;
    private String stateCompat;
    private long steps;
    private long lastEventTime = Long.MIN_VALUE;
    private float[] hidden;
    private final P payload;

    /** A state as read from a store or changelog (see {@link StateSerde}). */
    public StreamState(String modelId, String modelVersion, String stateCompat, long steps, long lastEventTime, float[] hidden,
            P payload) {
        this.modelId = modelId;
        this.modelVersion = modelVersion;
        this.stateCompat = stateCompat;
        this.steps = steps;
        this.lastEventTime = lastEventTime;
        this.hidden = hidden;
        this.payload = payload;
    }

    /** A new stream's state: zero hidden state, no step yet. */
    public static <P> StreamState<P> fresh(String modelId, String modelVersion, String stateCompat, int stateFloats, P payload) {
        return new StreamState<>(modelId, modelVersion, stateCompat, 0, Long.MIN_VALUE, new float[stateFloats], payload);
    }

    public String modelId() {
        return modelId;
    }

    public String modelVersion() {
        return modelVersion;
    }

    /** Models with equal non-empty compat strings may take over each other's state. */
    public String stateCompat() {
        return stateCompat;
    }

    /** Records stepped so far. */
    public long steps() {
        return steps;
    }

    /** Event time (ms) of the last stepped record; {@link Long#MIN_VALUE} before the first. */
    public long lastEventTime() {
        return lastEventTime;
    }

    /** All state pairs of the model, concatenated in manifest order. Written by the model step. */
    public float[] hidden() {
        return hidden;
    }

    /** The head's own per-stream fields. */
    public P payload() {
        return payload;
    }

    /** Adopted by a newer model that declares the same state layout ({@code state_compat}). */
    public void adopt(String id, String version) {
        this.modelId = id;
        this.modelVersion = version;
    }

    /** Counts a stepped record at {@code eventTime}; the last event time never goes back. */
    public void stepped(long eventTime) {
        steps++;
        lastEventTime = Math.max(eventTime, lastEventTime);
    }

    @Override
    public String toString() {
        return "StreamState{model=" + modelId + "@" + modelVersion + ", steps=" + steps + ", hidden=" + hidden.length + ", payload="
                + payload + "}";
    }
}

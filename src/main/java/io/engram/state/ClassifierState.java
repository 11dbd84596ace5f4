package io.engram.state;

/**
 * What Engram keeps per camera (or any sequence) for a recurrent classifier between two records:
 * the model's state pairs, the step count, the last event time and frame sequence, the top label of
 * the last frame with how many frames in a row it has been on top, and the label last announced on
 * the events topic. Mutable and owned by the processor that fetched
 * it, for one record. Serialised by {@link ClassifierStateSerde}.
 */
public final class ClassifierState implements StoredState {
    @Override
    public long steps() {
        return steps;
    }

    @Override
    public long lastEventTime() {
        return lastEventTime;
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public String modelVersion() {
        return modelVersion;
    }

    public String modelId;
    public String modelVersion;
    public String stateCompat;
    public long steps;
    public long lastEventTime = Long.MIN_VALUE;
    public long lastSequence = -1;
    /** Index of the top label of the last frame, or -1 before the first. */
    public int lastLabel = -1;
    /** Frames in a row, up to the last, whose top label was {@link #lastLabel}. */
    public int run;
    /** Index of the label last announced as an activity event, or -1 before the first. */
    public int announced = -1;
    /** All state pairs of the model, concatenated in manifest order. */
    public float[] hidden;

    public static ClassifierState fresh(String modelId, String modelVersion, String stateCompat, int stateFloats) {
        ClassifierState s = new ClassifierState();
        s.modelId = modelId;
        s.modelVersion = modelVersion;
        s.stateCompat = stateCompat;
        s.hidden = new float[stateFloats];
        return s;
    }
}

package io.engram.pipeline.activity;

/**
 * The activity head's per-camera fields, behind the common state header: the last frame's
 * sequence number, its top label, how many frames in a row that label has been on top, and the
 * label last announced on the events topic. Written by {@link ActivityHead} only; binary layout
 * {@link ActivityCodec}.
 */
public final class ActivityState implements io.engram.core.StateSummary {
    /** Sequence number of the last frame ({@code seq} header), or -1. */
    long lastSequence = -1;
    /** Index of the top label of the last frame, or -1 before the first. */
    int lastLabel = -1;
    /** Frames in a row, up to the last, whose top label was {@link #lastLabel}. */
    int run;
    /** Index of the label last announced as an activity event, or -1 before the first. */
    int announced = -1;

    @Override
    public java.util.Map<String, Object> summary(io.engram.model.ModelManifest model) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("last_frame_seq", lastSequence);
        m.put("activity", lastLabel < 0 ? null : model.labels().get(lastLabel));
        m.put("activity_frames", run);
        m.put("announced", announced < 0 ? null : model.labels().get(announced));
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivityState a && a.lastSequence == lastSequence && a.lastLabel == lastLabel && a.run == run
                && a.announced == announced;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(lastSequence, lastLabel, run, announced);
    }

    @Override
    public String toString() {
        return "ActivityState{seq=" + lastSequence + ", label=" + lastLabel + ", run=" + run + ", announced=" + announced + "}";
    }
}

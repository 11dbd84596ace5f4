package io.engram.engine.pipeline.pose;

/**
 * The pose activity head's per-person fields, behind the common state header: the last frame's
 * sequence number, its top label and how many frames in a row it has been on top; and the fall
 * detector's: the last upright label (stand, walk, run, wave) while armed (-1: disarmed), frames
 * since that upright frame, and frames in a row of {@code fall_lying} since. Written by
 * {@link PoseHead} only; binary layout {@link PoseCodec}.
 */
public final class PoseState implements io.engram.engine.state.StateSummary {
    /** Sequence number of the last frame ({@code seq} header), or -1. */
    long lastSequence = -1;
    /** Index of the top label of the last frame, or -1 before the first. */
    int lastLabel = -1;
    /** Frames in a row, up to the last, whose top label was {@link #lastLabel}. */
    int run;
    /** Index of the label last announced on the events topic, or -1 (none yet). */
    int announced = -1;
    /** Index of the last upright top label while a fall can still follow it, or -1 (none yet, or a fall announced since). */
    int upright = -1;
    /** Frames since the last upright one. */
    int sinceUpright;
    /** Frames in a row of fall_lying, up to the last. */
    int fallRun;

    @Override
    public java.util.Map<String, Object> summary(io.engram.engine.model.ModelManifest model) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("last_frame_seq", lastSequence);
        m.put("activity", lastLabel < 0 ? null : model.labels().get(lastLabel));
        m.put("activity_frames", run);
        m.put("announced", announced < 0 ? null : model.labels().get(announced));
        m.put("upright", upright < 0 ? null : model.labels().get(upright));
        m.put("fall_frames", fallRun);
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PoseState p && p.lastSequence == lastSequence && p.lastLabel == lastLabel && p.run == run
                && p.announced == announced && p.upright == upright && p.sinceUpright == sinceUpright && p.fallRun == fallRun;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(lastSequence, lastLabel, run, announced, upright, sinceUpright, fallRun);
    }

    @Override
    public String toString() {
        return "PoseState{seq=" + lastSequence + ", label=" + lastLabel + ", run=" + run + ", announced=" + announced + ", upright=" + upright + ", since="
                + sinceUpright + ", fall=" + fallRun + "}";
    }
}

package io.engram.engine.pipeline.pose;

import io.engram.engine.pipeline.refine.Labels;
import io.engram.engine.pipeline.refine.RefineWindow;

/**
 * The pose activity head's per-person fields, behind the common state header: the last frame's
 * sequence number and the change rule's memory of the live labels ({@link Labels}: top label, how
 * many frames in a row it has been on top, the label last announced); the fall detector's: the last
 * upright label (stand, walk, run, wave) while armed (-1: disarmed), frames since that upright
 * frame, and frames in a row of {@code fall_lying} since; and, with refinement on, the look-ahead
 * window ({@link RefineWindow}: the person's last frames' keypoints, forward states, sequence
 * numbers and capture times, with the refined labels' own change rule memory); and the travel
 * measure ({@link Travel.State}: last sighting of shoulders and hips, running averages of velocity
 * and of the change of apparent size). Written by
 * {@link PoseHead} only; binary layout {@link PoseCodec}.
 */
public final class PoseState implements io.engram.engine.state.StateSummary {
    /** Sequence number of the last frame ({@code seq} header), or -1. */
    long lastSequence = -1;
    /** The live labels' change rule memory. */
    Labels live = new Labels();
    /** Index of the last upright top label while a fall can still follow it, or -1 (none yet, or a fall announced since). */
    int upright = -1;
    /** Frames since the last upright one. */
    int sinceUpright;
    /** Frames in a row of fall_lying, up to the last. */
    int fallRun;
    /** The refinement's window (empty when refinement is off, and in a state read from payload version 1 or 2). */
    RefineWindow window = new RefineWindow();
    /** The travel measure ({@link Travel}); none yet in a state read from payload version 3 or before. */
    Travel.State travel = new Travel.State();

    public Labels live() {
        return live;
    }

    public RefineWindow window() {
        return window;
    }

    public Travel.State travel() {
        return travel;
    }

    @Override
    public java.util.Map<String, Object> summary(io.engram.engine.model.ModelManifest model) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("last_frame_seq", lastSequence);
        m.put("activity", live.last() < 0 ? null : model.labels().get(live.last()));
        m.put("activity_frames", live.run());
        m.put("announced", live.announced() < 0 ? null : model.labels().get(live.announced()));
        m.put("upright", upright < 0 ? null : model.labels().get(upright));
        m.put("fall_frames", fallRun);
        window.summarize(m, model.labels());
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PoseState p && p.lastSequence == lastSequence && p.live.equals(live) && p.upright == upright
                && p.sinceUpright == sinceUpright && p.fallRun == fallRun && p.window.equals(window) && p.travel.equals(travel);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(lastSequence, live, upright, sinceUpright, fallRun, window, travel);
    }

    @Override
    public String toString() {
        return "PoseState{seq=" + lastSequence + ", " + live + ", upright=" + upright + ", since=" + sinceUpright + ", fall=" + fallRun
                + ", " + window + ", " + travel + "}";
    }
}

package io.engram.engine.pipeline.activity;

import io.engram.engine.pipeline.refine.Labels;
import io.engram.engine.pipeline.refine.RefineWindow;

/**
 * The activity head's per-camera fields, behind the common state header: the last frame's
 * sequence number and the change rule's memory of the live labels ({@link Labels}: the top label,
 * how many frames in a row it has been on top, the label last announced on the events topic). With
 * refinement on, also the look-ahead window ({@link RefineWindow}: the last frames' features,
 * forward states, sequence numbers and capture times, the frame before them, and the refined
 * labels' own change rule memory). Written by {@link ActivityHead} only; binary layout
 * {@link ActivityCodec}.
 */
public final class ActivityState implements io.engram.engine.state.StateSummary {
    /** Sequence number of the last frame ({@code seq} header), or -1. */
    long lastSequence = -1;
    /** The live labels' change rule memory. */
    Labels live = new Labels();
    /** The refinement's window (empty when refinement is off). */
    RefineWindow window = new RefineWindow();

    public Labels live() {
        return live;
    }

    public RefineWindow window() {
        return window;
    }

    boolean hasWindow() {
        return window.present();
    }

    @Override
    public java.util.Map<String, Object> summary(io.engram.engine.model.ModelManifest model) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("last_frame_seq", lastSequence);
        m.put("activity", live.last() < 0 ? null : model.labels().get(live.last()));
        m.put("activity_frames", live.run());
        m.put("announced", live.announced() < 0 ? null : model.labels().get(live.announced()));
        window.summarize(m, model.labels());
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivityState a && a.lastSequence == lastSequence && a.live.equals(live) && a.window.equals(window);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(lastSequence, live, window);
    }

    @Override
    public String toString() {
        return "ActivityState{seq=" + lastSequence + ", " + live + ", " + window + "}";
    }
}

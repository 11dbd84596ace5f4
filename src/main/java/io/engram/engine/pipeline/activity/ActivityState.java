package io.engram.engine.pipeline.activity;

/**
 * The activity head's per-camera fields, behind the common state header: the last frame's
 * sequence number, its top label, how many frames in a row that label has been on top, and the
 * label last announced on the events topic. With refinement on, also the look-ahead window: the
 * last frames' features, forward states, sequence numbers and capture times (at most L + 1, oldest
 * first), the features of the frame before the window, and the refined labels' own run and
 * announcement. Written by {@link ActivityHead} only; binary layout {@link ActivityCodec}.
 */
public final class ActivityState implements io.engram.engine.state.StateSummary {
    /** Sequence number of the last frame ({@code seq} header), or -1. */
    long lastSequence = -1;
    /** Index of the top label of the last frame, or -1 before the first. */
    int lastLabel = -1;
    /** Frames in a row, up to the last, whose top label was {@link #lastLabel}. */
    int run;
    /** Index of the label last announced as an activity event, or -1 before the first. */
    int announced = -1;

    // ---- the refinement's window (empty when refinement is off) -------------------------------
    /** The lag the window was kept for; 0 with no window. */
    int lag;
    /** Frames in the window, 0 to lag + 1. */
    int filled;
    /** Features per frame and forward state floats per frame: the window's geometry. */
    int features;
    int forward;
    /** Features of the frame before the window's oldest (zeros at a camera's first frame). */
    float[] before = new float[0];
    /** Oldest first: per frame its features, forward state (after it), sequence number and capture time. */
    float[] xs = new float[0];
    float[] hs = new float[0];
    long[] seqs = new long[0];
    long[] times = new long[0];
    /** The refined labels' top label, run and announcement, as for the live ones. */
    int refinedLabel = -1;
    int refinedRun;
    int refinedAnnounced = -1;

    /** Makes the window's arrays for {@code lag}, emptied (a new camera, or a lag changed in the file). */
    void window(int newLag, int f, int h) {
        lag = newLag;
        filled = 0;
        features = f;
        forward = h;
        before = new float[f];
        xs = new float[(newLag + 1) * f];
        hs = new float[(newLag + 1) * h];
        seqs = new long[newLag + 1];
        times = new long[newLag + 1];
        refinedLabel = -1;
        refinedRun = 0;
        refinedAnnounced = -1;
    }

    boolean hasWindow() {
        return xs.length > 0;
    }

    @Override
    public java.util.Map<String, Object> summary(io.engram.engine.model.ModelManifest model) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("last_frame_seq", lastSequence);
        m.put("activity", lastLabel < 0 ? null : model.labels().get(lastLabel));
        m.put("activity_frames", run);
        m.put("announced", announced < 0 ? null : model.labels().get(announced));
        if (hasWindow()) {
            m.put("refined_lag", lag);
            m.put("refined_activity", refinedLabel < 0 ? null : model.labels().get(refinedLabel));
            m.put("refined_announced", refinedAnnounced < 0 ? null : model.labels().get(refinedAnnounced));
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivityState a && a.lastSequence == lastSequence && a.lastLabel == lastLabel && a.run == run
                && a.announced == announced && a.lag == lag && a.filled == filled && a.features == features && a.forward == forward
                && java.util.Arrays.equals(a.before, before) && java.util.Arrays.equals(a.xs, xs) && java.util.Arrays.equals(a.hs, hs)
                && java.util.Arrays.equals(a.seqs, seqs) && java.util.Arrays.equals(a.times, times) && a.refinedLabel == refinedLabel
                && a.refinedRun == refinedRun && a.refinedAnnounced == refinedAnnounced;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(lastSequence, lastLabel, run, announced, lag, filled, refinedLabel);
    }

    @Override
    public String toString() {
        return "ActivityState{seq=" + lastSequence + ", label=" + lastLabel + ", run=" + run + ", announced=" + announced
                + (hasWindow() ? ", lag=" + lag + ", window=" + filled + ", refined=" + refinedLabel : "") + "}";
    }
}

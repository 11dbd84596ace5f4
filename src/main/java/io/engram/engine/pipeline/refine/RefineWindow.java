package io.engram.engine.pipeline.refine;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;

/**
 * A stream's look-ahead window for fixed-lag refinement: a slice of its head's payload (the video
 * pipeline's per-camera {@code ActivityState}, the person pipeline's per-person {@code PoseState}).
 * It holds the last frames' inputs, the forward model's state after each, their sequence numbers
 * and capture times (at most L + 1, oldest first), the input of the frame before the window, and the
 * refined labels' own {@link Labels} for the change rule. Empty (no arrays) when refinement is off
 * or before a stream's first refined frame. Moved on by {@link Refinement} only; the payload's codec
 * writes it with {@link #write} and reads it with {@link #read}.
 *
 * <p>Bytes (big-endian): int lag (0 = empty, and nothing more follows), int filled, int F, int H,
 * F x float before, filled x (long seq, long time, F x float input, H x float forward state), int
 * refined label, int refined run, int refined announced. The video pipeline's {@code ActivityCodec}
 * has written exactly these bytes since payload version 2, so they must not change.
 */
public final class RefineWindow {
    /** The largest lag and width a stored window may have: guards against a corrupt length. */
    public static final int MAX_LAG = 1024;
    public static final int MAX_DIM = 1 << 16;

    /** The lag the window was kept for; 0 when empty. */
    int lag;
    /** Frames in the window, 0 to lag + 1. */
    int filled;
    /** Inputs per frame and forward state floats per frame: the window's geometry. */
    int features;
    int forward;
    /** Input of the frame before the window's oldest (zeros at a stream's first frame). */
    float[] before = new float[0];
    /** Oldest first: per frame its input, forward state (after it), sequence number and capture time. */
    float[] xs = new float[0];
    float[] hs = new float[0];
    long[] seqs = new long[0];
    long[] times = new long[0];
    /** The refined labels' change rule memory. */
    Labels labels = new Labels();

    /** Whether the window has its arrays (refinement on and the stream seen since). */
    public boolean present() {
        return xs.length > 0;
    }

    public int lag() {
        return lag;
    }

    /** Frames in the window now. */
    public int filled() {
        return filled;
    }

    /** The refined labels' change rule memory. */
    public Labels labels() {
        return labels;
    }

    /** Makes the window's arrays for {@code newLag}, emptied (a new stream, or another lag or model geometry). */
    void reset(int newLag, int f, int h) {
        lag = newLag;
        filled = 0;
        features = f;
        forward = h;
        before = new float[f];
        xs = new float[(newLag + 1) * f];
        hs = new float[(newLag + 1) * h];
        seqs = new long[newLag + 1];
        times = new long[newLag + 1];
        labels = new Labels();
    }

    /** Bytes {@link #write} takes. */
    public int size() {
        return present() ? 4 + 12 + 4 * features + filled * (16 + 4 * (features + forward)) + Labels.BYTES : 4;
    }

    /** Writes the window (see the class comment for the layout). */
    public void write(ByteBuffer b) {
        if (!present()) {
            b.putInt(0);
            return;
        }
        b.putInt(lag).putInt(filled).putInt(features).putInt(forward);
        for (float v : before) {
            b.putFloat(v);
        }
        for (int i = 0; i < filled; i++) {
            b.putLong(seqs[i]).putLong(times[i]);
            for (int k = 0; k < features; k++) {
                b.putFloat(xs[i * features + k]);
            }
            for (int k = 0; k < forward; k++) {
                b.putFloat(hs[i * forward + k]);
            }
        }
        labels.write(b);
    }

    /**
     * Reads what {@link #write} wrote.
     *
     * @param kind the payload's kind, for the message of a malformed window
     */
    public static RefineWindow read(ByteBuffer b, String kind) {
        RefineWindow w = new RefineWindow();
        int lag = b.getInt();
        if (lag == 0) {
            return w;
        }
        int filled = b.getInt();
        int f = b.getInt();
        int h = b.getInt();
        if (lag < 0 || lag > MAX_LAG || filled < 0 || filled > lag + 1 || f <= 0 || f > MAX_DIM || h <= 0 || h > MAX_DIM) {
            throw new SerializationException(kind + " state window is malformed: lag " + lag + ", " + filled + " frames of " + f + "+" + h);
        }
        w.reset(lag, f, h);
        w.filled = filled;
        for (int k = 0; k < f; k++) {
            w.before[k] = b.getFloat();
        }
        for (int i = 0; i < filled; i++) {
            w.seqs[i] = b.getLong();
            w.times[i] = b.getLong();
            for (int k = 0; k < f; k++) {
                w.xs[i * f + k] = b.getFloat();
            }
            for (int k = 0; k < h; k++) {
                w.hs[i * h + k] = b.getFloat();
            }
        }
        w.labels = Labels.read(b);
        return w;
    }

    /** Adds the window's fields to a state summary ({@code GET /streams/{id}}), when it is present. */
    public void summarize(Map<String, Object> m, List<String> labelNames) {
        if (present()) {
            m.put("refined_lag", lag);
            m.put("refined_activity", labels.last < 0 ? null : labelNames.get(labels.last));
            m.put("refined_announced", labels.announced < 0 ? null : labelNames.get(labels.announced));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RefineWindow w && w.lag == lag && w.filled == filled && w.features == features && w.forward == forward
                && Arrays.equals(w.before, before) && Arrays.equals(w.xs, xs) && Arrays.equals(w.hs, hs) && Arrays.equals(w.seqs, seqs)
                && Arrays.equals(w.times, times) && w.labels.equals(labels);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(lag, filled, labels);
    }

    @Override
    public String toString() {
        return present() ? "lag=" + lag + ", window=" + filled + ", refined " + labels : "no window";
    }
}

package io.engram.engine.pipeline.activity;

import io.engram.engine.state.VersionedPayloadCodec;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Binary layout of {@link ActivityState} behind the common state header (big-endian): byte payload
 * version (2); long last sequence; int last label; int run; int announced label; then the
 * refinement's window: int lag (0 = none, and nothing more follows), int filled, int F, int H,
 * F x float before, filled x (long seq, long time, F x float features, H x float forward state),
 * int refined label, int refined run, int refined announced. Payload version 1 (before refinement)
 * is the first four fields alone, read as a camera with no window.
 *
 * <p>Also reads the classifier's own state formats from before the common one, so that their
 * changelogs restore after an upgrade: format 2 is byte 2; string model id, version, compat; long
 * steps; long last event time; long last sequence; int last label; int run; int announced; int H;
 * H x float hidden. Format 1 has no run and no announced label (every change was announced): it is
 * read as run 1 and announced = last label.
 */
public final class ActivityCodec extends VersionedPayloadCodec<ActivityState> {
    public ActivityCodec() {
        super("activity", (byte) 2);
    }

    @Override
    protected int bodySize(ActivityState a) {
        int n = 8 + 12 + 4;
        if (a.hasWindow()) {
            n += 12 + 4 * a.features + a.filled * (16 + 4 * (a.features + a.forward)) + 12;
        }
        return n;
    }

    @Override
    protected void writeBody(ActivityState a, ByteBuffer b) {
        b.putLong(a.lastSequence).putInt(a.lastLabel).putInt(a.run).putInt(a.announced);
        if (!a.hasWindow()) {
            b.putInt(0);
            return;
        }
        b.putInt(a.lag).putInt(a.filled).putInt(a.features).putInt(a.forward);
        for (float v : a.before) {
            b.putFloat(v);
        }
        for (int i = 0; i < a.filled; i++) {
            b.putLong(a.seqs[i]).putLong(a.times[i]);
            for (int k = 0; k < a.features; k++) {
                b.putFloat(a.xs[i * a.features + k]);
            }
            for (int k = 0; k < a.forward; k++) {
                b.putFloat(a.hs[i * a.forward + k]);
            }
        }
        b.putInt(a.refinedLabel).putInt(a.refinedRun).putInt(a.refinedAnnounced);
    }

    @Override
    protected ActivityState readBody(ByteBuffer b) {
        ActivityState a = readV1(b);
        int lag = b.getInt();
        if (lag == 0) {
            return a;
        }
        int filled = b.getInt();
        int f = b.getInt();
        int h = b.getInt();
        if (lag < 0 || lag > MAX_LAG || filled < 0 || filled > lag + 1 || f <= 0 || f > MAX_DIM || h <= 0 || h > MAX_DIM) {
            throw new SerializationException("activity state window is malformed: lag " + lag + ", " + filled + " frames of " + f + "+" + h);
        }
        a.window(lag, f, h);
        a.filled = filled;
        for (int k = 0; k < f; k++) {
            a.before[k] = b.getFloat();
        }
        for (int i = 0; i < filled; i++) {
            a.seqs[i] = b.getLong();
            a.times[i] = b.getLong();
            for (int k = 0; k < f; k++) {
                a.xs[i * f + k] = b.getFloat();
            }
            for (int k = 0; k < h; k++) {
                a.hs[i * h + k] = b.getFloat();
            }
        }
        a.refinedLabel = b.getInt();
        a.refinedRun = b.getInt();
        a.refinedAnnounced = b.getInt();
        return a;
    }

    /** The largest lag and width a stored window may have: guards against a corrupt length. */
    static final int MAX_LAG = 1024;
    static final int MAX_DIM = 1 << 16;

    private static ActivityState readV1(ByteBuffer b) {
        ActivityState a = new ActivityState();
        a.lastSequence = b.getLong();
        a.lastLabel = b.getInt();
        a.run = b.getInt();
        a.announced = b.getInt();
        return a;
    }

    @Override
    protected ActivityState readBody(byte payloadVersion, ByteBuffer b) {
        // Payload version 1 (before refinement): no window.
        return payloadVersion == 1 ? readV1(b) : readBody(b);
    }

    @Override
    public StreamState<ActivityState> readLegacy(byte version, ByteBuffer b) {
        if (version != 1 && version != 2) {
            throw new SerializationException("stream state format version " + version + " was never written by the activity"
                    + " classifier");
        }
        StateSerde.Header h = StateSerde.readHeader(b);
        ActivityState a = new ActivityState();
        a.lastSequence = b.getLong();
        a.lastLabel = b.getInt();
        if (version == 1) {
            a.run = a.lastLabel < 0 ? 0 : 1;
            a.announced = a.lastLabel;
        } else {
            a.run = b.getInt();
            a.announced = b.getInt();
        }
        int n = b.getInt();
        if (n < 0 || 4L * n != b.remaining()) {
            throw new SerializationException("classifier state has " + b.remaining() + " bytes for " + n + " hidden floats");
        }
        return new StreamState<>(h.modelId(), h.modelVersion(), h.stateCompat(), h.steps(), h.lastEventTime(),
                StateSerde.floats(b, n), a);
    }
}

package io.engram.engine.pipeline.activity;

import io.engram.engine.pipeline.refine.Labels;
import io.engram.engine.pipeline.refine.RefineWindow;
import io.engram.engine.state.VersionedPayloadCodec;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Binary layout of {@link ActivityState} behind the common state header (big-endian): byte payload
 * version (2); long last sequence; int last label; int run; int announced label (the live
 * {@link Labels}); then the refinement's window, as {@link RefineWindow} writes it: int lag (0 =
 * none, and nothing more follows), int filled, int F, int H, F x float before, filled x (long seq,
 * long time, F x float features, H x float forward state), int refined label, int refined run, int
 * refined announced. The person pipeline's {@code PoseCodec} writes the same window. Payload
 * version 1 (before refinement) is the first four fields alone, read as a camera with no window.
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
        return 8 + Labels.BYTES + a.window.size();
    }

    @Override
    protected void writeBody(ActivityState a, ByteBuffer b) {
        b.putLong(a.lastSequence);
        a.live.write(b);
        a.window.write(b);
    }

    @Override
    protected ActivityState readBody(ByteBuffer b) {
        ActivityState a = readV1(b);
        a.window = RefineWindow.read(b, kind());
        return a;
    }

    private static ActivityState readV1(ByteBuffer b) {
        ActivityState a = new ActivityState();
        a.lastSequence = b.getLong();
        a.live = Labels.read(b);
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
        int last = b.getInt();
        a.live = version == 1 ? new Labels(last, last < 0 ? 0 : 1, last) : new Labels(last, b.getInt(), b.getInt());
        int n = b.getInt();
        if (n < 0 || 4L * n != b.remaining()) {
            throw new SerializationException("classifier state has " + b.remaining() + " bytes for " + n + " hidden floats");
        }
        return new StreamState<>(h.modelId(), h.modelVersion(), h.stateCompat(), h.steps(), h.lastEventTime(),
                StateSerde.floats(b, n), a);
    }
}

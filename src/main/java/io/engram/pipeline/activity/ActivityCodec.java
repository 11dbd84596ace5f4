package io.engram.pipeline.activity;

import io.engram.core.VersionedPayloadCodec;
import io.engram.core.StateSerde;
import io.engram.core.StreamState;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Binary layout of {@link ActivityState} behind the common state header (big-endian): byte payload
 * version (1); long last sequence; int last label; int run; int announced label.
 *
 * <p>Also reads the classifier's own state formats from before the common one, so that their
 * changelogs restore after an upgrade: format 2 is byte 2; string model id, version, compat; long
 * steps; long last event time; long last sequence; int last label; int run; int announced; int H;
 * H x float hidden. Format 1 has no run and no announced label (every change was announced): it is
 * read as run 1 and announced = last label.
 */
public final class ActivityCodec extends VersionedPayloadCodec<ActivityState> {
    public ActivityCodec() {
        super("activity", (byte) 1);
    }

    @Override
    protected int bodySize(ActivityState a) {
        return 8 + 12;
    }

    @Override
    protected void writeBody(ActivityState a, ByteBuffer b) {
        b.putLong(a.lastSequence).putInt(a.lastLabel).putInt(a.run).putInt(a.announced);
    }

    @Override
    protected ActivityState readBody(ByteBuffer b) {
        ActivityState a = new ActivityState();
        a.lastSequence = b.getLong();
        a.lastLabel = b.getInt();
        a.run = b.getInt();
        a.announced = b.getInt();
        return a;
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

package io.engram.engine.pipeline.pose;

import io.engram.engine.state.VersionedPayloadCodec;
import java.nio.ByteBuffer;

/**
 * Binary layout of {@link PoseState} behind the common state header (big-endian): byte payload
 * version (1); long last sequence; int last label; int run; int upright label; int frames since
 * upright; int fall run.
 */
public final class PoseCodec extends VersionedPayloadCodec<PoseState> {
    public PoseCodec() {
        super("pose-activity", (byte) 1);
    }

    @Override
    protected int bodySize(PoseState p) {
        return 8 + 5 * 4;
    }

    @Override
    protected void writeBody(PoseState p, ByteBuffer b) {
        b.putLong(p.lastSequence).putInt(p.lastLabel).putInt(p.run).putInt(p.upright).putInt(p.sinceUpright).putInt(p.fallRun);
    }

    @Override
    protected PoseState readBody(ByteBuffer b) {
        PoseState p = new PoseState();
        p.lastSequence = b.getLong();
        p.lastLabel = b.getInt();
        p.run = b.getInt();
        p.upright = b.getInt();
        p.sinceUpright = b.getInt();
        p.fallRun = b.getInt();
        return p;
    }

    /** The pose pipeline came after the common format: no state of it predates it. */
    @Override
    public io.engram.engine.state.StreamState<PoseState> readLegacy(byte version, ByteBuffer b) {
        throw new org.apache.kafka.common.errors.SerializationException("stream state format version " + version
                + " was never written by the pose activity pipeline");
    }
}

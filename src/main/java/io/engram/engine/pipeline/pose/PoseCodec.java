package io.engram.engine.pipeline.pose;

import io.engram.engine.state.VersionedPayloadCodec;
import java.nio.ByteBuffer;

/**
 * Binary layout of {@link PoseState} behind the common state header (big-endian): byte payload
 * version (2); long last sequence; int last label; int run; int announced label; int upright
 * label; int frames since upright; int fall run. Version 1 (before the events topic) had no
 * announced label and stays readable: it reads as none announced, so the person's current
 * activity is announced once at their next frame.
 */
public final class PoseCodec extends VersionedPayloadCodec<PoseState> {
    public PoseCodec() {
        super("pose-activity", (byte) 2);
    }

    @Override
    protected int bodySize(PoseState p) {
        return 8 + 6 * 4;
    }

    @Override
    protected void writeBody(PoseState p, ByteBuffer b) {
        b.putLong(p.lastSequence).putInt(p.lastLabel).putInt(p.run).putInt(p.announced).putInt(p.upright).putInt(p.sinceUpright).putInt(p.fallRun);
    }

    @Override
    protected PoseState readBody(ByteBuffer b) {
        return readBody((byte) 2, b);
    }

    @Override
    protected PoseState readBody(byte version, ByteBuffer b) {
        PoseState p = new PoseState();
        p.lastSequence = b.getLong();
        p.lastLabel = b.getInt();
        p.run = b.getInt();
        p.announced = version >= 2 ? b.getInt() : -1;
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

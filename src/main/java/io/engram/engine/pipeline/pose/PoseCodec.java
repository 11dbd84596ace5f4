package io.engram.engine.pipeline.pose;

import io.engram.engine.pipeline.refine.Labels;
import io.engram.engine.pipeline.refine.RefineWindow;
import io.engram.engine.state.VersionedPayloadCodec;
import java.nio.ByteBuffer;

/**
 * Binary layout of {@link PoseState} behind the common state header (big-endian): byte payload
 * version (4); long last sequence; int last label; int run; int announced label (the live
 * {@link Labels}); int upright label; int frames since upright; int fall run; the travel measure
 * ({@link Travel.State}, {@value Travel.State#BYTES} bytes); then the refinement's
 * window as {@link RefineWindow} writes it (int lag, 0 = none and nothing more follows; else the
 * window's frames and the refined labels: the video pipeline's {@code ActivityCodec} writes the same).
 *
 * <p>Older payloads stay readable, so that a changelog restores after an upgrade: version 3 (before
 * the travel gate) is version 4 without the travel measure, read as a person not yet measured (the
 * measure starts at their next frame); version 2 (before
 * the person refiner) is version 3 without the window, read as a person with no window (refinement
 * starts a new one at their next frame); version 1 (before the events topic) also had no announced
 * label: it reads as none announced, so the person's current activity is announced once at their
 * next frame.
 */
public final class PoseCodec extends VersionedPayloadCodec<PoseState> {
    public PoseCodec() {
        super("pose-activity", (byte) 4);
    }

    @Override
    protected int bodySize(PoseState p) {
        return 8 + Labels.BYTES + 3 * 4 + Travel.State.BYTES + p.window.size();
    }

    @Override
    protected void writeBody(PoseState p, ByteBuffer b) {
        b.putLong(p.lastSequence);
        p.live.write(b);
        b.putInt(p.upright).putInt(p.sinceUpright).putInt(p.fallRun);
        p.travel.write(b);
        p.window.write(b);
    }

    @Override
    protected PoseState readBody(ByteBuffer b) {
        return readBody((byte) 4, b);
    }

    @Override
    protected PoseState readBody(byte version, ByteBuffer b) {
        PoseState p = new PoseState();
        p.lastSequence = b.getLong();
        p.live = version >= 2 ? Labels.read(b) : new Labels(b.getInt(), b.getInt(), -1);
        p.upright = b.getInt();
        p.sinceUpright = b.getInt();
        p.fallRun = b.getInt();
        if (version >= 4) {
            p.travel = Travel.State.read(b);
        }
        if (version >= 3) {
            p.window = RefineWindow.read(b, kind());
        }
        return p;
    }

    /** The pose pipeline came after the common format: no state of it predates it. */
    @Override
    public io.engram.engine.state.StreamState<PoseState> readLegacy(byte version, ByteBuffer b) {
        throw new org.apache.kafka.common.errors.SerializationException("stream state format version " + version
                + " was never written by the pose activity pipeline");
    }
}

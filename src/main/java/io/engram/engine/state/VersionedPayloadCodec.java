package io.engram.engine.state;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * A {@link PayloadCodec} whose payload starts with its own version byte and must be read to its
 * last byte: the framing every head's payload shares, so that a head writes only its fields.
 * Stateless and thread-safe.
 */
public abstract class VersionedPayloadCodec<P> implements PayloadCodec<P> {
    private final String kind;
    private final byte version;

    protected VersionedPayloadCodec(String kind, byte version) {
        this.kind = kind;
        this.version = version;
    }

    @Override
    public final String kind() {
        return kind;
    }

    @Override
    public final int size(P payload) {
        return 1 + bodySize(payload);
    }

    @Override
    public final void write(P payload, ByteBuffer out) {
        out.put(version);
        writeBody(payload, out);
    }

    @Override
    public final P read(ByteBuffer in) {
        byte v = in.get();
        if (v < 1 || v > version) {
            throw new SerializationException(kind + " state payload version " + v + " is not supported (this Engram reads 1 to "
                    + version + ")");
        }
        P p = readBody(v, in);
        if (in.hasRemaining()) {
            throw new SerializationException(kind + " state has " + in.remaining() + " trailing bytes");
        }
        return p;
    }

    /** Bytes of the payload's fields, after the version byte. */
    protected abstract int bodySize(P payload);

    protected abstract void writeBody(P payload, ByteBuffer out);

    /** Reads the fields written by {@link #writeBody}. */
    protected abstract P readBody(ByteBuffer in);

    /**
     * Reads a payload of the given version, at most the one this codec writes. Old versions stay
     * readable: a head whose payload grew overrides this for the versions before; by default only
     * the current version is read.
     */
    protected P readBody(byte payloadVersion, ByteBuffer in) {
        if (payloadVersion != version) {
            throw new SerializationException(kind + " state payload version " + payloadVersion + " is not supported (this Engram writes "
                    + version + ")");
        }
        return readBody(in);
    }
}

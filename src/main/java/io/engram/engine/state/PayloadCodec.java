package io.engram.engine.state;

import java.nio.ByteBuffer;

/**
 * How a head's per-stream payload is written behind the common state header of {@link StateSerde},
 * and how states written by formats older than the common one are read. Implementations are
 * stateless and thread-safe; they throw {@link org.apache.kafka.common.errors.SerializationException}
 * (or let a {@link java.nio.BufferUnderflowException} escape) on malformed bytes.
 *
 * @param <P> the payload type
 */
public interface PayloadCodec<P> {
    /** Names the payload's layout, stored in every state: a store read by another head is refused, not misread. */
    String kind();

    /** Bytes {@link #write} will put. */
    int size(P payload);

    /** Writes the payload (its own version byte first, so that it can evolve on its own). */
    void write(P payload, ByteBuffer out);

    /** Reads a payload written by {@link #write}: exactly the bytes left in {@code in}. */
    P read(ByteBuffer in);

    /**
     * Reads a whole state in a format that predates the common one ({@code version} below
     * {@link StateSerde#FORMAT_VERSION}), as the head's pipeline wrote it before. {@code in} is
     * positioned after the version byte; {@link StateSerde#readHeader} reads the parts that those
     * formats shared. Throws a SerializationException for a version this head never wrote.
     */
    StreamState<P> readLegacy(byte version, ByteBuffer in);
}

package io.engram.engine.pipeline.video;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary format of {@link FeatureRecord} on {@code frame-features} (big-endian):
 *
 * <pre>
 * byte   format version (1)
 * int    dimension D
 * short  length L of the encoder reference, then L bytes UTF-8 "id@version"
 * long   frame sequence number (-1 if unknown)
 * D x float32 feature values
 * </pre>
 *
 * Strict: null in, null out; anything malformed is a {@link SerializationException}.
 */
public final class FeatureRecordSerde implements Serde<FeatureRecord>, Serializer<FeatureRecord>, Deserializer<FeatureRecord> {
    public static final byte FORMAT_VERSION = 1;
    private static final int MAX_DIM = 1 << 20;

    @Override
    public byte[] serialize(String topic, FeatureRecord r) {
        if (r == null) {
            return null;
        }
        byte[] enc = r.encoder().getBytes(StandardCharsets.UTF_8);
        if (enc.length > Short.MAX_VALUE) {
            throw new SerializationException("encoder reference too long");
        }
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + 2 + enc.length + 8 + 4 * r.values().length);
        b.put(FORMAT_VERSION).putInt(r.values().length).putShort((short) enc.length).put(enc).putLong(r.sequence());
        for (float v : r.values()) {
            b.putFloat(v);
        }
        return b.array();
    }

    @Override
    public FeatureRecord deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            byte v = b.get();
            if (v != FORMAT_VERSION) {
                throw new SerializationException("feature record format version " + v + " is not supported (expected " + FORMAT_VERSION + ")");
            }
            int dim = b.getInt();
            if (dim < 0 || dim > MAX_DIM) {
                throw new SerializationException("feature record has a bad dimension " + dim);
            }
            int len = b.getShort();
            if (len < 0 || len > b.remaining()) {
                throw new SerializationException("feature record has a bad encoder reference length " + len);
            }
            byte[] enc = new byte[len];
            b.get(enc);
            long seq = b.getLong();
            if (b.remaining() != 4L * dim) {
                throw new SerializationException("feature record has " + b.remaining() + " value bytes for dimension " + dim);
            }
            float[] values = new float[dim];
            for (int i = 0; i < dim; i++) {
                values[i] = b.getFloat();
            }
            return new FeatureRecord(new String(enc, StandardCharsets.UTF_8), seq, values);
        } catch (BufferUnderflowException e) {
            throw new SerializationException("feature record is truncated (" + data.length + " bytes)", e);
        }
    }

    @Override
    public Serializer<FeatureRecord> serializer() {
        return this;
    }

    @Override
    public Deserializer<FeatureRecord> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}

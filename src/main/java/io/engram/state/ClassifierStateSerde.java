package io.engram.state;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary format of {@link ClassifierState} (big-endian): byte format version (2); model id, model
 * version, state compat (each int length + UTF-8); long steps; long last event time; long last
 * sequence; int last label; int run; int announced label; int H; H x float hidden. Version 1 (no run,
 * no announced label: every change was announced) is still read, as run 1 and announced = last
 * label. Strict: null in, null out; malformed bytes are a {@link SerializationException}.
 */
public final class ClassifierStateSerde implements Serde<ClassifierState>, Serializer<ClassifierState>, Deserializer<ClassifierState> {
    public static final byte FORMAT_VERSION = 2;

    @Override
    public byte[] serialize(String topic, ClassifierState s) {
        if (s == null) {
            return null;
        }
        byte[] id = s.modelId.getBytes(StandardCharsets.UTF_8);
        byte[] ver = s.modelVersion.getBytes(StandardCharsets.UTF_8);
        byte[] compat = s.stateCompat.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 12 + id.length + ver.length + compat.length + 24 + 16 + 4 * s.hidden.length);
        b.put(FORMAT_VERSION).putInt(id.length).put(id).putInt(ver.length).put(ver).putInt(compat.length).put(compat);
        b.putLong(s.steps).putLong(s.lastEventTime).putLong(s.lastSequence).putInt(s.lastLabel).putInt(s.run).putInt(s.announced)
                .putInt(s.hidden.length);
        for (float v : s.hidden) {
            b.putFloat(v);
        }
        return b.array();
    }

    @Override
    public ClassifierState deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            byte v = b.get();
            if (v != FORMAT_VERSION && v != 1) {
                throw new SerializationException("classifier state format version " + v + " is not supported");
            }
            ClassifierState s = new ClassifierState();
            s.modelId = string(b);
            s.modelVersion = string(b);
            s.stateCompat = string(b);
            s.steps = b.getLong();
            s.lastEventTime = b.getLong();
            s.lastSequence = b.getLong();
            s.lastLabel = b.getInt();
            if (v == 1) {
                s.run = s.lastLabel < 0 ? 0 : 1;
                s.announced = s.lastLabel;
            } else {
                s.run = b.getInt();
                s.announced = b.getInt();
            }
            int h = b.getInt();
            if (h < 0 || 4L * h != b.remaining()) {
                throw new SerializationException("classifier state has " + b.remaining() + " bytes for " + h + " hidden floats");
            }
            s.hidden = new float[h];
            for (int i = 0; i < h; i++) {
                s.hidden[i] = b.getFloat();
            }
            return s;
        } catch (BufferUnderflowException e) {
            throw new SerializationException("classifier state is truncated", e);
        }
    }

    private static String string(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new SerializationException("classifier state has a bad string length " + n);
        }
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public Serializer<ClassifierState> serializer() {
        return this;
    }

    @Override
    public Deserializer<ClassifierState> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}

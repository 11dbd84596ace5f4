package io.engram.state;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Binary format of {@link StreamState} in the state store and its changelog. Big-endian:
 *
 * <pre>
 * byte    format version (1)
 * string  model id, model version, state compat  (each: int length + UTF-8 bytes)
 * long    steps
 * long    last event time (ms)
 * int     channels C
 * C x double mean, C x double var, C x double forecast
 * int     hidden floats H, H x float hidden
 * double  shortAvg, longMean, longVar
 * long    scored, lastAlertStep, lastAboveStep
 * C x double levelShort, C x double levelMean, C x double levelVar
 * </pre>
 *
 * Strict: null in, null out; anything else that does not parse is a {@link SerializationException}.
 */
public final class StreamStateSerde implements Serde<StreamState>, Serializer<StreamState>, Deserializer<StreamState> {
    public static final byte FORMAT_VERSION = 1;
    /** Guards against reading garbage lengths as huge allocations. */
    private static final int MAX_LEN = 1 << 20;

    @Override
    public byte[] serialize(String topic, StreamState s) {
        if (s == null) {
            return null;
        }
        byte[] id = s.modelId.getBytes(StandardCharsets.UTF_8);
        byte[] ver = s.modelVersion.getBytes(StandardCharsets.UTF_8);
        byte[] compat = s.stateCompat.getBytes(StandardCharsets.UTF_8);
        int c = s.channels();
        int size = 1 + 12 + id.length + ver.length + compat.length + 16 + 4 + c * 24 + 4 + s.hidden.length * 4 + 24 + 24 + c * 24;
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(FORMAT_VERSION);
        b.putInt(id.length).put(id).putInt(ver.length).put(ver).putInt(compat.length).put(compat);
        b.putLong(s.steps).putLong(s.lastEventTime);
        b.putInt(c);
        for (double v : s.mean) b.putDouble(v);
        for (double v : s.var) b.putDouble(v);
        for (double v : s.forecast) b.putDouble(v);
        b.putInt(s.hidden.length);
        for (float v : s.hidden) b.putFloat(v);
        b.putDouble(s.shortAvg).putDouble(s.longMean).putDouble(s.longVar);
        b.putLong(s.scored).putLong(s.lastAlertStep).putLong(s.lastAboveStep);
        for (double v : s.levelShort) b.putDouble(v);
        for (double v : s.levelMean) b.putDouble(v);
        for (double v : s.levelVar) b.putDouble(v);
        return b.array();
    }

    @Override
    public StreamState deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            byte version = b.get();
            if (version != FORMAT_VERSION) {
                throw new SerializationException("stream state format version " + version + " is not supported (expected "
                        + FORMAT_VERSION + ")");
            }
            StreamState s = new StreamState();
            s.modelId = string(b);
            s.modelVersion = string(b);
            s.stateCompat = string(b);
            s.steps = b.getLong();
            s.lastEventTime = b.getLong();
            int c = length(b);
            s.mean = doubles(b, c);
            s.var = doubles(b, c);
            s.forecast = doubles(b, c);
            int h = length(b);
            s.hidden = new float[h];
            for (int i = 0; i < h; i++) s.hidden[i] = b.getFloat();
            s.shortAvg = b.getDouble();
            s.longMean = b.getDouble();
            s.longVar = b.getDouble();
            s.scored = b.getLong();
            s.lastAlertStep = b.getLong();
            s.lastAboveStep = b.getLong();
            s.levelShort = doubles(b, c);
            s.levelMean = doubles(b, c);
            s.levelVar = doubles(b, c);
            if (b.hasRemaining()) {
                throw new SerializationException("stream state has " + b.remaining() + " trailing bytes");
            }
            return s;
        } catch (BufferUnderflowException e) {
            throw new SerializationException("stream state is truncated (" + data.length + " bytes)", e);
        }
    }

    private static int length(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > MAX_LEN || n > b.remaining()) {
            throw new SerializationException("stream state has a bad length " + n);
        }
        return n;
    }

    private static String string(ByteBuffer b) {
        int n = length(b);
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static double[] doubles(ByteBuffer b, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = b.getDouble();
        return d;
    }

    @Override
    public Serializer<StreamState> serializer() {
        return this;
    }

    @Override
    public Deserializer<StreamState> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}

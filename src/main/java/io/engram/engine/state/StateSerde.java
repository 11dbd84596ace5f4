package io.engram.engine.state;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The one binary format of every pipeline's {@link StreamState}, in the state store and its
 * changelog. Big-endian:
 *
 * <pre>
 * byte    format version (3)
 * string  model id, model version, state compat   (each: int length + UTF-8 bytes)
 * long    steps
 * long    last event time (ms)
 * int     H, then H x float: every state pair of the model, concatenated in manifest order
 * string  payload kind (the head's {@link PayloadCodec#kind()})
 * ...     the head's payload, to the end (its own version byte first)
 * </pre>
 *
 * Versions 1 and 2 are the formats of the pipelines before they shared this one (the sensor
 * pipeline's format 1, the activity classifier's formats 1 and 2); they are still read, by the
 * head's {@link PayloadCodec#readLegacy}, so that states already in changelogs restore after an
 * upgrade. Strict: null in, null out; anything else that does not parse is a
 * {@link SerializationException}. Stateless and thread-safe.
 *
 * @param <P> the head's payload type
 */
public final class StateSerde<P> implements Serde<StreamState<P>>, Serializer<StreamState<P>>, Deserializer<StreamState<P>> {
    public static final byte FORMAT_VERSION = 3;
    /** Guards against reading garbage lengths as huge allocations. */
    private static final int MAX_LEN = 1 << 20;

    private final PayloadCodec<P> codec;
    private final byte[] kind;

    public StateSerde(PayloadCodec<P> codec) {
        this.codec = codec;
        this.kind = codec.kind().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] serialize(String topic, StreamState<P> s) {
        if (s == null) {
            return null;
        }
        byte[] id = s.modelId().getBytes(StandardCharsets.UTF_8);
        byte[] ver = s.modelVersion().getBytes(StandardCharsets.UTF_8);
        byte[] compat = s.stateCompat().getBytes(StandardCharsets.UTF_8);
        float[] h = s.hidden();
        ByteBuffer b = ByteBuffer.allocate(1 + 12 + id.length + ver.length + compat.length + 16 + 4 + 4 * h.length + 4 + kind.length
                + codec.size(s.payload()));
        b.put(FORMAT_VERSION);
        b.putInt(id.length).put(id).putInt(ver.length).put(ver).putInt(compat.length).put(compat);
        b.putLong(s.steps()).putLong(s.lastEventTime());
        b.putInt(h.length);
        putFloats(b, h);
        b.putInt(kind.length).put(kind);
        codec.write(s.payload(), b);
        if (b.hasRemaining()) {
            throw new SerializationException("payload codec " + codec.kind() + " wrote " + b.remaining() + " bytes fewer than it sized");
        }
        return b.array();
    }

    @Override
    public StreamState<P> deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            byte version = b.get();
            if (version != FORMAT_VERSION) {
                if (version > 0 && version < FORMAT_VERSION) {
                    return codec.readLegacy(version, b);
                }
                throw new SerializationException("stream state format version " + version + " is not supported (this Engram"
                        + " reads 1 to " + FORMAT_VERSION + ")");
            }
            Header hd = readHeader(b);
            float[] hidden = floats(b, length(b));
            String k = string(b);
            if (!k.equals(codec.kind())) {
                throw new SerializationException("stream state holds a '" + k + "' payload but this pipeline's head keeps '"
                        + codec.kind() + "': is another pipeline using this application id and state store?");
            }
            P payload = codec.read(b.slice());
            return new StreamState<>(hd.modelId(), hd.modelVersion(), hd.stateCompat(), hd.steps(), hd.lastEventTime(), hidden,
                    payload);
        } catch (BufferUnderflowException e) {
            throw new SerializationException("stream state is truncated (" + data.length + " bytes)", e);
        }
    }

    /** The parts every format, old and new, begins with (after the version byte). */
    public record Header(String modelId, String modelVersion, String stateCompat, long steps, long lastEventTime) {}

    /** Reads a {@link Header}: three strings, steps, last event time. */
    public static Header readHeader(ByteBuffer b) {
        return new Header(string(b), string(b), string(b), b.getLong(), b.getLong());
    }

    /** An int length, checked against the bytes left and a sane maximum. */
    public static int length(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > MAX_LEN || n > b.remaining()) {
            throw new SerializationException("stream state has a bad length " + n);
        }
        return n;
    }

    private static String string(ByteBuffer b) {
        byte[] bytes = new byte[length(b)];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    public static float[] floats(ByteBuffer b, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = b.getFloat();
        }
        return f;
    }

    public static double[] doubles(ByteBuffer b, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = b.getDouble();
        }
        return d;
    }

    public static void putFloats(ByteBuffer b, float[] f) {
        for (float v : f) {
            b.putFloat(v);
        }
    }

    public static void putDoubles(ByteBuffer b, double[] d) {
        for (double v : d) {
            b.putDouble(v);
        }
    }

    @Override
    public Serializer<StreamState<P>> serializer() {
        return this;
    }

    @Override
    public Deserializer<StreamState<P>> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}

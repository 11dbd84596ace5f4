package io.engram.engine.pipeline.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class FeatureRecordSerdeTest {
    private final FeatureRecordSerde serde = new FeatureRecordSerde();

    @Test
    void roundTripsWithVersionByteDimensionEncoderAndSequence() {
        FeatureRecord r = new FeatureRecord("frame-encoder-cnn@1.0.0", 42, new float[] {1.5f, -2f, 0f});
        byte[] b = serde.serialize("t", r);
        assertEquals(FeatureRecordSerde.FORMAT_VERSION, b[0]);
        assertEquals(1 + 4 + 2 + 23 + 8 + 12, b.length);
        FeatureRecord back = serde.deserialize("t", b);
        assertEquals(r.encoder(), back.encoder());
        assertEquals(42, back.sequence());
        assertArrayEquals(r.values(), back.values());
        assertNull(serde.serialize("t", null));
        assertNull(serde.deserialize("t", null));
    }

    @Test
    void malformedBytesAreSerializationExceptions() {
        byte[] b = serde.serialize("t", new FeatureRecord("e@1", 1, new float[8]));
        assertThrows(SerializationException.class, () -> serde.deserialize("t", Arrays.copyOf(b, b.length - 1)));
        assertThrows(SerializationException.class, () -> serde.deserialize("t", Arrays.copyOf(b, 5)));
        byte[] v = b.clone();
        v[0] = 7;
        assertThrows(SerializationException.class, () -> serde.deserialize("t", v));
        assertThrows(SerializationException.class, () -> serde.deserialize("t", "{\"json\": true}".getBytes()));
    }
}

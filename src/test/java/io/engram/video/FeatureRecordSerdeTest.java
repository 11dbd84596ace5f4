package io.engram.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.engram.state.ClassifierState;
import io.engram.state.ClassifierStateSerde;
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

    @Test
    void classifierStateRoundTripsAndRejectsGarbage() {
        ClassifierStateSerde cs = new ClassifierStateSerde();
        ClassifierState s = ClassifierState.fresh("activity-gru", "1.0.0", "c", 64);
        s.steps = 9;
        s.lastEventTime = 123;
        s.lastSequence = 8;
        s.lastLabel = 3;
        s.run = 2;
        s.announced = 1;
        s.hidden[5] = 0.25f;
        ClassifierState back = cs.deserialize("t", cs.serialize("t", s));
        assertEquals(ClassifierStateSerde.FORMAT_VERSION, cs.serialize("t", s)[0]);
        assertEquals(9, back.steps);
        assertEquals(3, back.lastLabel);
        assertEquals(2, back.run);
        assertEquals(1, back.announced);
        assertEquals(8, back.lastSequence);
        assertArrayEquals(s.hidden, back.hidden);
        byte[] b = cs.serialize("t", s);
        assertThrows(SerializationException.class, () -> cs.deserialize("t", Arrays.copyOf(b, b.length - 3)));
        byte[] future = b.clone();
        future[0] = 99;
        assertThrows(SerializationException.class, () -> cs.deserialize("t", future));
    }

    @Test
    void classifierStateOfFormatVersion1IsReadAsAnnouncedAtItsLastLabel() {
        // Version 1 had no run and no announced label (every change was announced): the same
        // bytes as version 2 without those two ints.
        ClassifierStateSerde cs = new ClassifierStateSerde();
        ClassifierState s = ClassifierState.fresh("activity-gru", "1.0.0", "c", 4);
        s.steps = 5;
        s.lastLabel = 2;
        s.hidden[1] = 0.5f;
        byte[] v2 = cs.serialize("t", s);
        int fixed = v2.length - 4 - 4 * 4 - 8; // before run, announced, H and the floats
        byte[] v1 = new byte[v2.length - 8];
        System.arraycopy(v2, 0, v1, 0, fixed);
        System.arraycopy(v2, fixed + 8, v1, fixed, v2.length - fixed - 8);
        v1[0] = 1;
        ClassifierState back = cs.deserialize("t", v1);
        assertEquals(5, back.steps);
        assertEquals(2, back.lastLabel);
        assertEquals(1, back.run);
        assertEquals(2, back.announced);
        assertArrayEquals(s.hidden, back.hidden);
    }
}

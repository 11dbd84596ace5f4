package io.engram.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class StreamStateSerdeTest {
    private final StreamStateSerde serde = new StreamStateSerde();

    private static StreamState sample() {
        StreamState s = StreamState.fresh("sensor-forecaster-gru", "1.0.0", "gru-h64-v1", 2, 128);
        s.steps = 12345;
        s.lastEventTime = 1_700_000_000_000L;
        s.mean = new double[] {1.5, -2.25};
        s.var = new double[] {0.1, 4.0};
        s.forecast = new double[] {1.6, -2.0};
        for (int i = 0; i < s.hidden.length; i++) s.hidden[i] = (float) Math.sin(i);
        s.shortAvg = 0.7;
        s.longMean = 0.5;
        s.longVar = 0.01;
        s.scored = 12344;
        s.lastAlertStep = 999;
        s.lastAboveStep = 1003;
        s.levelShort = new double[] {1.55, -2.1};
        s.levelMean = new double[] {1.5, -2.2};
        s.levelVar = new double[] {0.02, 0.5};
        return s;
    }

    @Test
    void roundTripKeepsEveryField() {
        StreamState s = sample();
        byte[] bytes = serde.serialize("t", s);
        assertEquals(StreamStateSerde.FORMAT_VERSION, bytes[0], "first byte is the format version");
        StreamState back = serde.deserialize("t", bytes);
        assertEquals(s, back);
        assertArrayEquals(s.hidden, back.hidden);
        assertArrayEquals(s.levelShort, back.levelShort);
        assertArrayEquals(s.levelMean, back.levelMean);
        assertArrayEquals(s.levelVar, back.levelVar);
        assertEquals("gru-h64-v1", back.stateCompat);
    }

    @Test
    void nullInNullOut() {
        assertNull(serde.serialize("t", null));
        assertNull(serde.deserialize("t", null));
    }

    @Test
    void unknownFormatVersionIsASerializationException() {
        byte[] bytes = serde.serialize("t", sample());
        bytes[0] = 99;
        SerializationException e = assertThrows(SerializationException.class, () -> serde.deserialize("t", bytes));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
    }

    @Test
    void truncatedOrPaddedBytesAreSerializationExceptions() {
        byte[] bytes = serde.serialize("t", sample());
        for (int cut : new int[] {1, 5, 40, bytes.length / 2, bytes.length - 1}) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            assertThrows(SerializationException.class, () -> serde.deserialize("t", truncated), "cut at " + cut);
        }
        byte[] padded = Arrays.copyOf(bytes, bytes.length + 3);
        assertThrows(SerializationException.class, () -> serde.deserialize("t", padded));
    }
}

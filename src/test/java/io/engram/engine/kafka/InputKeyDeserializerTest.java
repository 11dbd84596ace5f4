package io.engram.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class InputKeyDeserializerTest {
    private final InputKeyDeserializer keys = new InputKeyDeserializer();

    private Reason reasonOf(byte[] key, Headers headers) {
        SerializationException e = assertThrows(SerializationException.class, () -> keys.deserialize("t", headers, key));
        return assertInstanceOf(BadInputException.class, e.getCause()).reason();
    }

    @Test
    void aUtf8KeyIsTheIdAndAnEmptyOneIsNoKey() {
        assertEquals("датчик ✓", keys.deserialize("t", new RecordHeaders(), "датчик ✓".getBytes(StandardCharsets.UTF_8)));
        assertEquals("k".repeat(InputKeyDeserializer.MAX_KEY_BYTES),
                keys.deserialize("t", new RecordHeaders(), "k".repeat(InputKeyDeserializer.MAX_KEY_BYTES).getBytes(StandardCharsets.UTF_8)));
        assertNull(keys.deserialize("t", new RecordHeaders(), (byte[]) null));
        assertNull(keys.deserialize("t", new RecordHeaders(), new byte[0]), "empty: dead-lettered as null-key by the processor");
    }

    @Test
    void aKeyThatIsNotUtf8IsABadKey() {
        // A lenient decoder maps both to "s-\uFFFD", merging two streams' state.
        assertEquals(Reason.BAD_KEY, reasonOf(new byte[] {'s', '-', (byte) 0xFF}, new RecordHeaders()));
        assertEquals(Reason.BAD_KEY, reasonOf(new byte[] {'s', '-', (byte) 0xC0, (byte) 0x80}, new RecordHeaders()));
        assertEquals(Reason.BAD_KEY, reasonOf(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new RecordHeaders()), "a lone surrogate");
    }

    @Test
    void aKeyOrHeadersOverTheirLimitAreTooLarge() {
        assertEquals(Reason.TOO_LARGE, reasonOf(new byte[InputKeyDeserializer.MAX_KEY_BYTES + 1], new RecordHeaders()));
        RecordHeaders big = new RecordHeaders();
        big.add("h", new byte[InputKeyDeserializer.MAX_HEADER_BYTES]);
        assertEquals(Reason.TOO_LARGE, reasonOf("k".getBytes(StandardCharsets.UTF_8), big), "name + value over the limit");
        RecordHeaders fits = new RecordHeaders();
        fits.add("h", new byte[InputKeyDeserializer.MAX_HEADER_BYTES - 2]); // with the names, exactly the limit
        fits.add("n", null);
        assertEquals("k", keys.deserialize("t", fits, "k".getBytes(StandardCharsets.UTF_8)));
    }
}

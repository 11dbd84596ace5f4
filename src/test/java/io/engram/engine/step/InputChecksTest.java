package io.engram.engine.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/** The checks the step and the frame stage share: the same reasons and words for both. */
class InputChecksTest {
    static Record<String, byte[]> rec(String key, String value, String controlHeader) {
        RecordHeaders h = new RecordHeaders();
        if (controlHeader != null) {
            h.add(StateLifecycle.CONTROL_HEADER, controlHeader.equals("<null>") ? null : controlHeader.getBytes(StandardCharsets.UTF_8));
        }
        return new Record<>(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8), 0L, h);
    }

    @Test
    void aMissingKeyIsRefusedWithTheCallersWords() {
        assertEquals("cam-1", InputChecks.key(rec("cam-1", "x", null), "unused"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> InputChecks.key(rec(null, "x", null), "frame has no key; the key must be the camera id"));
        assertEquals(Reason.NULL_KEY, e.reason());
        assertEquals("frame has no key; the key must be the camera id", e.getMessage());
    }

    @Test
    void theHeaderWinsAndTheInValueFormIsReadOnlyForAValue() {
        assertEquals("reset", InputChecks.control(rec("k", "!pause", " reset "), v -> "in-value"), "header, trimmed");
        assertEquals("", InputChecks.control(rec("k", "x", "<null>"), v -> "in-value"), "a header without a value");
        assertEquals("in-value", InputChecks.control(rec("k", "x", null), v -> "in-value"));
        assertNull(InputChecks.control(rec("k", null, null), v -> "in-value"), "a tombstone is never read");
        assertNull(InputChecks.control(rec("k", "x", null), null), "no in-value form");
        assertNull(InputChecks.control(rec("k", "x", null), v -> null), "data");
    }

    @Test
    void onlyResetIsACommand() {
        InputChecks.requireReset("reset", "stream s");
        BadInputException e = assertThrows(BadInputException.class, () -> InputChecks.requireReset("pause", "camera cam-1"));
        assertEquals(Reason.BAD_FIELD, e.reason());
        assertEquals("control record for camera cam-1 asks for 'pause'; the only control is reset", e.getMessage());
    }
}

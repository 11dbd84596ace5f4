package io.engram.engine.step;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The first checks of every processor that reads a pipeline's input topic: the key, and whether
 * the record is a control command (and if so, that it is one Engram knows). The {@link StepProcessor}
 * and the video pipeline's frame stage both run them, in this order, before they look at the value,
 * so that a record is refused with the same reason and words whichever stage reads it first.
 * Stateless; the static methods are safe on any thread.
 */
public final class InputChecks {
    private InputChecks() {}

    /**
     * The record's key; a record without one is refused ({@code null-key}) with {@code detail} as the
     * message, which says what the key of this input should be.
     */
    public static String key(Record<String, ?> record, String detail) {
        String key = record.key();
        if (key == null) {
            throw new BadInputException(Reason.NULL_KEY, detail);
        }
        return key;
    }

    /**
     * The command of a control record: its {@value StateLifecycle#CONTROL_HEADER} header (UTF-8,
     * trimmed; a header without a value is the empty command), else, for a non-null value, what
     * {@code inValue} reads from it (a head's in-value form, which must not throw; null: none). Null
     * for a data record.
     */
    public static String control(Record<String, byte[]> record, Function<byte[], String> inValue) {
        String command = control(record.headers());
        if (command == null && inValue != null && record.value() != null) {
            command = inValue.apply(record.value());
        }
        return command;
    }

    /** The command of a control record's {@value StateLifecycle#CONTROL_HEADER} header, or null for a data record. */
    public static String control(Headers headers) {
        Header h = headers == null ? null : headers.lastHeader(StateLifecycle.CONTROL_HEADER);
        if (h == null) {
            return null;
        }
        return h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8).trim();
    }

    /**
     * Refuses ({@code bad-field}) a control command other than {@value StateLifecycle#RESET_COMMAND},
     * the only one; {@code subject} names what the key is, as in {@code "stream pump-7"} or
     * {@code "camera cam-1"}.
     */
    public static void requireReset(String command, String subject) {
        if (!command.equals(StateLifecycle.RESET_COMMAND)) {
            throw new BadInputException(Reason.BAD_FIELD, "control record for " + subject + " asks for '" + command
                    + "'; the only control is " + StateLifecycle.RESET_COMMAND);
        }
    }
}

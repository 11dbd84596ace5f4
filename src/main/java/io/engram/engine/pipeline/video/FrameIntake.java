package io.engram.engine.pipeline.video;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.step.InputChecks;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.Record;

/**
 * What every frame stage (the encoder's, the pose stage) reads from a frame record before it
 * decodes the image, with the same checks and dead-letter reasons in each: the camera id (the key),
 * a reset control record, and the frame's bytes, {@code seq} and {@code content-type} headers.
 * Stateless.
 */
public final class FrameIntake {
    private FrameIntake() {}

    /** A frame that passed the checks: its camera, its image bytes, its {@code seq} header (-1 when absent) and content type (or null). */
    public record Frame(String camera, byte[] bytes, long seq, String contentType) {}

    /**
     * The camera id of {@code record}: its key.
     *
     * @throws BadInputException when the record has no key
     */
    public static String camera(Record<String, byte[]> record) {
        return InputChecks.key(record, "frame has no key; the key must be the camera id");
    }

    /**
     * True when {@code record} is a reset control record for {@code camera}. Frames have no in-value
     * control form: a frame's bytes are an image, never a command; the command is a header.
     *
     * @throws BadInputException when it is a control record of another kind
     */
    public static boolean isReset(Record<String, byte[]> record, String camera) {
        String control = InputChecks.control(record, null);
        if (control == null) {
            return false;
        }
        InputChecks.requireReset(control, "camera " + camera);
        return true;
    }

    /**
     * The frame of {@code record}, checked: not empty, at most {@code maxFrameBytes} (the setting
     * named {@code setting} in the refusal), a numeric {@code seq} header if any.
     *
     * @throws BadInputException when a check fails
     */
    public static Frame frame(Record<String, byte[]> record, String camera, int maxFrameBytes, String setting) {
        byte[] bytes = record.value();
        if (bytes == null || bytes.length == 0) {
            throw new BadInputException(Reason.EMPTY_FRAME, "camera " + camera + " sent a frame with no bytes");
        }
        if (bytes.length > maxFrameBytes) {
            throw new BadInputException(Reason.TOO_LARGE, "camera " + camera + " sent a frame of " + bytes.length
                    + " bytes, over " + setting + " " + maxFrameBytes);
        }
        long seq = -1;
        String s = header(record.headers(), FrameEncodeProcessor.H_SEQ);
        if (s != null) {
            try {
                seq = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new BadInputException(Reason.BAD_FIELD, "header seq '" + s + "' is not a number");
            }
        }
        return new Frame(camera, bytes, seq, header(record.headers(), FrameEncodeProcessor.H_CONTENT_TYPE));
    }

    /** The last {@code name} header as UTF-8 text, or null. */
    public static String header(Headers headers, String name) {
        Header h = headers == null ? null : headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}

package io.engram.engine.kafka;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * The key deserializer of every input topic: the key is the stream (or camera) id, and it is checked
 * before any state is touched, so that a bad one is dead-lettered whole instead of becoming a stream.
 *
 * <ul>
 *   <li>not valid UTF-8: {@code bad-key}. A lenient decoder would turn different byte keys into the
 *       same id (each bad byte becomes U+FFFD) and merge their streams' state;
 *   <li>over {@value #MAX_KEY_BYTES} bytes, or headers (names + values) over {@value #MAX_HEADER_BYTES}
 *       bytes: {@code too-large}. Keys and headers are copied to the outputs and the state
 *       changelog, which would otherwise exceed Kafka's record limit after the stream has stepped;
 *   <li>empty: read as no key, so that the processor dead-letters it as {@code null-key}.
 * </ul>
 *
 * Failures are {@link SerializationException}s caused by a {@link BadInputException}, which the
 * deserialization exception handler dead-letters with the original bytes. Stateless.
 */
public final class InputKeyDeserializer implements Deserializer<String> {
    public static final int MAX_KEY_BYTES = 4096;
    public static final int MAX_HEADER_BYTES = 65_536;

    @Override
    public String deserialize(String topic, byte[] data) {
        return deserialize(topic, null, data);
    }

    @Override
    public String deserialize(String topic, Headers headers, byte[] data) {
        long headerBytes = DeadLetterHandler.headerBytes(headers);
        if (headerBytes > MAX_HEADER_BYTES) {
            throw bad(Reason.TOO_LARGE, "record headers take " + headerBytes + " bytes, over the limit of " + MAX_HEADER_BYTES);
        }
        if (data == null || data.length == 0) {
            return null;
        }
        if (data.length > MAX_KEY_BYTES) {
            throw bad(Reason.TOO_LARGE, "key of " + data.length + " bytes is over the limit of " + MAX_KEY_BYTES);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data)).toString();
        } catch (CharacterCodingException e) {
            throw bad(Reason.BAD_KEY, "key is not valid UTF-8; the key must be the stream or camera id as UTF-8 text");
        }
    }

    private static SerializationException bad(Reason reason, String message) {
        return new SerializationException(message, new BadInputException(reason, message));
    }
}

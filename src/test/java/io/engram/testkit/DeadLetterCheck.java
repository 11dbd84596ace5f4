package io.engram.testkit;

import static io.engram.testkit.Bytes.abbreviate;
import static io.engram.testkit.Bytes.header;
import static io.engram.testkit.Bytes.headerBytes;
import static io.engram.testkit.Bytes.lastHeader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.monitoring.EngramMetrics;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The dead-letter bookkeeping of a fuzz run, for any pipeline: every bad record has exactly one
 * dead letter, with its documented reason, a message, its source and its original bytes (or the
 * documented dropped-bytes headers); there are no others; and the dead-letter metric counts them by
 * reason. Also docs/topics.md's key and header rules, which every input topic shares.
 */
public final class DeadLetterCheck {
    /** docs/topics.md: a dead letter never copies a value over this; it names its size instead. */
    public static final int MAX_COPIED = 900_000;
    /**
     * Header that identifies a bad record whose dead letter does not name the record's own topic and
     * offset (a record that a later stage refuses: its dead letter is of that stage's input).
     */
    public static final String FUZZ_ID = "fuzz-id";

    private DeadLetterCheck() {}

    /** docs/topics.md's key and header rules: the reason a record is refused for them, or null when its key is a good id. */
    public static String keyProblem(byte[] key, Header[] headers) {
        if (headerBytes(headers) > InputKeyDeserializer.MAX_HEADER_BYTES) {
            return "too-large";
        }
        if (key == null || key.length == 0) {
            return "null-key";
        }
        if (key.length > InputKeyDeserializer.MAX_KEY_BYTES) {
            return "too-large";
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(key));
        } catch (CharacterCodingException e) {
            return "bad-key";
        }
        return null;
    }

    /** Bad records by reason. */
    public static Map<String, Long> byReason(List<FuzzRecord> bad) {
        Map<String, Long> m = new TreeMap<>();
        bad.forEach(s -> m.merge(s.reason, 1L, Long::sum));
        return m;
    }

    /**
     * Checks the dead letters {@code dead} (every record of the dead-letter topic) against the bad
     * records {@code bad} and the metric.
     *
     * @param documented the reasons docs/topics.md lists for the pipeline
     * @param laterStage checks the dead letter of a record refused by a later stage than the one that
     *     read it (its {@link FuzzRecord#deadLetterTopic} is not its topic), whose value is that stage's input
     * @param seed adds the run's seed to a failure message
     */
    public static void check(List<FuzzRecord> bad, List<ConsumerRecord<byte[], byte[]>> dead, EngramMetrics metrics, Set<String> documented,
            BiConsumer<FuzzRecord, ConsumerRecord<byte[], byte[]>> laterStage, UnaryOperator<String> seed) {
        Map<String, FuzzRecord> bySource = new HashMap<>();
        Map<String, FuzzRecord> byFuzzId = new HashMap<>();
        for (FuzzRecord s : bad) {
            String id = lastHeader(s.headers, FUZZ_ID);
            if (id != null) {
                byFuzzId.put(id, s);
            } else {
                bySource.put(s.topic + "/" + s.partition + "/" + s.offset, s);
            }
        }
        Map<FuzzRecord, ConsumerRecord<byte[], byte[]>> matched = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            String reason = header(d, DeadLetterHandler.H_REASON);
            String source = header(d, DeadLetterHandler.H_TOPIC) + "/" + header(d, DeadLetterHandler.H_PARTITION) + "/"
                    + header(d, DeadLetterHandler.H_OFFSET);
            String fuzzId = lastHeader(d.headers().toArray(), FUZZ_ID);
            FuzzRecord s = fuzzId != null ? byFuzzId.get(fuzzId) : bySource.get(source);
            if (s == null) {
                problems.add("a dead letter for no bad record: " + source + " reason " + reason + ": " + header(d, DeadLetterHandler.H_MESSAGE));
                continue;
            }
            if (matched.put(s, d) != null) {
                problems.add("two dead letters for " + s.describe());
                continue;
            }
            if (!s.reason.equals(reason)) {
                problems.add(s.describe() + ": reason " + reason + " (" + header(d, DeadLetterHandler.H_MESSAGE) + "), expected " + s.reason);
                continue;
            }
            if (!documented.contains(reason)) {
                problems.add(s.describe() + ": reason " + reason + " is not documented");
            }
            String message = header(d, DeadLetterHandler.H_MESSAGE);
            if (message == null || message.isBlank() || message.length() > 2000) {
                problems.add(s.describe() + ": message '" + abbreviate(message) + "'");
            }
            assertEquals(s.deadLetterTopic, header(d, DeadLetterHandler.H_TOPIC), seed.apply("source topic of " + s.describe()));
            if (s.deadLetterTopic.equals(s.topic)) {
                checkOriginal(s, d, problems);
            } else {
                assertArrayEquals(s.key, d.key(), seed.apply("key of " + s.describe()));
                laterStage.accept(s, d);
            }
        }
        for (FuzzRecord s : bad) {
            if (!matched.containsKey(s)) {
                problems.add("no dead letter for " + s.describe() + ", expected " + s.reason);
            }
        }
        if (!problems.isEmpty()) {
            fail(seed.apply(problems.size() + " dead-letter problems:\n  " + String.join("\n  ", problems.subList(0, Math.min(40, problems.size())))));
        }
        Map<String, Long> expected = byReason(bad);
        for (BadInputException.Reason r : BadInputException.Reason.values()) {
            assertEquals(expected.getOrDefault(r.code(), 0L).doubleValue(), metrics.deadLetterCount(r),
                    seed.apply("engram.dead.letters{reason=" + r.code() + "}"));
        }
    }

    /** The dead letter carries the original key, value, headers and timestamp, or says how large a dropped part was. */
    static void checkOriginal(FuzzRecord s, ConsumerRecord<byte[], byte[]> d, List<String> problems) {
        long headerBytes = headerBytes(s.headers);
        long total = (s.key == null ? 0 : s.key.length) + (s.value == null ? 0 : s.value.length) + headerBytes;
        String valueDropped = header(d, DeadLetterHandler.H_VALUE_DROPPED);
        String keyDropped = header(d, DeadLetterHandler.H_KEY_DROPPED);
        String headersDropped = header(d, DeadLetterHandler.H_HEADERS_DROPPED);
        if (total <= MAX_COPIED && (valueDropped != null || keyDropped != null || headersDropped != null)) {
            problems.add(s.describe() + ": a record of " + total + " bytes lost a part in its dead letter");
        }
        if (s.value != null && s.value.length > MAX_COPIED && valueDropped == null) {
            problems.add(s.describe() + ": value over " + MAX_COPIED + " bytes copied");
        }
        if (valueDropped != null) {
            if (d.value() != null || !Integer.toString(s.value.length).equals(valueDropped)) {
                problems.add(s.describe() + ": value dropped header " + valueDropped);
            }
        } else if (!Arrays.equals(s.value, d.value())) {
            problems.add(s.describe() + ": value not the original bytes");
        }
        if (keyDropped != null) {
            if (d.key() != null || !Integer.toString(s.key.length).equals(keyDropped)) {
                problems.add(s.describe() + ": key dropped header " + keyDropped);
            }
        } else if (!Arrays.equals(s.key, d.key()) && !(s.key != null && s.key.length == 0 && d.key() == null)) {
            problems.add(s.describe() + ": key " + abbreviate(d.key()) + " not the original bytes");
        }
        Header[] dh = d.headers().toArray();
        if (headersDropped != null) {
            if (!Long.toString(headerBytes).equals(headersDropped)) {
                problems.add(s.describe() + ": headers dropped header " + headersDropped + ", original " + headerBytes);
            }
        } else {
            for (int i = 0; i < s.headers.length; i++) {
                if (i >= dh.length || !s.headers[i].key().equals(dh[i].key()) || !Arrays.equals(s.headers[i].value(), dh[i].value())) {
                    problems.add(s.describe() + ": original header " + i + " '" + s.headers[i].key() + "' not copied");
                    break;
                }
            }
        }
        if (d.timestamp() != s.timestamp) {
            problems.add(s.describe() + ": timestamp " + d.timestamp() + ", original " + s.timestamp);
        }
    }
}

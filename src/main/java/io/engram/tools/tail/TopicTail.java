package io.engram.tools.tail;

import io.engram.tools.kafka.KafkaAccess;
import io.engram.tools.kafka.KafkaClients;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * Follows one topic and turns each record into one JSON line, the logic behind {@code engram tail}.
 *
 * <p>Lifecycle: {@link #open} checks the topic (a {@link ConfigException} when it or the broker is
 * missing), creates the consumer and positions it, so that records produced after {@code open}
 * returns are seen even when starting at the end; {@link #run} then prints until a stop condition;
 * {@link #close()} closes the consumer (committing the group's offsets, if any). One thread only, as
 * for any {@link KafkaConsumer}; stop it from another thread through {@code run}'s {@code keepGoing}.
 *
 * <p>Reads with {@code isolation.level=read_committed}: Engram's pipelines write in transactions, and
 * a tail must not show records of aborted ones.
 */
public final class TopicTail implements AutoCloseable {
    /**
     * What to follow.
     *
     * @param bootstrap Kafka bootstrap servers
     * @param topic the topic, all of its partitions
     * @param fromBeginning start at the earliest offsets rather than at the end (with a group: when it has no committed offsets)
     * @param max stop after this many records, or null for no limit
     * @param idleTimeout stop after this long without a new record, or null to run until stopped
     * @param group consumer group whose offsets are committed, or null for none (assign all partitions)
     * @param client the user's Kafka client properties (security settings), applied over the tail's own
     */
    public record Options(String bootstrap, String topic, boolean fromBeginning, Long max, Duration idleTimeout, String group,
            Map<String, String> client) {
        public Options(String bootstrap, String topic, boolean fromBeginning, Long max, Duration idleTimeout, String group) {
            this(bootstrap, topic, fromBeginning, max, idleTimeout, group, Map.of());
        }
    }

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Options options;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final int partitions;
    /** Records fetched while waiting for a group assignment in {@link #open}, printed first by {@link #run}. */
    private final Deque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();
    private final Map<TopicPartition, OffsetAndMetadata> printed = new HashMap<>();

    private TopicTail(Options options, KafkaConsumer<byte[], byte[]> consumer, int partitions) {
        this.options = options;
        this.consumer = consumer;
        this.partitions = partitions;
    }

    /**
     * Checks the topic, creates the consumer and positions it.
     *
     * @param checkTimeout how long to wait for the broker (and, with a group, for its assignment)
     * @throws ConfigException when the broker is unreachable or the topic does not exist
     */
    public static TopicTail open(Options o, Duration checkTimeout) {
        var description = KafkaAccess.describeTopic(o.bootstrap(), o.client(), o.topic(), checkTimeout);
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "engram-tail");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, o.fromBeginning() ? "earliest" : "latest");
        // Offsets are committed by hand, and only up to what was printed: --max may stop mid-batch.
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        if (o.group() != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, o.group());
        }
        KafkaConsumer<byte[], byte[]> consumer = KafkaClients.consumer(o.bootstrap(), p, o.client());
        TopicTail tail = new TopicTail(o, consumer, description.partitions().size());
        try {
            tail.position(description.partitions().stream().map(i -> new TopicPartition(o.topic(), i.partition())).toList(), checkTimeout);
        } catch (RuntimeException e) {
            consumer.close(Duration.ofSeconds(5));
            throw e;
        }
        return tail;
    }

    private void position(List<TopicPartition> tps, Duration timeout) {
        if (options.group() == null) {
            consumer.assign(tps);
            if (options.fromBeginning()) {
                consumer.seekToBeginning(tps);
            } else {
                consumer.seekToEnd(tps);
            }
            // Seeks are lazy; resolving them now fixes "the end" at open() rather than at the first poll.
            for (TopicPartition tp : tps) {
                consumer.position(tp, timeout);
            }
            return;
        }
        consumer.subscribe(List.of(options.topic()));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (consumer.assignment().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new ConfigException("consumer group '" + options.group() + "' got no partitions of '" + options.topic()
                        + "' within " + timeout.toSeconds() + " s; other members of the group may hold them all: use another --group");
            }
            consumer.poll(POLL).forEach(pending::add);
        }
    }

    /** The number of partitions being followed. */
    public int partitions() {
        return partitions;
    }

    /**
     * Prints records to {@code out}, one JSON line each ({@link #toJson}), until {@code max} records,
     * {@code idleTimeout} without a record, or {@code keepGoing} turning false (checked every 200 ms).
     *
     * @return the number of records printed
     */
    public long run(Consumer<String> out, BooleanSupplier keepGoing) {
        long count = 0;
        long max = options.max() == null ? Long.MAX_VALUE : options.max();
        long idleNanos = options.idleTimeout() == null ? Long.MAX_VALUE : options.idleTimeout().toNanos();
        long lastRecord = System.nanoTime();
        while (count < max && keepGoing.getAsBoolean()) {
            if (pending.isEmpty()) {
                consumer.poll(POLL).forEach(pending::add);
            }
            if (pending.isEmpty()) {
                if (System.nanoTime() - lastRecord >= idleNanos) {
                    break;
                }
                continue;
            }
            while (!pending.isEmpty() && count < max) {
                ConsumerRecord<byte[], byte[]> r = pending.poll();
                out.accept(toJson(r));
                printed.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                count++;
            }
            lastRecord = System.nanoTime();
            commit(false);
        }
        return count;
    }

    private void commit(boolean sync) {
        if (options.group() == null || printed.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = Map.copyOf(printed);
        if (sync) {
            consumer.commitSync(offsets, Duration.ofSeconds(5));
        } else {
            consumer.commitAsync(offsets, null);
        }
    }

    /** Commits the printed offsets (with a group) and closes the consumer. */
    @Override
    public void close() {
        try {
            commit(true);
        } catch (KafkaException e) {
            System.err.println("engram: could not commit the offsets of group '" + options.group() + "': " + e.getMessage());
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /**
     * One record as a JSON line: {@code {"topic","partition","offset","key","timestamp","headers","value"}}.
     * The key and header values are UTF-8 strings (a key that is not UTF-8 becomes {@code "key_base64"});
     * the value is embedded as JSON when it parses as JSON, else as a UTF-8 string, else as
     * {@code "value_base64"}. A header name that repeats maps to an array of its values, in order.
     */
    public static String toJson(ConsumerRecord<byte[], byte[]> r) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("topic", r.topic());
        n.put("partition", r.partition());
        n.put("offset", r.offset());
        putBytes(n, "key", r.key(), false);
        n.put("timestamp", r.timestamp());
        ObjectNode headers = n.putObject("headers");
        for (Header h : r.headers()) {
            String v = h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
            JsonNode prev = headers.get(h.key());
            if (prev == null) {
                headers.put(h.key(), v);
            } else if (prev.getNodeType() == JsonNodeType.ARRAY) {
                ((ArrayNode) prev).add(v);
            } else {
                ArrayNode arr = headers.putArray(h.key());
                arr.add(prev);
                arr.add(v);
            }
        }
        putBytes(n, "value", r.value(), true);
        try {
            return MAPPER.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void putBytes(ObjectNode n, String field, byte[] bytes, boolean embedJson) {
        if (bytes == null) {
            n.putNull(field);
            return;
        }
        String text = utf8(bytes);
        if (text == null) {
            n.put(field + "_base64", Base64.getEncoder().encodeToString(bytes));
            return;
        }
        if (embedJson && !text.isBlank()) {
            try {
                JsonNode json = MAPPER.readTree(text);
                if (json != null && !json.isMissingNode()) {
                    n.set(field, json);
                    return;
                }
            } catch (IOException notJson) {
                // a plain string value
            }
        }
        n.put(field, text);
    }

    /** The bytes as a string when they are valid UTF-8, else null. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}

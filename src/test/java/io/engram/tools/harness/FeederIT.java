package io.engram.tools.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.testkit.KafkaBroker;
import io.engram.tools.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The crash tests' and the soak's input: every record in its topic once, in order, through a broker
 * outage in the middle of the feed, each chunk a transaction. (An idempotent producer alone once
 * doubled a chunk that was in flight when the broker stopped, and a crash test then saw Engram step
 * those frames twice.)
 */
class FeederIT {
    static final String TOPIC = "feeder-it";
    static final int PARTITIONS = 4;
    static final int KEYS = 8;
    static final int RECORDS = 400;
    static final int CHUNK = 16;

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @Test
    void everyRecordIsCommittedOnceAndInOrderThroughABrokerOutage() throws Exception {
        kafka.createTopics(PARTITIONS, TOPIC);
        List<ProducerRecord<byte[], byte[]>> input = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            input.add(new ProducerRecord<>(TOPIC, bytes("k" + i % KEYS), bytes("r" + i)));
        }
        try (Feeder feeder = new Feeder(kafka.bootstrap(), input, CHUNK, 5)) {
            feeder.allow(RECORDS);
            feeder.awaitSent(RECORDS / 4, Duration.ofSeconds(60));
            kafka.stop();
            try {
                Thread.sleep(3_000); // the outage: its length is the scenario, not a wait for an event
            } finally {
                kafka.restart();
            }
            feeder.awaitSent(RECORDS, Duration.ofSeconds(120));
        }

        // Read past the expected count, so that a record written twice would show.
        List<ConsumerRecord<byte[], byte[]>> got = TopicReader.readCommitted(kafka.bootstrap(), TOPIC, RECORDS, Duration.ofSeconds(60));
        assertEquals(RECORDS, got.size(), "records committed");
        Map<String, List<String>> byKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : got) {
            byKey.computeIfAbsent(text(r.key()), k -> new ArrayList<>()).add(text(r.value()));
        }
        for (int k = 0; k < KEYS; k++) {
            List<String> expected = new ArrayList<>();
            for (int i = k; i < RECORDS; i += KEYS) {
                expected.add("r" + i);
            }
            assertEquals(expected, byKey.get("k" + k), "key k" + k + ": each record once, in the order sent");
        }

        // Sent in transactions: the commit markers take offsets of their own, so the log ends past
        // the last record (an idempotent producer's log would end exactly at it).
        Map<TopicPartition, OffsetSpec> parts = new HashMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            parts.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
        }
        try (Admin admin = KafkaClients.admin(kafka.bootstrap())) {
            long end = TopicReader.offsets(admin, parts, IsolationLevel.READ_UNCOMMITTED).values().stream().mapToLong(Long::longValue).sum();
            assertTrue(end >= RECORDS + RECORDS / CHUNK, "the log holds " + end + " offsets for " + RECORDS + " records: markers of "
                    + "at least one transaction per chunk");
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}

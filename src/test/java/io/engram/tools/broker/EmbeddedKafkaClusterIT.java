package io.engram.tools.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.ReplicationCheck;
import io.engram.tools.harness.TopicReader;
import io.engram.tools.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link EmbeddedKafkaCluster} as a real 3-node KRaft cluster: a topic with factor 3 and
 * {@code min.insync.replicas} 2 keeps every acks=all write, exactly once, through the loss of its
 * partition's leader, and the leader, restarted, rejoins the in-sync replicas.
 */
class EmbeddedKafkaClusterIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static EmbeddedKafkaCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedKafkaCluster.start(3);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
            cluster.close();
        }
    }

    @Test
    void aReplicatedTopicKeepsEveryWriteThroughItsLeadersLossAndTheLeaderRejoins() throws Exception {
        String topic = "replicated";
        String bootstrap = cluster.bootstrapServers();
        assertEquals(3, bootstrap.split(",").length, bootstrap);
        try (Admin admin = KafkaClients.admin(bootstrap)) {
            assertEquals(3, admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size(), "three brokers");
            admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.of((short) 3))
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
            TopicPartitionInfo before = awaitPartition(admin, topic, p -> p.leader() != null && p.isr().size() == 3,
                    "a leader and three in-sync replicas");
            assertEquals(3, before.replicas().size());

            int first = 100;
            int second = 100;
            try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(bootstrap,
                    Map.of("acks", "all", "enable.idempotence", "true", "delivery.timeout.ms", "60000",
                            "request.timeout.ms", "10000", "reconnect.backoff.max.ms", "500"), Map.of())) {
                send(producer, topic, 0, first);
                int leader = before.leader().id();
                cluster.stop(cluster.indexOf(leader));
                assertTrue(!cluster.isRunning(cluster.indexOf(leader)));
                send(producer, topic, first, first + second);
                TopicPartitionInfo during = awaitPartition(admin, topic,
                        p -> p.leader() != null && p.leader().id() != leader, "a new leader");
                assertNotEquals(leader, during.leader().id());

                List<ConsumerRecord<byte[], byte[]>> read = TopicReader.readCommitted(bootstrap, topic, first + second, TIMEOUT);
                Map<String, Integer> counts = new TreeMap<>();
                for (ConsumerRecord<byte[], byte[]> r : read) {
                    counts.merge(new String(r.value(), StandardCharsets.UTF_8), 1, Integer::sum);
                }
                assertEquals(first + second, read.size(), "every record once, none duplicated");
                for (int i = 0; i < first + second; i++) {
                    assertEquals(1, counts.getOrDefault("v" + i, 0), "record v" + i);
                }

                cluster.restart(cluster.indexOf(leader));
                assertTrue(cluster.isRunning(cluster.indexOf(leader)));
                TopicPartitionInfo after = awaitPartition(admin, topic,
                        p -> p.isr().stream().anyMatch(n -> n.id() == leader) && p.isr().size() == 3,
                        "node " + leader + " back in sync");
                assertEquals(3, after.isr().size());
            }
        }
    }

    @Test
    void factorOneOnThreeBrokersGetsTheReplicationWarning() throws Exception {
        String topic = "single-copy";
        EmbeddedKafka.createTopics(cluster.bootstrapServers(), 1, (short) 1, topic);
        ReplicationCheck.Facts facts = ReplicationCheck.describe(cluster.bootstrapServers(), Map.of(), List.of(topic), 1, null);
        String line = ReplicationCheck.warning("p", "outputs", facts);
        assertNotNull(line, "a warning for a factor 1 topic on 3 brokers");
        assertTrue(line.startsWith("pipeline p: outputs not durable on this cluster of 3 brokers: "), line);
        assertTrue(line.contains(topic + " (factor 1 < 3 on 3 brokers"), line);
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, int from, int to) throws Exception {
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        for (int i = from; i < to; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, ("k" + i).getBytes(StandardCharsets.UTF_8),
                    ("v" + i).getBytes(StandardCharsets.UTF_8))));
        }
        for (java.util.concurrent.Future<?> f : sent) {
            f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    /** Polls the topic's partition 0 until {@code until} holds, failing after {@link #TIMEOUT}. */
    private static TopicPartitionInfo awaitPartition(Admin admin, String topic, java.util.function.Predicate<TopicPartitionInfo> until,
            String what) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        TopicPartitionInfo last = null;
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
                last = d.partitions().get(0);
                if (until.test(last)) {
                    return last;
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // a node is going or coming: ask again
            }
            Thread.sleep(200);
        }
        throw new AssertionError(topic + ": no " + what + " within " + TIMEOUT + "; last seen " + last);
    }
}

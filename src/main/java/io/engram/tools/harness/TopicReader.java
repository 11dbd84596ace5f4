package io.engram.tools.harness;

import io.engram.tools.kafka.KafkaClients;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads topics the way the integration tests' proofs need: from the start, with
 * {@code read_committed}, and <em>past</em> any expected count. A check of "exactly N records"
 * that stopped reading at N would pass with a duplicate; {@link #readCommitted} instead waits
 * until at least N are there, then until the topics are {@linkplain #awaitSettled settled} (no
 * transaction open on them, their end offsets unchanged for a quiet period and, when given, the
 * application's consumer group done with its input), and then returns every record up to the end
 * offsets, so that the caller can assert the exact number.
 */
public final class TopicReader {
    /** How long the end offsets must stay unchanged, with no open transaction, for a topic to count as settled. */
    public static final Duration QUIET = Duration.ofMillis(700);
    /**
     * The same once the application has also committed all its input: then nothing more can come
     * (output and input offsets commit in one transaction), and the quiet period is a margin only.
     */
    public static final Duration QUIET_CONSUMED = Duration.ofMillis(300);

    private TopicReader() {}

    /**
     * Every committed record of {@code topic}, in offset order per partition: at least {@code atLeast}
     * (waited for up to {@code timeout}), and every record after them that is committed once the topic
     * has settled. Fails if fewer than {@code atLeast} arrive in time.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrap, String topic, int atLeast, Duration timeout) {
        return readCommitted(bootstrap, topic, atLeast, timeout, Settle.outputs(List.of(topic)));
    }

    /** As {@link #readCommitted(String, String, int, Duration)}, settled as {@code settle} says (e.g. also the application's input consumed). */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrap, String topic, int atLeast, Duration timeout,
            Settle settle) {
        int got = awaitAtLeast(bootstrap, topic, atLeast, timeout);
        if (got < atLeast) {
            throw new AssertionError(topic + ": " + got + " committed records after " + timeout + ", expected at least " + atLeast);
        }
        awaitSettled(bootstrap, settle.with(topic), timeout);
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
            return readToEnd(c, topic, timeout);
        }
    }

    /**
     * As {@link #readCommitted(String, String, int, Duration, Settle)} for several topics at once:
     * waits until each topic holds at least its number of committed records, lets them settle
     * once, then reads each to its end.
     *
     * @return every committed record of each topic, by topic, in the order of {@code atLeast}
     */
    public static Map<String, List<ConsumerRecord<byte[], byte[]>>> readCommitted(String bootstrap, Map<String, Integer> atLeast,
            Duration timeout, Settle settle) {
        Settle all = settle;
        for (Map.Entry<String, Integer> e : atLeast.entrySet()) {
            int got = awaitAtLeast(bootstrap, e.getKey(), e.getValue(), timeout);
            if (got < e.getValue()) {
                throw new AssertionError(e.getKey() + ": " + got + " committed records after " + timeout + ", expected at least " + e.getValue());
            }
            all = all.with(e.getKey());
        }
        awaitSettled(bootstrap, all, timeout);
        Map<String, List<ConsumerRecord<byte[], byte[]>>> out = new java.util.LinkedHashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
            for (String topic : atLeast.keySet()) {
                out.put(topic, readToEnd(c, topic, timeout));
            }
        }
        return out;
    }

    /** The partitions of {@code topic}, in order. */
    public static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new AssertionError("topic " + topic + " does not exist");
        }
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo i : infos) {
            tps.add(new TopicPartition(topic, i.partition()));
        }
        tps.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        return tps;
    }

    /**
     * Every record of {@code topic} from the start up to the end offsets the consumer sees now (the
     * last stable offsets for a read_committed consumer), in offset order per partition.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readToEnd(KafkaConsumer<byte[], byte[]> c, String topic, Duration timeout) {
        List<TopicPartition> tps = partitions(c, topic);
        c.assign(tps);
        c.seekToBeginning(tps);
        Map<TopicPartition, Long> end = c.endOffsets(tps);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("reading " + topic + " up to " + end + " took over " + timeout);
            }
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    /** Records of {@code topic} up to the end offsets for {@code isolation} (the last stable offsets for read_committed). */
    public static int count(String bootstrap, String topic, IsolationLevel isolation) {
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, isolation)) {
            return readToEnd(c, topic, Duration.ofSeconds(60)).size();
        }
    }

    /** Counts committed records of {@code topic} from the start until there are {@code n} or {@code timeout} passes; returns the count. */
    public static int awaitAtLeast(String bootstrap, String topic, int n, Duration timeout) {
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
            List<TopicPartition> tps = partitions(c, topic);
            c.assign(tps);
            c.seekToBeginning(tps);
            int count = 0;
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count < n && System.nanoTime() < deadline) {
                count += c.poll(Duration.ofMillis(100)).count();
            }
            return count;
        }
    }

    /**
     * What "settled" means for a set of topics: no transaction open on any partition of
     * {@code outputs}, their end offsets unchanged for {@code quiet}, and, when {@code group} is
     * set, that consumer group's committed offsets at the end of every partition of {@code inputs}
     * (the application has consumed and committed all of its input, so it will write nothing more
     * for it).
     */
    public record Settle(List<String> outputs, String group, List<String> inputs, Duration quiet) {
        public static Settle outputs(Collection<String> outputs) {
            return new Settle(List.copyOf(outputs), null, List.of(), QUIET);
        }

        /** Also waits until {@code group} (a Kafka Streams application id) has committed offsets at the end of {@code inputs}. */
        public Settle consumedBy(String group, Collection<String> inputs) {
            return new Settle(outputs, group, List.copyOf(inputs), QUIET_CONSUMED);
        }

        Settle with(String topic) {
            if (outputs.contains(topic)) {
                return this;
            }
            List<String> o = new ArrayList<>(outputs);
            o.add(topic);
            return new Settle(o, group, inputs, quiet);
        }
    }

    /**
     * Waits until {@code settle} holds (see {@link Settle}) and returns the end offsets of its
     * outputs, which every committed record is then below.
     */
    public static Map<TopicPartition, Long> awaitSettled(String bootstrap, Settle settle, Duration timeout) {
        try (Admin admin = KafkaClients.admin(bootstrap)) {
            Map<TopicPartition, OffsetSpec> outs = latest(admin, settle.outputs());
            Map<TopicPartition, OffsetSpec> ins = latest(admin, settle.inputs());
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> last = null;
            long since = System.nanoTime();
            String problem = "not asked yet";
            while (true) {
                try {
                    Map<TopicPartition, Long> stable = offsets(admin, outs, IsolationLevel.READ_COMMITTED);
                    Map<TopicPartition, Long> high = offsets(admin, outs, IsolationLevel.READ_UNCOMMITTED);
                    List<String> open = outs.keySet().stream().filter(tp -> !stable.get(tp).equals(high.get(tp)))
                            .map(TopicPartition::toString).sorted().toList();
                    List<String> unconsumed = unconsumed(admin, settle, ins);
                    if (!open.isEmpty() || !unconsumed.isEmpty() || !high.equals(last)) {
                        last = high;
                        since = System.nanoTime();
                        problem = "transactions open on " + open + "; input not consumed by group " + settle.group() + ": " + unconsumed;
                    } else if (System.nanoTime() - since >= settle.quiet().toNanos()) {
                        return high;
                    }
                } catch (IllegalStateException e) {
                    problem = e.getMessage(); // e.g. a broker that has just restarted: ask again
                    last = null;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("topics " + settle.outputs() + " not settled after " + timeout + ": " + problem);
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static List<String> unconsumed(Admin admin, Settle settle, Map<TopicPartition, OffsetSpec> ins) throws InterruptedException {
        if (settle.group() == null || ins.isEmpty()) {
            return List.of();
        }
        Map<TopicPartition, Long> end = offsets(admin, ins, IsolationLevel.READ_UNCOMMITTED);
        Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(settle.group()).partitionsToOffsetAndMetadata());
        List<String> out = new ArrayList<>();
        end.forEach((tp, e) -> {
            OffsetAndMetadata c = committed.get(tp);
            long at = c == null ? 0 : c.offset();
            if (at < e) {
                out.add(tp + " at " + at + " of " + e);
            }
        });
        return out;
    }

    private static Map<TopicPartition, OffsetSpec> latest(Admin admin, List<String> topics) throws InterruptedException {
        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        if (topics.isEmpty()) {
            return specs;
        }
        var desc = get(admin.describeTopics(topics).allTopicNames());
        desc.forEach((name, d) -> d.partitions().forEach(p -> specs.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        return specs;
    }

    /** The end offsets of {@code partitions} for {@code isolation} (the last stable offsets for read_committed, else the high watermarks). */
    public static Map<TopicPartition, Long> offsets(Admin admin, Map<TopicPartition, OffsetSpec> partitions, IsolationLevel isolation)
            throws InterruptedException {
        Map<TopicPartition, Long> out = new HashMap<>();
        if (partitions.isEmpty()) {
            return out;
        }
        get(admin.listOffsets(partitions, new ListOffsetsOptions(isolation)).all()).forEach((tp, i) -> out.put(tp, i.offset()));
        return out;
    }

    public static <T> T get(org.apache.kafka.common.KafkaFuture<T> f) throws InterruptedException {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from the broker in 30 s", e);
        }
    }
}

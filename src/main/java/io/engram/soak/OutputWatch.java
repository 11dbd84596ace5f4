package io.engram.soak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Watches output topics as a downstream reader does ({@code read_committed}, from their end when
 * it starts) and keeps, per partition, when committed records last arrived: the soak's measure of
 * recovery. Reconnects by itself through a broker restart (the consumer has its partitions by
 * hand, not through a group). Owns its consumer and thread; {@link #close()} stops both.
 */
final class OutputWatch implements AutoCloseable {
    private final Map<TopicPartition, Long> lastArrival = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile long lastRecovered;

    /** @param topics topic -> its partitions (given, since a topic just created may not be in every broker's metadata yet) */
    OutputWatch(String bootstrap, Map<String, Integer> topics) {
        KafkaConsumer<byte[], byte[]> c = Clients.consumer(bootstrap, IsolationLevel.READ_COMMITTED);
        List<TopicPartition> parts = new ArrayList<>();
        topics.forEach((t, n) -> {
            for (int p = 0; p < n; p++) {
                parts.add(new TopicPartition(t, p));
            }
        });
        c.assign(parts);
        c.seekToEnd(parts);
        thread = new Thread(() -> poll(c), "soak-output-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void poll(KafkaConsumer<byte[], byte[]> c) {
        try (c) {
            while (!closed) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    lastArrival.put(new TopicPartition(r.topic(), r.partition()), System.nanoTime());
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            // closed
        }
    }

    /** The partitions of {@code topic} that have had output since the watch started. */
    Set<Integer> partitionsWithOutput(String topic) {
        Set<Integer> out = new TreeSet<>();
        lastArrival.keySet().stream().filter(tp -> tp.topic().equals(topic)).forEach(tp -> out.add(tp.partition()));
        return out;
    }

    /**
     * Waits until every partition in {@code expect} (topic -> partitions) has had committed output
     * that arrived after {@code after} (a {@link System#nanoTime()}); then {@link #lastRecovered()}
     * is when the last of them did. False after {@code timeout}.
     */
    boolean awaitOutputAfter(Map<String, Set<Integer>> expect, long after, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long latest = after;
            boolean all = true;
            for (Map.Entry<String, Set<Integer>> e : expect.entrySet()) {
                for (int p : e.getValue()) {
                    Long t = lastArrival.get(new TopicPartition(e.getKey(), p));
                    if (t == null || t <= after) {
                        all = false;
                    } else {
                        latest = Math.max(latest, firstAfter(e.getKey(), p, after, t));
                    }
                }
            }
            if (all) {
                lastRecovered = latest;
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /**
     * When partition p first had output after {@code after}: the arrival times are sampled every 20
     * ms by {@link #awaitOutputAfter}, so the first sample that saw it after {@code after} is within
     * that of the first arrival.
     */
    private long firstAfter(String topic, int p, long after, long seen) {
        return firsts.computeIfAbsent(new Key(topic, p, after), k -> seen);
    }

    private record Key(String topic, int partition, long after) {}

    private final Map<Key, Long> firsts = new ConcurrentHashMap<>();

    /** When the last partition of the latest successful {@link #awaitOutputAfter} had new output. */
    long lastRecovered() {
        return lastRecovered;
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(10_000);
    }
}

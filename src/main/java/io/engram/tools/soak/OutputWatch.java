package io.engram.tools.soak;

import io.engram.tools.kafka.KafkaClients;

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
 * it starts): which partitions have had output, and when each first had output after the latest
 * {@link #mark}. The soak's measure of recovery. Reconnects by itself through a broker restart
 * (the consumer has its partitions by hand, not through a group). Owns its consumer and thread;
 * {@link #close()} stops both.
 */
final class OutputWatch implements AutoCloseable {
    private final Set<TopicPartition> seen = ConcurrentHashMap.newKeySet();
    /** Partition -> when (nanoTime) it first had committed output after {@link #markedAt}. */
    private final Map<TopicPartition, Long> firstSinceMark = new ConcurrentHashMap<>();
    private volatile long markedAt = Long.MAX_VALUE;
    private final Thread thread;
    private volatile boolean closed;

    /** @param topics topic -> its partitions (given, since a topic just created may not be in every broker's metadata yet) */
    OutputWatch(String bootstrap, Map<String, Integer> topics) {
        KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED);
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
                    long now = System.nanoTime();
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    seen.add(tp);
                    if (now > markedAt) {
                        firstSinceMark.putIfAbsent(tp, now);
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException | org.apache.kafka.common.errors.InterruptException e) {
            // closed
        }
    }

    /** The partitions of {@code topic} that have had output since the watch started. */
    Set<Integer> partitionsWithOutput(String topic) {
        Set<Integer> out = new TreeSet<>();
        seen.stream().filter(tp -> tp.topic().equals(topic)).forEach(tp -> out.add(tp.partition()));
        return out;
    }

    /** From now on, note when each partition first has output (forgetting the previous mark's). */
    void mark() {
        markedAt = Long.MAX_VALUE; // nothing is noted while the map is cleared
        firstSinceMark.clear();
        markedAt = System.nanoTime();
    }

    /**
     * Waits until every partition in {@code expect} (topic -> partitions) has had committed output
     * since the latest {@link #mark}; returns when the last of them first did (a {@link
     * System#nanoTime()}), or -1 after {@code timeout}.
     */
    long awaitOutputSinceMark(Map<String, Set<Integer>> expect, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            long latest = Long.MIN_VALUE;
            boolean all = true;
            for (Map.Entry<String, Set<Integer>> e : expect.entrySet()) {
                for (int p : e.getValue()) {
                    Long t = firstSinceMark.get(new TopicPartition(e.getKey(), p));
                    if (t == null) {
                        all = false;
                    } else {
                        latest = Math.max(latest, t);
                    }
                }
            }
            if (all) {
                return latest == Long.MIN_VALUE ? System.nanoTime() : latest;
            }
            Thread.sleep(20);
        }
        return -1;
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(10_000);
    }
}

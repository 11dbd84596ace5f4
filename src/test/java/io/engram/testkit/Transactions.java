package io.engram.testkit;

import io.engram.tools.harness.EngramProcess;
import io.engram.tools.harness.TopicReader;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;

/**
 * What the transaction coordinator knows about a Kafka Streams instance's transactions. With
 * {@code exactly_once_v2} each stream thread has one transactional producer, whose id is
 * {@code <application.id>-<process id>-<thread index>} (the process id is kept in the state
 * directory: {@link EngramProcess#processId}). Used to kill an instance while one of its
 * transactions is open on an output topic, and to prove afterwards that it was.
 */
public final class Transactions {
    private Transactions() {}

    /**
     * A transaction seen open: its producer, when the coordinator says it began (broker clock, which
     * is this JVM's for the in-process broker) and the output partitions it has written to.
     */
    public record Open(String transactionalId, long producerId, int producerEpoch, long startMs, Set<String> outputPartitions) {
        public long ageMs() {
            return System.currentTimeMillis() - startMs;
        }
    }

    /** The transactional ids of an instance's stream threads. */
    public static List<String> ids(String applicationId, String processId, int threads) {
        return java.util.stream.IntStream.rangeClosed(1, threads).mapToObj(i -> applicationId + "-" + processId + "-" + i).toList();
    }

    /**
     * Waits until one of {@code transactionalIds} has an ongoing transaction that has written to a
     * partition of {@code outputTopics} and began at most {@code maxAgeMs} ago (so that, with
     * transactions committed every {@code commit.interval.ms}, it will stay open for a while yet);
     * null on timeout.
     */
    public static Open awaitYoungOpen(Admin admin, Collection<String> transactionalIds, Collection<String> outputTopics, long maxAgeMs,
            Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String id : transactionalIds) {
                Open o = describe(admin, id, outputTopics);
                if (o != null && o.ageMs() <= maxAgeMs) {
                    return o;
                }
            }
            Thread.sleep(2);
        }
        return null;
    }

    /**
     * Whether the transaction {@code o} is still open: the same producer id and epoch, still ongoing.
     * Asked right after its producer was killed, true proves that the kill landed inside it (only the
     * producer itself could have ended it so soon; the coordinator aborts it after the transaction
     * timeout, or when a new producer with the same id fences it).
     */
    public static boolean stillOpen(Admin admin, Open o, Collection<String> outputTopics) throws InterruptedException {
        Open now = describe(admin, o.transactionalId(), outputTopics);
        return now != null && now.producerId() == o.producerId() && now.producerEpoch() == o.producerEpoch()
                && now.startMs() == o.startMs();
    }

    /** The ongoing transaction of {@code transactionalId} if it has written to {@code outputTopics}; else null. */
    public static Open describe(Admin admin, String transactionalId, Collection<String> outputTopics) throws InterruptedException {
        TransactionDescription d;
        try {
            d = TopicReader.get(admin.describeTransactions(List.of(transactionalId)).description(transactionalId));
        } catch (IllegalStateException e) {
            return null; // not known to the coordinator (yet)
        }
        if (d.state() != TransactionState.ONGOING || d.transactionStartTimeMs().isEmpty()) {
            return null;
        }
        Set<String> outs = new TreeSet<>();
        for (TopicPartition tp : d.topicPartitions()) {
            if (outputTopics.contains(tp.topic())) {
                outs.add(tp.toString());
            }
        }
        return outs.isEmpty() ? null
                : new Open(transactionalId, d.producerId(), d.producerEpoch(), d.transactionStartTimeMs().getAsLong(), outs);
    }
}

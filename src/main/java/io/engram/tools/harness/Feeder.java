package io.engram.tools.harness;

import io.engram.tools.kafka.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ApplicationRecoverableException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Sends a list of records in order from a thread of its own, a chunk every {@code pauseMs} at most,
 * up to a limit that the test raises ({@link #allow}): records keep flowing while processes are
 * killed and started. Each chunk is one transaction, so {@link #sent()} counts committed records.
 *
 * <p>Why transactions: the input must hold each record exactly once, or a test of Engram's
 * exactly-once output would be testing its input. An idempotent producer alone does not promise
 * that across a broker outage: a batch the broker wrote but never acknowledged can be sent again
 * under a bumped producer epoch, and then it is in the log twice (a CI run once saw a whole chunk
 * doubled this way). A chunk's transaction commits once or not at all; one that fails is aborted,
 * invisible to the pipelines' read_committed consumers, and sent again. Through an outage the
 * commit waits ({@link KafkaClients#transactionalProducer}).
 *
 * <p>Owns its producer (renewed, under the same transactional id, after an error that needs it).
 */
public final class Feeder implements AutoCloseable {
    /** Attempts at one chunk before the feeder gives up and reports the failure. */
    static final int ATTEMPTS = 5;
    private final int chunk;
    private final long normalPauseMs;
    private volatile long pauseMs;
    private final String bootstrap;
    private final String transactionalId = "engram-feeder-" + UUID.randomUUID();
    /** Used by the feeder's thread only, and by {@link #close} after that thread has ended. */
    private volatile KafkaProducer<byte[], byte[]> producer;
    private final List<ProducerRecord<byte[], byte[]>> records;
    private final Thread thread;
    private int limit;
    private int sent;
    private volatile boolean closed;
    private volatile Throwable failure;

    /**
     * @param bootstrap the cluster the records go to
     * @param chunk records per chunk, and per transaction
     * @param pauseMs the usual time from one chunk's start to the next's ({@link #normalPace()}); a chunk
     *     whose commit takes longer is followed by the next at once
     */
    public Feeder(String bootstrap, List<ProducerRecord<byte[], byte[]>> records, int chunk, long pauseMs) {
        this.bootstrap = bootstrap;
        this.records = records;
        this.chunk = chunk;
        this.normalPauseMs = pauseMs;
        this.pauseMs = pauseMs;
        this.thread = new Thread(this::run, "it-feeder");
        thread.setDaemon(true);
        thread.start();
    }

    /** Time from one chunk's start to the next's, from now on. */
    public void pace(long ms) {
        pauseMs = ms;
    }

    /** Back to the pause given at construction. */
    public void normalPace() {
        pauseMs = normalPauseMs;
    }

    public int size() {
        return records.size();
    }

    /** Lets the feeder send up to the first {@code upTo} records (a lower limit than the current one changes nothing). */
    public synchronized void allow(int upTo) {
        limit = Math.max(limit, Math.min(upTo, records.size()));
        notifyAll();
    }

    /** Records committed so far. */
    public synchronized int sent() {
        return sent;
    }

    public synchronized void awaitSent(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sent < n && failure == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("only " + sent + " of " + n + " input records sent after " + timeout);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        if (failure != null) {
            throw new AssertionError("sending the input failed", failure);
        }
    }

    /**
     * Waits until {@code n} records are acknowledged, for as long as they keep coming: fails only when
     * none is acknowledged for {@code stall} (a loaded machine or a cluster under faults sends slower
     * than planned, and that is no failure).
     */
    public synchronized void awaitSentWhileProgressing(int n, Duration stall) throws InterruptedException {
        int before = -1;
        while (sent < n && failure == null && sent > before) {
            before = sent;
            long deadline = System.nanoTime() + stall.toNanos();
            while (sent == before && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        if (failure != null) {
            throw new AssertionError("sending the input failed", failure);
        }
        if (sent < n) {
            throw new AssertionError("only " + sent + " of " + n + " input records sent; none acknowledged for " + stall);
        }
    }

    private void run() {
        try {
            startProducer();
            while (!closed) {
                int from;
                int to;
                synchronized (this) {
                    while (sent >= limit && !closed) {
                        wait();
                    }
                    from = sent;
                    to = Math.min(limit, sent + chunk);
                }
                if (closed) {
                    return;
                }
                long chunkStart = System.nanoTime();
                sendChunk(from, to);
                synchronized (this) {
                    sent = to;
                    notifyAll();
                }
                // A chunk every pauseMs: the time its commit took counts, so that a cluster's slower
                // acknowledgements (acks=all on three brokers) do not lower the rate below chunk/pauseMs.
                long left = pauseMs - (System.nanoTime() - chunkStart) / 1_000_000;
                if (left > 0) {
                    Thread.sleep(left);
                }
            }
        } catch (InterruptedException e) {
            // closed
        } catch (Throwable t) {
            failure = t;
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Records {@code [from, to)} in one committed transaction, or an exception once {@link #ATTEMPTS} have failed. */
    private void sendChunk(int from, int to) {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.beginTransaction();
                for (int i = from; i < to; i++) {
                    producer.send(records.get(i));
                }
                producer.commitTransaction();
                return;
            } catch (InterruptException e) {
                throw e; // closed
            } catch (TimeoutException e) {
                // Not committed within max.block.ms (minutes): the outcome is unknown, so sending the
                // chunk again could double it. Report it instead.
                throw new KafkaException("the transaction of records " + from + " to " + (to - 1)
                        + " did not commit in time; its outcome is unknown, so it is not sent again", e);
            } catch (KafkaException e) {
                // Any other error: the transaction did not commit. Abort it, and when the producer
                // cannot (fenced, for one: the coordinator timed the transaction out through an outage),
                // start a new producer under the same id, which aborts it; then send the chunk again.
                if (attempt >= ATTEMPTS) {
                    throw new KafkaException("records " + from + " to " + (to - 1) + " failed to commit " + attempt + " times", e);
                }
                if (e instanceof ApplicationRecoverableException || !aborted()) {
                    producer.close(Duration.ZERO);
                    startProducer();
                }
            }
        }
    }

    private boolean aborted() {
        try {
            producer.abortTransaction();
            return true;
        } catch (KafkaException e) {
            return false;
        }
    }

    private void startProducer() {
        producer = KafkaClients.transactionalProducer(bootstrap, transactionalId);
        producer.initTransactions();
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        thread.interrupt();
        thread.join(10_000);
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }
}

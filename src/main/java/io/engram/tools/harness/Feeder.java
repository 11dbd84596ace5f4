package io.engram.tools.harness;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sends a list of records in order from a thread of its own, a chunk every {@code pauseMs} at most,
 * up to a limit that the test raises ({@link #allow}): records keep flowing while processes are
 * killed and started. Each chunk is flushed, so {@link #sent()} counts acknowledged records;
 * through a broker outage the flush waits and the idempotent producer ({@link KafkaClients#producer})
 * retries. Owns the producer.
 */
public final class Feeder implements AutoCloseable {
    private final int chunk;
    private final long normalPauseMs;
    private volatile long pauseMs;
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<ProducerRecord<byte[], byte[]>> records;
    private final Thread thread;
    private int limit;
    private int sent;
    private volatile boolean closed;
    private volatile Throwable failure;

    /**
     * @param chunk records per chunk
     * @param pauseMs the usual time from one chunk's start to the next's ({@link #normalPace()}); a chunk
     *     whose flush takes longer is followed by the next at once
     */
    public Feeder(KafkaProducer<byte[], byte[]> producer, List<ProducerRecord<byte[], byte[]>> records, int chunk, long pauseMs) {
        this.producer = producer;
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

    /** Records acknowledged by the broker so far. */
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
                for (int i = from; i < to; i++) {
                    producer.send(records.get(i));
                }
                producer.flush();
                synchronized (this) {
                    sent = to;
                    notifyAll();
                }
                // A chunk every pauseMs: the time its flush took counts, so that a cluster's slower
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

    @Override
    public void close() throws InterruptedException {
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        thread.interrupt();
        thread.join(10_000);
        producer.close(Duration.ofSeconds(5));
    }
}

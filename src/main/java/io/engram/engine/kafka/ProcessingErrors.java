package io.engram.engine.kafka;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Tells a systematic fault from bad input. Of the last {@code window} records that got through
 * processing or failed in it, more than {@code maxShare} failing with an unexpected exception (a
 * bug, a failing model: anything but a {@link io.engram.engine.errors.BadInputException}) stops
 * the pipeline, instead of dead-lettering all its input ({@code processing.error_window},
 * {@code processing.max_error_share}). Bad input is the input's fault: it is dead-lettered and
 * counts neither way.
 *
 * <p>One per running pipeline, in its streams config under {@link #CONFIG}: every task's step
 * processor counts the records it went through ({@link #succeeded()}), the exception handler the
 * failures ({@link #failed}). Thread-safe; a record that went through costs one atomic increment.
 */
public final class ProcessingErrors {
    /** The streams-config key of a pipeline's instance. */
    public static final String CONFIG = "engram.processing.errors";
    public static final int DEFAULT_WINDOW = 100;
    public static final double DEFAULT_MAX_SHARE = 0.5;
    /** Never stops: for processors run without a pipeline's config. */
    public static final ProcessingErrors NONE = new ProcessingErrors(1, 1.0);

    private final int window;
    private final double maxShare;
    /** Failures within the window that stop: the smallest number over {@code maxShare * window}. */
    private final int limit;
    /** Records so far, succeeded or failed: the sequence number of each. */
    private final AtomicLong records = new AtomicLong();
    /** Sequence numbers of the last {@link #limit} failures, a ring; null when no share can stop (1.0). */
    private final long[] failures;
    private int next;
    private long failed;
    private volatile String verdict;

    /**
     * @param window records (1 or more)
     * @param maxShare the share of them that may fail, 0 to 1: 0 stops at the first failure, 1 never
     */
    public ProcessingErrors(int window, double maxShare) {
        if (window < 1 || !(maxShare >= 0 && maxShare <= 1)) {
            throw new IllegalArgumentException("window " + window + ", share " + maxShare);
        }
        this.window = window;
        this.maxShare = maxShare;
        this.limit = (int) Math.floor(maxShare * window + 1e-9) + 1;
        this.failures = limit <= window ? new long[limit] : null;
    }

    /** A record went through processing. */
    public void succeeded() {
        records.incrementAndGet();
    }

    /**
     * A record failed in processing with an unexpected exception, at {@code where} (its topic,
     * partition and offset).
     *
     * @return true: too many of the last records failed, and the pipeline must stop ({@link #verdict()} says why)
     */
    public boolean failed(String where) {
        long seq = records.incrementAndGet();
        if (failures == null) {
            return false;
        }
        synchronized (this) {
            failures[next] = seq;
            next = (next + 1) % limit;
            failed++;
            // The oldest of the last `limit` failures: all of them within the last `window` records?
            if (failed < limit || seq - failures[next] >= window) {
                return false;
            }
            if (verdict == null) {
                verdict = limit + " of the last " + (seq - failures[next] + 1) + " records failed in processing, more than"
                        + " processing.max_error_share " + maxShare + " of processing.error_window " + window
                        + ": a fault of the pipeline or its model, not bad input; the last at " + where;
            }
            return true;
        }
    }

    /** Why the pipeline must stop, once {@link #failed} said so; null before. */
    public String verdict() {
        return verdict;
    }

    /**
     * The cause to report for {@code e}, which stopped a stream thread: {@code e} itself, or, once
     * too many records failed, that verdict with {@code e} as its cause.
     */
    public Throwable explain(Throwable e) {
        String v = verdict;
        return v == null ? e : new IllegalStateException(v, e);
    }

    public int window() {
        return window;
    }

    public double maxShare() {
        return maxShare;
    }
}

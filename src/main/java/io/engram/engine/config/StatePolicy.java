package io.engram.engine.config;

import java.util.Locale;

/**
 * How a pipeline's per-stream state lives and dies: the lifecycle keys of a pipeline YAML's
 * {@code state:} section, shared by every pipeline. Immutable.
 *
 * <p>Gaps are measured in event time (the records' timestamps), so resets are a pure function of
 * the input; idleness is measured in processing (wall-clock) time, so that replayed or historical
 * data never expires a stream that is being fed (see {@link StateLifecycle}).
 *
 * @param maxGapMs a gap in a stream's event time longer than this triggers {@code onGap}; 0 = no limit
 * @param onGap what a gap longer than {@code maxGapMs} does to the stream's state
 * @param idleTtlMs a stream that has had no record for this long (wall clock) is deleted from the store; 0 = never
 * @param idleScanIntervalMs how often (wall clock) the store is scanned for idle streams
 * @param memoryMb off-heap memory of RocksDB for every store of the process together: one shared
 *     block cache, memtables counted against it ({@code state.memory_mb}); 0 = RocksDB's defaults
 *     (about 100 MB per store per task)
 */
public record StatePolicy(long maxGapMs, GapAction onGap, long idleTtlMs, long idleScanIntervalMs, long memoryMb) {
    /** The default {@code state.memory_mb}. */
    public static final long DEFAULT_MEMORY_MB = 64;

    /** A policy with the default memory bound. */
    public StatePolicy(long maxGapMs, GapAction onGap, long idleTtlMs, long idleScanIntervalMs) {
        this(maxGapMs, onGap, idleTtlMs, idleScanIntervalMs, DEFAULT_MEMORY_MB);
    }

    /** What a long gap in event time does. */
    public enum GapAction {
        /** Start the stream afresh (zero hidden state, step 0) and announce it on the state-events topic. */
        RESET,
        /** Keep stepping from the stored state as if there were no gap. */
        CARRY;

        public String yaml() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** No gap limit; idle streams deleted after 7 days without a record, scanned every minute. */
    public static final StatePolicy DEFAULTS = new StatePolicy(0, GapAction.RESET, 7L * 24 * 3600 * 1000, 60_000);

    public StatePolicy {
        if (maxGapMs < 0 || idleTtlMs < 0 || idleScanIntervalMs <= 0 || onGap == null || memoryMb < 0) {
            throw new IllegalArgumentException("bad state policy: max_gap_ms " + maxGapMs + ", idle_ttl_ms " + idleTtlMs
                    + ", idle_scan_interval_ms " + idleScanIntervalMs);
        }
    }

    /** True when a record at {@code eventTime} after one at {@code lastEventTime} is a gap that resets the state. */
    public boolean resetsAfterGap(long lastEventTime, long eventTime) {
        return onGap == GapAction.RESET && maxGapMs > 0 && eventTime - lastEventTime > maxGapMs;
    }

    /** True when a stream last fed at wall-clock {@code lastFedMs} is idle at wall-clock {@code nowMs}. */
    public boolean idle(long lastFedMs, long nowMs) {
        return idleTtlMs > 0 && nowMs - lastFedMs > idleTtlMs;
    }
}

package io.engram.state;

import java.util.Locale;

/**
 * How a pipeline's per-stream state lives and dies: the lifecycle keys of a pipeline YAML's
 * {@code state:} section, shared by the sensor and video pipelines. Immutable.
 *
 * <p>All times are event time (the records' timestamps), never the wall clock: what happens to a
 * stream's state is then a pure function of its input, so a replay, a restart or a failover gives
 * the same output.
 *
 * @param maxGapMs a gap in a stream's event time longer than this triggers {@code onGap}; 0 = no limit
 * @param onGap what a gap longer than {@code maxGapMs} does to the stream's state
 * @param idleTtlMs a stream whose last record is this much older than the newest record its task has
 *     seen (the task's stream time) is deleted from the store; 0 = never
 * @param idleScanIntervalMs how often, in stream time, the store is scanned for idle streams
 */
public record StatePolicy(long maxGapMs, GapAction onGap, long idleTtlMs, long idleScanIntervalMs) {
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

    /** No gap limit; idle streams deleted after 7 days of event time, scanned every minute of stream time. */
    public static final StatePolicy DEFAULTS = new StatePolicy(0, GapAction.RESET, 7L * 24 * 3600 * 1000, 60_000);

    public StatePolicy {
        if (maxGapMs < 0 || idleTtlMs < 0 || idleScanIntervalMs <= 0 || onGap == null) {
            throw new IllegalArgumentException("bad state policy: max_gap_ms " + maxGapMs + ", idle_ttl_ms " + idleTtlMs
                    + ", idle_scan_interval_ms " + idleScanIntervalMs);
        }
    }

    /** True when a record at {@code eventTime} after one at {@code lastEventTime} is a gap that resets the state. */
    public boolean resetsAfterGap(long lastEventTime, long eventTime) {
        return onGap == GapAction.RESET && maxGapMs > 0 && eventTime - lastEventTime > maxGapMs;
    }

    /** True when a stream last updated at {@code lastEventTime} is idle at stream time {@code streamTime}. */
    public boolean idle(long lastEventTime, long streamTime) {
        return idleTtlMs > 0 && streamTime - lastEventTime > idleTtlMs;
    }
}

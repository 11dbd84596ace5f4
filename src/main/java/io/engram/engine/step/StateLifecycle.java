package io.engram.engine.step;

import io.engram.engine.config.StatePolicy;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.StateEvent;
import io.engram.engine.state.StreamState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The life of the per-stream state in one task, part of the core that every pipeline's {@link StepProcessor} runs: long
 * gaps in event time reset a stream (or not, per {@link StatePolicy}), state left by an
 * incompatible model is reset, a control record resets a stream on demand, and streams that stop
 * sending are expired. Every reset and expiry is announced as a {@link StateEvent} on the
 * state-events sink and counted; none is silent.
 *
 * <p>Resets are decided in event time, from the stream's own records, so they are a pure function
 * of the input: a replay, restart or failover gives the same records. Expiry is the one exception,
 * on purpose: "idle" means no record for {@code idle_ttl_ms} of processing (wall-clock) time, so
 * that replaying old data, or streams from different periods through one partition, never expires
 * anything that is being fed. A scan every {@code idle_scan_interval_ms} deletes the idle streams.
 * When each stream was last fed is kept in memory only; after a restart or failover every stream
 * in the store starts a fresh lease (expiry can come later, never earlier, than the TTL says).
 *
 * <p>One instance per processor (task); used on the task's thread only.
 */
public final class StateLifecycle {
    /**
     * Header of a control record: an input record carrying it is a command, not data. Its value
     * (UTF-8) names the command; {@value #RESET_COMMAND} resets the stream named by the key.
     */
    public static final String CONTROL_HEADER = "engram.control";
    public static final String RESET_COMMAND = "reset";

    private final StatePolicy policy;
    private final PipelineMeters metrics;
    private final String sink;
    /** Wall-clock ms at which each stream was last stepped (or first seen by this instance). */
    private final Map<String, Long> fed = new HashMap<>();
    /** Whether the streams already in the store at this task's start have their lease. */
    private boolean leased;
    private ProcessorContext<String, Object> context;

    /** @param sink the name of the state-events sink node */
    public StateLifecycle(StatePolicy policy, PipelineMeters metrics, String sink) {
        this.policy = policy;
        this.metrics = metrics;
        this.sink = sink;
    }

    /**
     * Call from the processor's {@code init}: when {@code state.idle_ttl_ms} is set, schedules the
     * idle scan of {@code store} every {@code idle_scan_interval_ms} of wall-clock time.
     */
    public <S extends StreamState<?>> void init(ProcessorContext<String, Object> context, KeyValueStore<String, S> store) {
        this.context = context;
        // Kafka Streams may initialise the same processor again (a task revived after a broker
        // restart, its store wiped and restored): the leases start afresh, as for a new task, so
        // that every stream of the restored store gets one at the next scan.
        fed.clear();
        leased = false;
        if (policy.idleTtlMs() == 0) {
            return;
        }
        context.schedule(Duration.ofMillis(policy.idleScanIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
                now -> expireIdle(store, now));
    }

    /** Call after a record of {@code key} was stepped: the stream is fed. */
    public void stepped(String key) {
        if (policy.idleTtlMs() > 0) {
            fed.put(key, context.currentSystemTimeMs());
        }
    }

    /**
     * Deletes and announces every stream of {@code store} not fed for {@code idle_ttl_ms} before
     * {@code now} (wall clock); returns how many.
     */
    private <S extends StreamState<?>> int expireIdle(KeyValueStore<String, S> store, long now) {
        if (!leased) {
            // Once per task: the streams restored into the store (from the changelog, or local state
            // kept across a restart) get a fresh lease. Later scans walk the lease map only, so a
            // scan no longer reads and deserialises every stream's state on the stream thread.
            try (KeyValueIterator<String, S> it = store.all()) {
                while (it.hasNext()) {
                    fed.putIfAbsent(it.next().key, now);
                }
            }
            leased = true;
        }
        List<String> idle = new ArrayList<>();
        fed.forEach((key, last) -> {
            if (policy.idle(last, now)) {
                idle.add(key);
            }
        });
        java.util.Collections.sort(idle); // the store's order, as before: announcements in key order
        int expired = 0;
        for (String key : idle) {
            fed.remove(key);
            S s = store.get(key);
            if (s == null) {
                continue; // no state any more (never stepped, or deleted): nothing to expire
            }
            store.delete(key);
            expired++;
            metrics.stateExpired();
            context.forward(new Record<>(key, new StateEvent(key, StateEvent.EXPIRED, StateEvent.IDLE, s.lastEventTime(),
                    s.steps(), s.lastEventTime(), s.modelId(), s.modelVersion(), null, null), s.lastEventTime()), sink);
        }
        return expired;
    }

    /**
     * Decides, before a record at {@code eventTime} is stepped, whether the stream's stored state
     * {@code s} goes on. Returns true when it does; false when it was reset (the record is then
     * stepped from a fresh state), after announcing why. Call it after the record has passed every
     * check that can dead-letter it, so that a refused record changes nothing.
     *
     * @param belongsToModel whether {@code s} was written by the current model or one with the same
     *     declared state layout ({@code state_compat})
     */
    public boolean before(String key, StreamState<?> s, long eventTime, boolean belongsToModel, String modelId, String modelVersion) {
        if (!belongsToModel) {
            reset(key, s, StateEvent.MODEL_CHANGED, eventTime, modelId, modelVersion);
            return false;
        }
        if (s.steps() > 0 && policy.resetsAfterGap(s.lastEventTime(), eventTime)) {
            reset(key, s, StateEvent.GAP, eventTime, null, null);
            return false;
        }
        return true;
    }

    /** Announces a reset of {@code key}'s state ({@code s} may be null: there was none). */
    public void reset(String key, StreamState<?> s, String reason, long eventTime, String newModelId, String newModelVersion) {
        metrics.stateReset(reason);
        context.forward(new Record<>(key, new StateEvent(key, StateEvent.RESET, reason, eventTime, s == null ? 0 : s.steps(),
                s == null ? null : s.lastEventTime(), s == null ? null : s.modelId(), s == null ? null : s.modelVersion(),
                newModelId, newModelVersion), eventTime), sink);
    }

    /** Call when the processor deletes {@code key}'s state itself (a control reset). */
    public void forget(String key) {
        fed.remove(key);
    }
}

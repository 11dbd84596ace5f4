package io.engram.state;

import io.engram.monitoring.EngramMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The life of the per-stream state in one task, shared by the sensor and video processors: idle
 * streams expire, long gaps in event time reset a stream (or not, per {@link StatePolicy}), state
 * left by an incompatible model is reset, and a control record resets a stream on demand. Every
 * reset and expiry is announced as a {@link StateEvent} on the state-events sink and counted; none
 * is silent.
 *
 * <p>Determinism: everything is decided in event time, against the task's <em>lifecycle clock</em>:
 * the latest event time of a record the task has stepped, kept in a small changelogged store so that
 * it survives restarts and failovers. It is not Kafka Streams' stream time, which any record moves,
 * a bad one too: one record with a wild timestamp must not expire every stream of a partition. An
 * idle stream is expired either by the periodic scan or, if its next record comes first, by
 * {@link #before}; both emit the same {@code expired} record (its event time is the logical expiry
 * time, not the scan's), and the clock only moves forward, so however the scans fall in time (they
 * run on the wall clock, every {@code idle_scan_interval_ms}) each stream gets the same records.
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

    private static final String CLOCK_KEY = "clock";

    private final StatePolicy policy;
    private final EngramMetrics metrics;
    private final String sink;
    private final String clockStoreName;
    private KeyValueStore<String, Long> clockStore;
    private long clock = Long.MIN_VALUE;

    /**
     * @param sink the name of the state-events sink node
     * @param clockStoreName the store of the lifecycle clock (see {@link #clockStore}), connected to the processor
     */
    public StateLifecycle(StatePolicy policy, EngramMetrics metrics, String sink, String clockStoreName) {
        this.policy = policy;
        this.metrics = metrics;
        this.sink = sink;
        this.clockStoreName = clockStoreName;
    }

    /** The persistent, changelogged store of the lifecycle clock: one entry per task. */
    public static StoreBuilder<KeyValueStore<String, Long>> clockStore(String name) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(), Serdes.Long());
    }

    public StatePolicy policy() {
        return policy;
    }

    /** The command of a control record (its {@value #CONTROL_HEADER} header), or null for a data record. */
    public static String control(org.apache.kafka.common.header.Headers headers) {
        org.apache.kafka.common.header.Header h = headers == null ? null : headers.lastHeader(CONTROL_HEADER);
        if (h == null) {
            return null;
        }
        return h.value() == null ? "" : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8).trim();
    }

    /**
     * Call from the processor's {@code init}: reads the task's lifecycle clock and, when
     * {@code state.idle_ttl_ms} is set, schedules the idle scan: every {@code idle_scan_interval_ms}
     * of wall-clock time, the streams idle at the lifecycle clock are deleted from {@code store} and
     * announced.
     */
    public <S extends StoredState> void init(ProcessorContext<String, Object> context, KeyValueStore<String, S> store) {
        clockStore = context.getStateStore(clockStoreName);
        Long c = clockStore.get(CLOCK_KEY);
        clock = c == null ? Long.MIN_VALUE : c;
        if (policy.idleTtlMs() == 0) {
            return;
        }
        context.schedule(Duration.ofMillis(policy.idleScanIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
                wallClock -> expireIdle(context, store));
    }

    /** The latest event time this task has stepped (the lifecycle clock); Long.MIN_VALUE before the first. */
    public long clock() {
        return clock;
    }

    /** Call after a record at {@code eventTime} was stepped: advances the lifecycle clock. */
    public void stepped(long eventTime) {
        if (eventTime > clock) {
            clock = eventTime;
            clockStore.put(CLOCK_KEY, clock);
        }
    }

    /** Deletes and announces every stream of {@code store} idle at the lifecycle clock; returns how many. */
    public <S extends StoredState> int expireIdle(ProcessorContext<String, Object> context, KeyValueStore<String, S> store) {
        if (policy.idleTtlMs() == 0 || clock == Long.MIN_VALUE) {
            return 0;
        }
        long streamTime = clock;
        List<KeyValue<String, S>> idle = new ArrayList<>();
        try (KeyValueIterator<String, S> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, S> kv = it.next();
                if (policy.idle(kv.value.lastEventTime(), streamTime)) {
                    idle.add(kv);
                }
            }
        }
        for (KeyValue<String, S> kv : idle) {
            store.delete(kv.key);
            expired(context, kv.key, kv.value);
        }
        return idle.size();
    }

    private void expired(ProcessorContext<String, Object> context, String key, StoredState s) {
        metrics.stateExpired();
        long at = s.lastEventTime() + policy.idleTtlMs();
        context.forward(new Record<>(key, new StateEvent(key, StateEvent.EXPIRED, StateEvent.IDLE, at, s.steps(),
                s.lastEventTime(), s.modelId(), s.modelVersion(), null, null), at), sink);
    }

    /**
     * Decides, before a record at {@code eventTime} is stepped, whether the stream's stored state
     * {@code s} goes on. Returns true when it does; false when it expired or was reset (the record is
     * then stepped from a fresh state), after announcing why. Call it after the record has passed
     * every check that can dead-letter it, so that a refused record changes nothing.
     *
     * @param belongsToModel whether {@code s} was written by the current model or one with the same
     *     declared state layout ({@code state_compat})
     */
    public boolean before(ProcessorContext<String, Object> context, String key, StoredState s, long eventTime,
            boolean belongsToModel, String modelId, String modelVersion) {
        if (policy.idle(s.lastEventTime(), Math.max(eventTime, clock))) {
            expired(context, key, s);
            return false;
        }
        if (!belongsToModel) {
            reset(context, key, s, StateEvent.MODEL_CHANGED, eventTime, modelId, modelVersion);
            return false;
        }
        if (s.steps() > 0 && policy.resetsAfterGap(s.lastEventTime(), eventTime)) {
            reset(context, key, s, StateEvent.GAP, eventTime, null, null);
            return false;
        }
        return true;
    }

    /** Announces a reset of {@code key}'s state ({@code s} may be null: there was none). */
    public void reset(ProcessorContext<String, Object> context, String key, StoredState s, String reason, long eventTime,
            String newModelId, String newModelVersion) {
        metrics.stateReset(reason);
        context.forward(new Record<>(key, new StateEvent(key, StateEvent.RESET, reason, eventTime, s == null ? 0 : s.steps(),
                s == null ? null : s.lastEventTime(), s == null ? null : s.modelId(), s == null ? null : s.modelVersion(),
                newModelId, newModelVersion), eventTime), sink);
    }
}

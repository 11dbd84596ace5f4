package io.engram.engine.step;

import io.engram.engine.config.StatePolicy;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.engram.engine.pipeline.activity.ActivityCodec;
import io.engram.engine.pipeline.activity.ActivityState;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * Kafka Streams may initialise the same processor again after closing it (a task revived under
 * exactly-once, its store wiped and restored from the changelog). The lifecycle then starts its
 * leases afresh, as for a new task, so that a stream restored into the store is expired like any
 * other once it idles.
 */
class StateLifecycleReinitTest {
    @Test
    void aStreamRestoredIntoTheStoreOfARevivedTaskGetsALeaseAndIsExpiredWhenIdle() {
        StatePolicy policy = new StatePolicy(0, StatePolicy.GapAction.RESET, 1_000, 100);
        StateLifecycle lifecycle = new StateLifecycle(policy, PipelineMeters.NONE, "events-sink");
        MockProcessorContext<String, Object> ctx = new MockProcessorContext<>();
        KeyValueStore<String, StreamState<ActivityState>> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("state"),
                Serdes.String(), new StateSerde<>(new ActivityCodec())).withLoggingDisabled().build();
        store.init(ctx.getStateStoreContext(), store);

        ctx.setCurrentSystemTimeMs(10_000);
        lifecycle.init(ctx, store);
        last(ctx).getPunctuator().punctuate(10_000); // the first scan: the (empty) store's streams are leased

        // The task is revived: its store is restored with a stream this instance never fed.
        store.put("restored", new StreamState<>("m", "1", "", 3, 1_700_000_000_000L, new float[4], new ActivityState()));
        lifecycle.init(ctx, store);
        last(ctx).getPunctuator().punctuate(20_000); // leased now
        assertEquals(0, ctx.forwarded().size(), "not idle yet");
        last(ctx).getPunctuator().punctuate(21_500); // idle for longer than idle_ttl_ms
        assertNull(store.get("restored"), "the restored stream was expired");
        List<MockProcessorContext.CapturedForward<? extends String, ?>> events = ctx.forwarded();
        assertEquals(1, events.size(), "and its expiry announced");
        assertEquals("restored", events.get(0).record().key());
    }

    private static MockProcessorContext.CapturedPunctuator last(MockProcessorContext<String, Object> ctx) {
        List<MockProcessorContext.CapturedPunctuator> p = ctx.scheduledPunctuators();
        return p.get(p.size() - 1);
    }
}

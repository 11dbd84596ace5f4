package io.engram.engine.step;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.OutOfOrder;
import io.engram.engine.config.StatePolicy;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.kafka.ProcessingErrors;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RecurrentStep;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.PayloadCodec;
import io.engram.engine.state.StateEvent;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedForward;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The step skeleton of {@link StepProcessor} on its own, every branch, over a fake head (text
 * records {@code "<event time>,<value>"}) and a fake model step (a running sum, no ONNX): what the
 * pipelines' topology tests reach only through a real head and model. The store is a real in-memory
 * store behind {@link StateSerde}, so every state goes through the one state format.
 */
class StepProcessorTest {
    static final String STORE = "fake-state";
    static final TopicRole PREDICTIONS = new TopicRole("predictions");
    static final TopicRole ALERTS = new TopicRole("alerts");
    static final Map<TopicRole, String> SINKS = Map.of(PREDICTIONS, "predictions-sink", ALERTS, "alerts-sink",
            StepTopology.STATE_EVENTS, "events-sink");
    /** The wall clock of the mock context; record timestamps and event times are around it. */
    static final long NOW = 1_700_000_000_000L;

    static final ModelManifest MODEL = manifest("fake", "1", "", 2);

    final RecordingMeters meters = new RecordingMeters();
    /** Two failures within two records stop. */
    final ProcessingErrors errors = new ProcessingErrors(2, 0.5);
    final List<FakeHead> heads = new ArrayList<>();
    final List<FakeStep> steps = new ArrayList<>();
    KeyValueStore<String, StreamState<Sum>> store;
    OrderedContext ctx;

    @BeforeEach
    void setUp() {
        ctx = new OrderedContext();
        ctx.setCurrentSystemTimeMs(NOW);
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), new StateSerde<>(new SumCodec()))
                .withLoggingDisabled().build();
        store.init(ctx.getStateStoreContext(), store);
        ctx.addStateStore(store);
    }

    // ---- the fakes ----

    /** A stream's payload: the sum of its values, and the model input width it was made for. */
    static final class Sum {
        double total;
        int width;

        Sum(double total, int width) {
            this.total = total;
            this.width = width;
        }
    }

    static final class SumCodec implements PayloadCodec<Sum> {
        @Override
        public String kind() {
            return "fake-sum";
        }

        @Override
        public int size(Sum p) {
            return 1 + 8 + 4;
        }

        @Override
        public void write(Sum p, ByteBuffer out) {
            out.put((byte) 1).putDouble(p.total).putInt(p.width);
        }

        @Override
        public Sum read(ByteBuffer in) {
            in.get();
            return new Sum(in.getDouble(), in.getInt());
        }

        @Override
        public StreamState<Sum> readLegacy(byte version, ByteBuffer in) {
            throw new SerializationException("no legacy format");
        }
    }

    record In(long eventTime, double value) {}

    /**
     * Records are UTF-8 text {@code "<event time>,<value>"}; {@code "!<command>"} is the in-value
     * control form. Emits one prediction per record and an alert for values over 100.
     */
    static final class FakeHead implements Head<In, Sum> {
        int closed;
        final List<String> calls = new ArrayList<>();

        @Override
        public String controlInValue(byte[] value) {
            String s = new String(value, StandardCharsets.UTF_8);
            return s.startsWith("!") ? s.substring(1) : null;
        }

        @Override
        public In decode(String key, Record<String, byte[]> record) {
            calls.add("decode");
            String[] parts = new String(record.value(), StandardCharsets.UTF_8).split(",");
            try {
                return new In(Long.parseLong(parts[0]), Double.parseDouble(parts[1]));
            } catch (RuntimeException e) {
                throw new BadInputException(Reason.NOT_JSON, "not '<time>,<value>'");
            }
        }

        @Override
        public long eventTime(In in, Record<String, byte[]> record) {
            return in.eventTime();
        }

        @Override
        public Sum freshPayload(ModelManifest model) {
            return new Sum(0, model.input().size());
        }

        @Override
        public boolean fits(Sum payload, ModelManifest model) {
            return payload.width == model.input().size();
        }

        @Override
        public void input(In in, StreamState<Sum> s, float[] x) {
            calls.add("input");
            x[0] = (float) in.value();
            x[1] = 1f;
            s.payload().total += in.value();
        }

        @Override
        public void output(String key, In in, long eventTime, StreamState<Sum> s, float[] y, long step, Outputs out) {
            calls.add("output");
            out.add(PREDICTIONS, key + "|step=" + step + "|y=" + y[0] + "|total=" + s.payload().total + "|at=" + eventTime);
            if (in.value() > 100) {
                out.add(ALERTS, key + "|alert=" + in.value());
            }
        }

        @Override
        public void close() {
            closed++;
        }
    }

    /** The model: state[0] sums x[0], state[1] counts; the output is the sum. */
    static final class FakeStep implements RecurrentStep {
        int calls;
        int closed;

        @Override
        public void step(float[] x, float[] state, float[] y) {
            calls++;
            state[0] += x[0];
            state[1] += x[1];
            y[0] = state[0];
        }

        @Override
        public void close() {
            closed++;
        }
    }

    static final class RecordingMeters implements PipelineMeters {
        final List<Long> stepped = new ArrayList<>();
        final List<String> resets = new ArrayList<>();
        final List<Long> latencies = new ArrayList<>();
        int expired;

        @Override
        public void stepped(long stepNanos) {
            stepped.add(stepNanos);
        }

        @Override
        public void deadLetter(Reason reason) {
            throw new AssertionError("the processor throws; the exception handler counts dead letters");
        }

        @Override
        public void stateReset(String reason) {
            resets.add(reason);
        }

        @Override
        public void stateExpired() {
            expired++;
        }

        @Override
        public void anomaly() {}

        @Override
        public void activityChange() {}

        @Override
        public void frameEncoded(long nanos) {}

        @Override
        public void outputLatency(long millis) {
            latencies.add(millis);
        }
    }

    /** Records, at each forward, the steps of the forwarded key's stored state: the store is written before the emit. */
    final class OrderedContext extends MockProcessorContext<String, Object> {
        final List<Long> storedStepsAtForward = new ArrayList<>();

        OrderedContext() {
            super(config(errors));
        }

        @Override
        public <K extends String, V> void forward(Record<K, V> record, String childName) {
            StreamState<Sum> s = store.get(record.key());
            storedStepsAtForward.add(s == null ? -1 : s.steps());
            super.forward(record, childName);
        }
    }

    // ---- helpers ----

    /** The mock context's streams config: an application id and bootstrap servers, and the pipeline's {@link ProcessingErrors}. */
    static java.util.Properties config(ProcessingErrors errors) {
        java.util.Properties p = new java.util.Properties();
        p.put(org.apache.kafka.streams.StreamsConfig.APPLICATION_ID_CONFIG, "step-test");
        p.put(org.apache.kafka.streams.StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        p.put(ProcessingErrors.CONFIG, errors);
        return p;
    }

    static ModelManifest manifest(String id, String version, String compat, int stateSize) {
        return new ModelManifest(id, version, Path.of("fake.onnx"), "gru", "forecast", new ModelManifest.Tensor("x", 2),
                new ModelManifest.Tensor("y", 1), List.of(new ModelManifest.StatePair("h", "h_out", stateSize)),
                ModelManifest.Preprocessing.NONE, compat, null, List.of(), "", null, Path.of("fake.yaml"));
    }

    StepProcessor<In, Sum> processor(ModelManifest model, OutOfOrder outOfOrder, StatePolicy policy) {
        Supplier<RecurrentStep> stepper = () -> {
            FakeStep s = new FakeStep();
            steps.add(s);
            return s;
        };
        return started(new StepProcessor<>(newHead(), model, stepper, STORE, outOfOrder, policy, meters, SINKS));
    }

    StepProcessor<In, Sum> processor() {
        return processor(MODEL, OutOfOrder.DROP, StatePolicy.DEFAULTS);
    }

    FakeHead newHead() {
        FakeHead h = new FakeHead();
        heads.add(h);
        return h;
    }

    StepProcessor<In, Sum> started(StepProcessor<In, Sum> p) {
        p.init(ctx);
        return p;
    }

    static Record<String, byte[]> rec(String key, String value, long timestamp) {
        return new Record<>(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8), timestamp, new RecordHeaders());
    }

    static Record<String, byte[]> data(String key, long eventTime, double value) {
        return rec(key, eventTime + "," + value, eventTime);
    }

    static Record<String, byte[]> control(String key, String command, String value, long timestamp) {
        Record<String, byte[]> r = rec(key, value, timestamp);
        r.headers().add(StateLifecycle.CONTROL_HEADER, command == null ? null : command.getBytes(StandardCharsets.UTF_8));
        return r;
    }

    BadInputException refused(StepProcessor<In, Sum> p, Record<String, byte[]> r, Reason reason) {
        BadInputException e = assertThrows(BadInputException.class, () -> p.process(r));
        assertEquals(reason, e.reason(), e.getMessage());
        return e;
    }

    byte[] storedBytes(String key) {
        StreamState<Sum> s = store.get(key);
        return s == null ? null : new StateSerde<>(new SumCodec()).serialize("t", s);
    }

    List<CapturedForward<? extends String, ?>> forwarded(String sink) {
        return ctx.forwarded(sink);
    }

    StateEvent onlyEvent() {
        List<CapturedForward<? extends String, ?>> events = forwarded("events-sink");
        assertEquals(1, events.size(), "one state event: " + events);
        return (StateEvent) events.get(0).record().value();
    }

    /** Puts a state written by another model (or with another layout) for {@code key}. */
    void putState(String key, String modelId, String version, String compat, int stateSize, int width, long steps, long last) {
        float[] hidden = new float[stateSize];
        hidden[0] = 7f;
        store.put(key, new StreamState<>(modelId, version, compat, steps, last, hidden, new Sum(70, width)));
    }

    // ---- the key, control and value checks ----

    @Test
    void aRecordThatWentThroughCountsAgainstProcessingErrorsAndABadOneNeither() {
        StepProcessor<In, Sum> p = processor();
        assertFalse(errors.failed("in-0@1"));
        p.process(data("pump-1", NOW - 20, 1));
        assertFalse(errors.failed("in-0@3"), "one failure of the last two records: the step counted the one between");
        refused(p, rec("pump-1", "twelve", NOW + 1), Reason.NOT_JSON);
        assertTrue(errors.failed("in-0@5"), "two failures of the last two: bad input counts neither way");
    }

    @Test
    void aRecordWithoutAKeyIsRefusedBeforeAnythingElse() {
        StepProcessor<In, Sum> p = processor();
        refused(p, rec(null, "not even decodable", NOW), Reason.NULL_KEY);
        refused(p, control(null, "reset", null, NOW), Reason.NULL_KEY);
        assertTrue(heads.get(0).calls.isEmpty(), "the head never saw it");
        assertTrue(ctx.forwarded().isEmpty());
        assertTrue(meters.stepped.isEmpty());
    }

    @Test
    void aControlHeaderResetDeletesTheStateAndAnnouncesIt() {
        StepProcessor<In, Sum> p = processor();
        p.process(data("pump-1", NOW, 1));
        p.process(data("pump-1", NOW + 1000, 2));
        ctx.resetForwards();

        // The control header wins over the value: even a value that would not decode is a command.
        p.process(control("pump-1", "reset", "garbage", NOW + 5));
        assertNull(store.get("pump-1"), "the state is deleted");
        StateEvent e = onlyEvent();
        assertEquals(new StateEvent("pump-1", StateEvent.RESET, StateEvent.CONTROL, NOW + 5, 2, NOW + 1000, "fake", "1", null, null), e);
        assertEquals(NOW + 5, forwarded("events-sink").get(0).record().timestamp());
        assertEquals(List.of(StateEvent.CONTROL), meters.resets);
        assertEquals(2, meters.stepped.size(), "a control record is not stepped");
        assertEquals(List.of("decode", "input", "output", "decode", "input", "output"), heads.get(0).calls);

        // The stream starts afresh.
        ctx.resetForwards();
        p.process(data("pump-1", NOW + 2000, 5));
        assertEquals(1, store.get("pump-1").steps());
        assertEquals(5f, store.get("pump-1").hidden()[0]);
    }

    @Test
    void aControlResetOfAStreamWithoutStateIsAnnouncedWithNoState() {
        StepProcessor<In, Sum> p = processor();
        // A tombstone with the header is a command too: the control check comes before the value check.
        p.process(control("new", " reset ", null, NOW));
        assertEquals(new StateEvent("new", StateEvent.RESET, StateEvent.CONTROL, NOW, 0, null, null, null, null, null), onlyEvent());
        assertNull(store.get("new"));
    }

    @Test
    void anUnknownControlCommandIsRefusedAndChangesNothing() {
        StepProcessor<In, Sum> p = processor();
        p.process(data("pump-1", NOW, 1));
        byte[] before = storedBytes("pump-1");
        ctx.resetForwards();
        BadInputException e = refused(p, control("pump-1", "pause", "1,1", NOW), Reason.BAD_FIELD);
        assertEquals("control record for stream pump-1 asks for 'pause'; the only control is reset", e.getMessage());
        refused(p, control("pump-1", null, "1,1", NOW), Reason.BAD_FIELD); // a header without a value: command ""
        assertArrayEquals(before, storedBytes("pump-1"));
        assertTrue(ctx.forwarded().isEmpty());
    }

    @Test
    void theHeadsInValueControlFormResetsToo() {
        StepProcessor<In, Sum> p = processor();
        p.process(data("cam", NOW, 3));
        ctx.resetForwards();
        p.process(rec("cam", "!reset", NOW + 1));
        assertNull(store.get("cam"));
        assertEquals(StateEvent.CONTROL, onlyEvent().reason());
        ctx.resetForwards();
        refused(p, rec("cam", "!rewind", NOW + 2), Reason.BAD_FIELD);
        assertTrue(ctx.forwarded().isEmpty());
    }

    @Test
    void aTombstoneIsRefused() {
        StepProcessor<In, Sum> p = processor();
        BadInputException e = refused(p, rec("pump-1", null, NOW), Reason.NULL_VALUE);
        assertEquals("record has no value (tombstone) for stream pump-1", e.getMessage());
        assertFalse(heads.get(0).calls.contains("decode"));
        assertNull(store.get("pump-1"));
    }

    @Test
    void aRecordTheHeadCannotDecodeIsRefusedAndLeavesTheStateAlone() {
        StepProcessor<In, Sum> p = processor();
        p.process(data("pump-1", NOW, 1));
        byte[] before = storedBytes("pump-1");
        ctx.resetForwards();
        refused(p, rec("pump-1", "twelve", NOW + 1), Reason.NOT_JSON);
        assertArrayEquals(before, storedBytes("pump-1"));
        assertTrue(ctx.forwarded().isEmpty());
        assertEquals(1, steps.get(0).calls);
    }

    // ---- event time and order ----

    @Test
    void anEventTimeMoreThanAnHourAheadOfTheTimestampOrTheClockIsRefused() {
        StepProcessor<In, Sum> p = processor();
        long limit = StepProcessor.MAX_TS_AHEAD_MS;
        // Exactly the limit ahead of the record's timestamp is stepped.
        p.process(rec("a", (NOW + limit) + ",1", NOW));
        assertEquals(1, store.get("a").steps());
        // One ms more is refused.
        BadInputException e = refused(p, rec("b", (NOW + limit + 1) + ",1", NOW), Reason.BAD_FIELD);
        assertTrue(e.getMessage().contains("more than 1 hour ahead"), e.getMessage());
        assertNull(store.get("b"));
        // A record timestamp in the future does not help: the clock (earlier) is the reference.
        refused(p, rec("c", (NOW + limit + 1) + ",1", NOW + 2 * limit), Reason.BAD_FIELD);
        // ... and an old record timestamp is the reference when it is earlier than the clock.
        refused(p, rec("d", (NOW - 10 + limit + 1) + ",1", NOW - 10), Reason.BAD_FIELD);
        assertNull(store.get("c"));
        assertNull(store.get("d"));
    }

    @Test
    void anOlderRecordIsRefusedUnderDropAndTheStateStaysAsItWas() {
        StepProcessor<In, Sum> p = processor(MODEL, OutOfOrder.DROP, StatePolicy.DEFAULTS);
        p.process(data("s", NOW, 1));
        p.process(data("s", NOW + 100, 2));
        byte[] before = storedBytes("s");
        ctx.resetForwards();
        BadInputException e = refused(p, data("s", NOW + 99, 3), Reason.OUT_OF_ORDER);
        assertEquals("stream s record at " + (NOW + 99) + " is older than the last stepped record at " + (NOW + 100)
                + " (state.out_of_order: drop)", e.getMessage());
        assertArrayEquals(before, storedBytes("s"));
        assertTrue(ctx.forwarded().isEmpty());
        // The same event time is not older: stepped.
        p.process(data("s", NOW + 100, 4));
        assertEquals(3, store.get("s").steps());
    }

    @Test
    void anOlderRecordIsSteppedUnderProcessAndTheLastEventTimeNeverGoesBack() {
        StepProcessor<In, Sum> p = processor(MODEL, OutOfOrder.PROCESS, StatePolicy.DEFAULTS);
        p.process(data("s", NOW + 100, 1));
        p.process(data("s", NOW + 50, 2));
        StreamState<Sum> s = store.get("s");
        assertEquals(2, s.steps());
        assertEquals(NOW + 100, s.lastEventTime());
        assertEquals(3f, s.hidden()[0]);
        // Its outputs carry its own event time.
        assertEquals(NOW + 50, forwarded("predictions-sink").get(1).record().timestamp());
    }

    @Test
    void anOlderRecordOnStateOfAnotherModelIsNotRefusedButResetsTheStream() {
        // The order check is against a state that goes on; state of another model is replaced anyway.
        putState("s", "old-model", "1", "", 2, 2, 5, NOW + 10_000);
        StepProcessor<In, Sum> p = processor(MODEL, OutOfOrder.DROP, StatePolicy.DEFAULTS);
        p.process(data("s", NOW, 1));
        assertEquals(StateEvent.MODEL_CHANGED, onlyEvent().reason());
        assertEquals(1, store.get("s").steps());
    }

    // ---- model compatibility and the lifecycle ----

    @Test
    void stateOfAnotherModelIsResetWithTheNewModelAnnounced() {
        putState("s", "fake", "0", "", 2, 2, 5, NOW - 10);
        StepProcessor<In, Sum> p = processor();
        p.process(data("s", NOW, 1));
        assertEquals(new StateEvent("s", StateEvent.RESET, StateEvent.MODEL_CHANGED, NOW, 5, NOW - 10, "fake", "0", "fake", "1"),
                onlyEvent());
        assertEquals(List.of(StateEvent.MODEL_CHANGED), meters.resets);
        StreamState<Sum> s = store.get("s");
        assertEquals("1", s.modelVersion());
        assertEquals(1, s.steps());
        assertEquals(1f, s.hidden()[0], "from a zero state, not the old one's 7");
        assertEquals(1.0, s.payload().total, "and a fresh payload");
    }

    @Test
    void stateOfAModelWithTheSameStateCompatIsAdopted() {
        putState("s", "old", "0", "layout-a", 2, 2, 5, NOW - 10);
        StepProcessor<In, Sum> p = processor(manifest("new", "2", "layout-a", 2), OutOfOrder.DROP, StatePolicy.DEFAULTS);
        p.process(data("s", NOW, 1));
        assertTrue(forwarded("events-sink").isEmpty(), "no reset");
        StreamState<Sum> s = store.get("s");
        assertEquals("new", s.modelId());
        assertEquals("2", s.modelVersion());
        assertEquals(6, s.steps());
        assertEquals(8f, s.hidden()[0], "carried on from the stored 7");
        assertEquals(71.0, s.payload().total);
    }

    @Test
    void anotherStateCompatOrNoneIsAModelChange() {
        putState("a", "old", "0", "layout-a", 2, 2, 5, NOW - 10);
        putState("b", "old", "0", "", 2, 2, 5, NOW - 10);
        StepProcessor<In, Sum> p = processor(manifest("new", "2", "layout-b", 2), OutOfOrder.DROP, StatePolicy.DEFAULTS);
        p.process(data("a", NOW, 1));
        p.process(data("b", NOW, 1));
        assertEquals(List.of(StateEvent.MODEL_CHANGED, StateEvent.MODEL_CHANGED), meters.resets);
        assertEquals(1, store.get("a").steps());
        assertEquals(1, store.get("b").steps());
        // No compat at all: equal empty strings adopt nothing.
        putState("c", "old", "0", "", 2, 2, 5, NOW - 10);
        StepProcessor<In, Sum> q = processor(manifest("new", "2", "", 2), OutOfOrder.DROP, StatePolicy.DEFAULTS);
        q.process(data("c", NOW, 1));
        assertEquals(1, store.get("c").steps());
    }

    @Test
    void stateWhoseSizesDoNotFitIsResetEvenUnderTheSameModel() {
        putState("hidden", "fake", "1", "", 3, 2, 5, NOW - 10); // three state floats, the model has two
        putState("payload", "fake", "1", "", 2, 9, 5, NOW - 10); // the head's payload was made for width 9
        putState("compat", "old", "0", "fake-layout", 3, 2, 5, NOW - 10); // same compat, wrong size: not adopted
        StepProcessor<In, Sum> p = processor(manifest("fake", "1", "fake-layout", 2), OutOfOrder.DROP, StatePolicy.DEFAULTS);
        p.process(data("hidden", NOW, 1));
        p.process(data("payload", NOW, 1));
        p.process(data("compat", NOW, 1));
        assertEquals(List.of(StateEvent.MODEL_CHANGED, StateEvent.MODEL_CHANGED, StateEvent.MODEL_CHANGED), meters.resets);
        for (String k : List.of("hidden", "payload", "compat")) {
            StreamState<Sum> s = store.get(k);
            assertEquals(1, s.steps(), k);
            assertEquals(2, s.hidden().length, k);
            assertEquals(2, s.payload().width, k);
        }
    }

    @Test
    void aGapOverMaxGapResetsTheStreamAndAGapOfExactlyMaxGapDoesNot() {
        StatePolicy policy = new StatePolicy(1_000, StatePolicy.GapAction.RESET, 0, 60_000);
        StepProcessor<In, Sum> p = processor(MODEL, OutOfOrder.DROP, policy);
        p.process(data("s", NOW, 1));
        p.process(data("s", NOW + 1_000, 1));
        assertTrue(forwarded("events-sink").isEmpty());
        assertEquals(2, store.get("s").steps());
        p.process(data("s", NOW + 2_001, 1));
        assertEquals(new StateEvent("s", StateEvent.RESET, StateEvent.GAP, NOW + 2_001, 2, NOW + 1_000, "fake", "1", null, null),
                onlyEvent());
        assertEquals(List.of(StateEvent.GAP), meters.resets);
        assertEquals(1, store.get("s").steps());
        assertEquals(1f, store.get("s").hidden()[0]);
    }

    @Test
    void aGapIsCarriedOverUnderOnGapCarry() {
        StatePolicy policy = new StatePolicy(1_000, StatePolicy.GapAction.CARRY, 0, 60_000);
        StepProcessor<In, Sum> p = processor(MODEL, OutOfOrder.DROP, policy);
        p.process(data("s", NOW, 1));
        p.process(data("s", NOW + 1_000_000, 1));
        assertTrue(forwarded("events-sink").isEmpty());
        assertEquals(2, store.get("s").steps());
    }

    @Test
    void idleStreamsAreExpiredByTheWallClockScan() {
        StatePolicy policy = new StatePolicy(0, StatePolicy.GapAction.RESET, 1_000, 100);
        StepProcessor<In, Sum> p = processor(MODEL, OutOfOrder.DROP, policy);
        p.process(data("idle", NOW - 5, 1));
        ctx.setCurrentSystemTimeMs(NOW + 500);
        p.process(data("fed", NOW + 500, 1));
        ctx.resetForwards();
        MockProcessorContext.CapturedPunctuator scan = ctx.scheduledPunctuators().get(0);
        assertEquals(100, scan.getInterval().toMillis());
        scan.getPunctuator().punctuate(NOW + 1_001);
        assertNull(store.get("idle"));
        assertNotNull(store.get("fed"));
        assertEquals(new StateEvent("idle", StateEvent.EXPIRED, StateEvent.IDLE, NOW - 5, 1, NOW - 5, "fake", "1", null, null),
                onlyEvent());
        assertEquals(1, meters.expired);
    }

    @Test
    void withoutAnIdleTtlNothingIsScheduled() {
        processor(MODEL, OutOfOrder.DROP, new StatePolicy(0, StatePolicy.GapAction.RESET, 0, 100));
        assertTrue(ctx.scheduledPunctuators().isEmpty());
    }

    // ---- the step, store, emit and metrics ----

    @Test
    void aFreshStreamIsSteppedStoredAndEmittedToEachRolesSink() {
        StepProcessor<In, Sum> p = processor();
        Record<String, byte[]> r = data("pump-1", NOW - 20, 150);
        r.headers().add("trace", "t-1".getBytes(StandardCharsets.UTF_8));
        p.process(r);

        StreamState<Sum> s = store.get("pump-1");
        assertEquals("fake", s.modelId());
        assertEquals("1", s.modelVersion());
        assertEquals(1, s.steps());
        assertEquals(NOW - 20, s.lastEventTime());
        assertArrayEquals(new float[] {150f, 1f}, s.hidden(), "the model stepped the zero state in place");
        assertEquals(150.0, s.payload().total, "the head's payload, stored");

        List<CapturedForward<? extends String, ?>> all = ctx.forwarded();
        assertEquals(2, all.size());
        assertEquals("predictions-sink", all.get(0).childName().orElseThrow());
        assertEquals("alerts-sink", all.get(1).childName().orElseThrow());
        Record<? extends String, ?> pred = all.get(0).record();
        assertEquals("pump-1", pred.key());
        assertEquals("pump-1|step=0|y=150.0|total=150.0|at=" + (NOW - 20), pred.value());
        assertEquals(NOW - 20, pred.timestamp(), "the event time");
        assertArrayEquals("t-1".getBytes(StandardCharsets.UTF_8), pred.headers().lastHeader("trace").value(), "the input's headers");
        assertEquals("pump-1|alert=150.0", all.get(1).record().value());
        assertEquals(NOW - 20, all.get(1).record().timestamp());
        assertEquals(List.of(1L, 1L), ctx.storedStepsAtForward, "the new state was stored before each emit");

        assertEquals(1, meters.stepped.size());
        assertTrue(meters.stepped.get(0) >= 0, "the model call was timed");
        assertEquals(1, meters.latencies.size());
        assertTrue(meters.latencies.get(0) >= 20, "latency from the event time: " + meters.latencies);
        assertTrue(meters.resets.isEmpty());
    }

    @Test
    void aStreamGoesOnFromItsStoredState() {
        StepProcessor<In, Sum> p = processor();
        p.process(data("s", NOW, 1));
        p.process(data("s", NOW + 1, 2));
        p.process(data("other", NOW + 1, 10));
        p.process(data("s", NOW + 2, 3));
        assertEquals(List.of("s|step=0|y=1.0|total=1.0|at=" + NOW, "s|step=1|y=3.0|total=3.0|at=" + (NOW + 1),
                "other|step=0|y=10.0|total=10.0|at=" + (NOW + 1), "s|step=2|y=6.0|total=6.0|at=" + (NOW + 2)),
                forwarded("predictions-sink").stream().map(f -> f.record().value()).toList());
        assertTrue(forwarded("alerts-sink").isEmpty());
        assertArrayEquals(new float[] {6f, 3f}, store.get("s").hidden());
        assertEquals(4, meters.stepped.size());
    }

    @Test
    void withoutAModelTheStepIsSkippedAndTheOutputIsZeros() {
        StepProcessor<In, Sum> p = started(new StepProcessor<>(newHead(), MODEL, (StepSession) null, STORE, OutOfOrder.DROP,
                StatePolicy.DEFAULTS, meters, SINKS));
        p.process(data("s", NOW, 4));
        p.process(data("s", NOW + 1, 5));
        StreamState<Sum> s = store.get("s");
        assertEquals(2, s.steps());
        assertArrayEquals(new float[] {0f, 0f}, s.hidden(), "no model, no state change");
        assertEquals(9.0, s.payload().total, "the head still ran");
        assertEquals("s|step=1|y=0.0|total=9.0|at=" + (NOW + 1), forwarded("predictions-sink").get(1).record().value());
        assertEquals(List.of(-1L, -1L), meters.stepped, "-1: no model call");
        p.close();
        assertEquals(1, heads.get(0).closed);
    }

    @Test
    void closeReleasesTheStepAndTheHeadAndAReinitMakesANewStep() {
        StepProcessor<In, Sum> p = processor();
        p.process(data("s", NOW, 1));
        p.close();
        assertEquals(1, steps.get(0).closed);
        assertEquals(1, heads.get(0).closed);
        p.close(); // idempotent for the step it owns
        assertEquals(1, steps.get(0).closed);

        p.init(ctx); // Kafka Streams revives the task
        assertEquals(2, steps.size(), "a new model step");
        p.process(data("s", NOW + 1, 2));
        assertEquals(1, steps.get(1).calls);
        assertEquals(0, steps.get(0).calls - 1, "the closed one is not used again");
        assertEquals(2, store.get("s").steps());
    }
}

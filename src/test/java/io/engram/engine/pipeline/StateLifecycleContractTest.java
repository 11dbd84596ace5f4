package io.engram.engine.pipeline;

import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.config.OutOfOrder;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.state.StateEvent;
import io.engram.engine.config.StatePolicy;
import io.engram.engine.config.StatePolicy.GapAction;
import io.engram.engine.state.StreamState;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import io.engram.testkit.Records;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The state guarantees hold for every pipeline, whatever its head: the same checks run against
 * each shipped pipeline's real topology, model and input format. Control reset, gap reset and
 * carry, idle expiry, model change (incompatible: reset; same {@code state_compat}: carried on),
 * out-of-order records, and a bad record that never touches the state.
 */
class StateLifecycleContractTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final long T0 = 1_700_000_000_000L;
    static final long SEC = 1_000;
    static final long HOUR = 3_600_000;

    /** One pipeline under test: its driver, its step input and outputs. */
    static final class P implements AutoCloseable {
        final PipelineDriver pd;
        final TestInputTopic<byte[], byte[]> in;
        final TestOutputTopic<String, String> predictions;
        final TestOutputTopic<String, String> events;

        P(String yaml, UnaryOperator<PipelineSpec> change) throws Exception {
            pd = PipelineDriver.stepFed(change.apply(Pipelines.load(Path.of(yaml))));
            in = pd.stepInput();
            predictions = pd.output(pd.spec.kind() == VideoActivityPipeline.INSTANCE ? ActivityHead.PREDICTIONS : ForecastHead.PREDICTIONS);
            events = pd.stateEvents();
        }

        void send(String key, int i, long ts) {
            in.pipeInput(key.getBytes(StandardCharsets.UTF_8), Records.record(pd.spec, pd.manifest, i, ts), ts);
        }

        List<Long> steps() throws Exception {
            List<Long> s = new ArrayList<>();
            for (String p : predictions.readValuesToList()) {
                s.add(JSON.readTree(p).get("step").asLong());
            }
            return s;
        }

        List<JsonNode> stateEvents() throws Exception {
            List<JsonNode> out = new ArrayList<>();
            for (String e : events.readValuesToList()) {
                out.add(JSON.readTree(e));
            }
            return out;
        }

        <S> KeyValueStore<String, StreamState<S>> store() {
            return pd.store();
        }

        @Override
        public void close() throws Exception {
            pd.close();
        }
    }

    static UnaryOperator<PipelineSpec> policy(StatePolicy p) {
        return s -> s.withStatePolicy(p);
    }

    @ParameterizedTest
    @ValueSource(strings = {"topology/sensor-anomaly.yaml", "topology/video-activity.yaml", "topology/video-anomaly.yaml", "topology/person-activity.yaml"})
    void aControlRecordResetsTheStreamAndIsAnnounced(String yaml) throws Exception {
        try (P p = new P(yaml, s -> s)) {
            for (int i = 0; i < 5; i++) {
                p.send("a", i, T0 + i * SEC);
            }
            p.pd.sendControl("a", "reset", T0 + 5 * SEC);
            assertNull(p.store().get("a"), "the control record deleted the state");
            p.send("a", 6, T0 + 6 * SEC);
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 0L), p.steps(), "a control record is a command, not data");
            List<JsonNode> ev = p.stateEvents();
            assertEquals(1, ev.size());
            assertEquals(StateEvent.CONTROL, ev.get(0).get("reason").asText());
            assertEquals(5, ev.get(0).get("steps").asLong());
            assertEquals(1.0, p.pd.metrics.stateResetCount(StateEvent.CONTROL));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"topology/sensor-anomaly.yaml", "topology/video-activity.yaml", "topology/video-anomaly.yaml", "topology/person-activity.yaml"})
    void aGapResetsOrCarriesAsConfigured(String yaml) throws Exception {
        for (GapAction action : GapAction.values()) {
            try (P p = new P(yaml, policy(new StatePolicy(HOUR, action, 0, 60_000)))) {
                for (int i = 0; i < 4; i++) {
                    p.send("a", i, T0 + i * SEC);
                }
                p.send("a", 4, T0 + 3 * SEC + 2 * HOUR);
                List<Long> steps = p.steps();
                List<JsonNode> ev = p.stateEvents();
                if (action == GapAction.RESET) {
                    assertEquals(0L, steps.get(4), "after the gap the stream starts afresh");
                    assertEquals(1, ev.size());
                    assertEquals(StateEvent.GAP, ev.get(0).get("reason").asText());
                    assertEquals(T0 + 3 * SEC + 2 * HOUR, ev.get(0).get("event_time").asLong());
                } else {
                    assertEquals(4L, steps.get(4), "on_gap: carry steps on");
                    assertTrue(ev.isEmpty());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"topology/sensor-anomaly.yaml", "topology/video-activity.yaml", "topology/video-anomaly.yaml", "topology/person-activity.yaml"})
    void anIdleStreamIsExpiredByTheWallClockScanAndAnnounced(String yaml) throws Exception {
        try (P p = new P(yaml, policy(new StatePolicy(0, GapAction.RESET, HOUR, 10 * 60_000)))) {
            p.send("quiet", 0, T0);
            p.pd.driver.advanceWallClockTime(Duration.ofMinutes(40));
            p.send("busy", 0, T0 + SEC);
            p.pd.driver.advanceWallClockTime(Duration.ofMinutes(40));
            assertNull(p.store().get("quiet"), "80 minutes without a record: deleted");
            assertEquals(1, p.store().get("busy").steps(), "fed 40 minutes ago: kept");
            List<JsonNode> ev = p.stateEvents();
            assertEquals(1, ev.size());
            assertEquals(StateEvent.EXPIRED, ev.get(0).get("event").asText());
            assertEquals("quiet", ev.get(0).get("stream").asText());
            assertEquals(1.0, p.pd.metrics.stateExpiredCount());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"topology/sensor-anomaly.yaml", "topology/video-activity.yaml", "topology/video-anomaly.yaml", "topology/person-activity.yaml"})
    void stateOfAnotherModelIsResetAndStateOfACompatibleOneCarriesOn(String yaml) throws Exception {
        try (P p = new P(yaml, s -> s)) {
            for (int i = 0; i < 3; i++) {
                p.send("compatible", i, T0 + i * SEC);
                p.send("other", i, T0 + i * SEC);
            }
            KeyValueStore<String, StreamState<Object>> store = p.store();
            StreamState<Object> c = store.get("compatible");
            assertTrue(!c.stateCompat().isEmpty(), "every shipped model declares its state layout");
            store.put("compatible", new StreamState<>(c.modelId(), "0.0.1", c.stateCompat(), c.steps(), c.lastEventTime(), c.hidden(),
                    c.payload()));
            StreamState<Object> o = store.get("other");
            store.put("other", new StreamState<>("some-other-model", "9", "another-layout", o.steps(), o.lastEventTime(), o.hidden(),
                    o.payload()));
            p.predictions.readValuesToList();
            p.send("compatible", 3, T0 + 3 * SEC);
            p.send("other", 3, T0 + 3 * SEC);
            assertEquals(List.of(3L, 0L), p.steps());
            assertEquals(p.pd.manifest.version(), store.get("compatible").modelVersion(), "adopted by the current model");
            List<JsonNode> ev = p.stateEvents();
            assertEquals(1, ev.size());
            assertEquals(StateEvent.MODEL_CHANGED, ev.get(0).get("reason").asText());
            assertEquals("some-other-model", ev.get(0).get("model_id").asText());
            assertEquals(p.pd.manifest.id(), ev.get(0).get("new_model_id").asText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"topology/sensor-anomaly.yaml", "topology/video-activity.yaml", "topology/video-anomaly.yaml", "topology/person-activity.yaml"})
    void anOutOfOrderRecordIsDeadLetteredOrSteppedAsConfiguredAndABadOneNeverTouchesTheState(String yaml) throws Exception {
        for (OutOfOrder ooo : OutOfOrder.values()) {
            try (P p = new P(yaml, s -> s.withOutOfOrder(ooo))) {
                p.send("a", 0, T0 + 10 * SEC);
                p.send("a", 1, T0 + 5 * SEC);
                p.in.pipeInput("a".getBytes(StandardCharsets.UTF_8), "garbage".getBytes(StandardCharsets.UTF_8), T0 + 11 * SEC);
                var dead = p.pd.deadLetters().readRecordsToList();
                List<String> reasons = new ArrayList<>();
                dead.forEach(r -> reasons.add(new String(r.headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8)));
                StreamState<Object> s = p.store().get("a");
                if (ooo == OutOfOrder.DROP) {
                    assertEquals("out-of-order", reasons.get(0));
                    assertEquals(2, reasons.size());
                    assertEquals(1, s.steps(), "neither the late nor the bad record stepped");
                } else {
                    assertEquals(1, reasons.size(), "only the bad record");
                    assertEquals(2, s.steps());
                }
                assertEquals(T0 + 10 * SEC, s.lastEventTime(), "the last event time never goes back");
            }
        }
    }
}

package io.engram.engine.pipeline.anomaly;

import io.engram.testkit.TopologyFixture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.state.StateEvent;
import io.engram.engine.config.StatePolicy;
import io.engram.engine.config.StatePolicy.GapAction;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.state.StreamState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sensor pipeline's state lifecycle in a TopologyTestDriver: gaps, idle expiry, control records, model changes. */
class SensorStateLifecycleTest {
    static final String GRU = "models/sensor-forecaster/sensor-gru.yaml";
    static final ObjectMapper JSON = new ObjectMapper();
    static final long MIN5 = 300_000;
    static final long HOUR = 3_600_000;
    static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path tmp;

    static PipelineSpec config(StatePolicy policy) {
        return Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).withStatePolicy(policy);
    }

    static double value(int i) {
        return 10 + Math.sin(i / 7.0);
    }

    static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void aGapLongerThanMaxGapResetsTheStreamAndAnnouncesItOnTheStateEventsTopic() throws Exception {
        try (TopologyFixture f = new TopologyFixture(config(new StatePolicy(HOUR, GapAction.RESET, 0, 60_000)), GRU)) {
            for (int i = 0; i < 10; i++) {
                f.send("a", T0 + i * MIN5, value(i));
                f.send("b", T0 + i * MIN5, value(i));
            }
            long late = T0 + 9 * MIN5 + 2 * HOUR;
            f.send("a", late, 11.0);
            f.send("b", T0 + 10 * MIN5, value(10));
            List<ForecastPrediction> p = f.predictions.readValuesToList();
            assertEquals(22, p.size());
            assertEquals(0, p.get(20).step(), "after the gap, stream a starts afresh");
            assertNull(p.get(20).forecast(), "no forecast from the old state");
            assertEquals(10, p.get(21).step(), "stream b is untouched");
            List<String> ev = f.stateEvents.readValuesToList();
            assertEquals(1, ev.size());
            JsonNode e = json(ev.get(0));
            assertEquals("a", e.get("stream").asText());
            assertEquals(StateEvent.RESET, e.get("event").asText());
            assertEquals(StateEvent.GAP, e.get("reason").asText());
            assertEquals(late, e.get("event_time").asLong());
            assertEquals(10, e.get("steps").asLong());
            assertEquals(T0 + 9 * MIN5, e.get("last_event_time").asLong());
            assertEquals(1.0, f.metrics.stateResetCount(StateEvent.GAP));
        }
    }

    @Test
    void withOnGapCarryTheStreamStepsOnAcrossTheGapSilently() throws Exception {
        try (TopologyFixture f = new TopologyFixture(config(new StatePolicy(HOUR, GapAction.CARRY, 0, 60_000)), GRU)) {
            for (int i = 0; i < 10; i++) {
                f.send("a", T0 + i * MIN5, value(i));
            }
            f.send("a", T0 + 9 * MIN5 + 2 * HOUR, 11.0);
            List<ForecastPrediction> p = f.predictions.readValuesToList();
            assertEquals(10, p.get(10).step());
            assertTrue(f.stateEvents.isEmpty());
        }
    }

    @Test
    void streamsWithoutARecordForTheTtlAreDeletedByTheWallClockScanAndAnnounced() throws Exception {
        try (TopologyFixture f = new TopologyFixture(config(new StatePolicy(0, GapAction.RESET, HOUR, 10 * 60_000)), GRU)) {
            f.send("quiet", T0, 5.0);
            f.send("quiet", T0 + MIN5, 5.1);
            f.driver.advanceWallClockTime(Duration.ofMinutes(40));
            for (int i = 0; i < 20; i++) {
                f.send("busy", T0 + i * MIN5, value(i));
            }
            assertEquals(2, f.store().get("quiet").steps(), "40 minutes without a record: not idle yet");
            f.driver.advanceWallClockTime(Duration.ofMinutes(40));
            assertNull(f.store().get("quiet"), "80 minutes without a record: deleted");
            assertEquals(20, f.store().get("busy").steps(), "fed 40 minutes ago: kept");
            List<String> ev = f.stateEvents.readValuesToList();
            assertEquals(1, ev.size(), ev.toString());
            JsonNode e = json(ev.get(0));
            assertEquals("quiet", e.get("stream").asText());
            assertEquals(StateEvent.EXPIRED, e.get("event").asText());
            assertEquals(StateEvent.IDLE, e.get("reason").asText());
            assertEquals(T0 + MIN5, e.get("event_time").asLong(), "the stream's last event time");
            assertEquals(2, e.get("steps").asLong());
            assertEquals(1.0, f.metrics.stateExpiredCount());
            f.send("quiet", T0 + 21 * MIN5, 5.2);
            List<ForecastPrediction> p = f.predictions.readValuesToList();
            assertEquals(0, p.get(p.size() - 1).step(), "a stream that comes back starts afresh");
            assertTrue(f.stateEvents.isEmpty(), "announced once");
        }
    }

    @Test
    void replayingStreamsFromDifferentYearsThroughOnePartitionExpiresNothingThatIsFed() throws Exception {
        // Idleness is processing time: historical data of any period, interleaved, is simply fed.
        long y2013 = 1_370_000_000_000L;
        long y2015 = 1_430_000_000_000L;
        try (TopologyFixture f = new TopologyFixture(config(new StatePolicy(0, GapAction.RESET, HOUR, 60_000)), GRU)) {
            for (int i = 0; i < 300; i++) {
                f.send("from-2013", y2013 + i * MIN5, value(i));
                f.send("from-2015", y2015 + i * MIN5, value(i));
                f.driver.advanceWallClockTime(Duration.ofSeconds(1));
            }
            List<ForecastPrediction> p = f.predictions.readValuesToList();
            assertEquals(299, p.get(598).step());
            assertEquals(299, p.get(599).step());
            assertTrue(f.stateEvents.isEmpty());
        }
    }

    @Test
    void aBadRecordWithAWildTimestampDoesNotExpireAnyStream() throws Exception {
        try (TopologyFixture f = new TopologyFixture(config(new StatePolicy(0, GapAction.RESET, HOUR, 60_000)), GRU)) {
            f.send("a", T0, 5.0);
            f.sendRaw("a", "{oops", T0 + 1000 * HOUR); // dead-lettered; Kafka's stream time jumps, no state changes
            f.driver.advanceWallClockTime(Duration.ofMinutes(10));
            f.send("a", T0 + MIN5, 5.1);
            assertEquals(1, f.predictions.readValuesToList().get(1).step());
            assertTrue(f.stateEvents.isEmpty());
        }
    }

    @Test
    void aControlRecordResetsOneStreamOnDemandAndUnknownCommandsAreDeadLettered() throws Exception {
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            for (int i = 0; i < 5; i++) {
                f.send("a", T0 + i * MIN5, value(i));
                f.send("b", T0 + i * MIN5, value(i));
            }
            f.sendControl("a", "reset", T0 + 5 * MIN5);
            f.sendRaw("b", "{\"control\": \"reset\"}", T0 + 5 * MIN5);
            f.sendControl("a", "reboot", T0 + 5 * MIN5);
            f.send("a", T0 + 6 * MIN5, value(6));
            f.send("b", T0 + 6 * MIN5, value(6));
            List<ForecastPrediction> p = f.predictions.readValuesToList();
            assertEquals(12, p.size(), "control records are commands, not readings");
            assertEquals(0, p.get(10).step());
            assertEquals(0, p.get(11).step());
            List<String> ev = f.stateEvents.readValuesToList();
            assertEquals(2, ev.size());
            for (String s : ev) {
                JsonNode e = json(s);
                assertEquals(StateEvent.RESET, e.get("event").asText());
                assertEquals(StateEvent.CONTROL, e.get("reason").asText());
                assertEquals(5, e.get("steps").asLong());
            }
            var dead = f.deadLetters.readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals("bad-field", new String(dead.get(0).headers().lastHeader(DeadLetterHandler.H_REASON).value(),
                    StandardCharsets.UTF_8));
        }
    }

    @Test
    void stateFromACompatibleModelCarriesOnAndFromAnIncompatibleOneIsResetWithARecord() throws Exception {
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            for (int i = 0; i < 10; i++) {
                f.send("compatible", T0 + i * MIN5, value(i));
                f.send("incompatible", T0 + i * MIN5, value(i));
            }
            KeyValueStore<String, StreamState<ForecastState>> store = f.store();
            // As if written by an earlier release of a model with the same declared state layout ...
            StreamState<ForecastState> c = store.get("compatible");
            store.put("compatible", new StreamState<>(c.modelId(), "0.9.0", c.stateCompat(), c.steps(), c.lastEventTime(), c.hidden(),
                    c.payload()));
            // ... and by an LSTM (h and c: twice the state floats, another state_compat).
            StreamState<ForecastState> old = store.get("incompatible");
            StreamState<ForecastState> x = new StreamState<>("sensor-forecaster-lstm", old.modelVersion(), "lstm-h64-v1", old.steps(),
                    old.lastEventTime(), new float[2 * old.hidden().length], old.payload());
            store.put("incompatible", x);
            f.predictions.readValuesToList();
            f.send("compatible", T0 + 10 * MIN5, value(10));
            f.send("incompatible", T0 + 10 * MIN5, value(10));
            List<ForecastPrediction> p = f.predictions.readValuesToList();
            assertEquals(10, p.get(0).step(), "compatible state carries on");
            assertEquals(f.pd.manifest.version(), p.get(0).modelVersion(), "and now belongs to the current model");
            assertEquals(0, p.get(1).step(), "incompatible state is reset");
            List<String> ev = f.stateEvents.readValuesToList();
            assertEquals(1, ev.size());
            JsonNode e = json(ev.get(0));
            assertEquals("incompatible", e.get("stream").asText());
            assertEquals(StateEvent.MODEL_CHANGED, e.get("reason").asText());
            assertEquals("sensor-forecaster-lstm", e.get("model_id").asText());
            assertEquals(f.pd.manifest.id(), e.get("new_model_id").asText());
            assertEquals(10, e.get("steps").asLong());
        }
    }

    @Test
    void oneHundredThousandDistinctStreamsKeepTheStoreBoundedByTheIdleTtl() throws Exception {
        // 100,000 streams, one reading each, a new stream every second (28 hours in all); state expires
        // after an hour without a record and the scan runs every 10 minutes: at most about
        // 3,600 + 600 streams are ever alive, whatever the number of distinct ids.
        int n = 100_000;
        long ttl = HOUR;
        long scan = 10 * 60_000;
        try (TopologyFixture f = new TopologyFixture(config(new StatePolicy(0, GapAction.RESET, ttl, scan)), GRU)) {
            long maxAlive = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                f.send("sensor-" + i, T0 + i * 1000L, value(i));
                f.driver.advanceWallClockTime(Duration.ofSeconds(1)); // one new stream a second

                if (i % 5_000 == 4_999) {
                    long alive = count(f.store());
                    maxAlive = Math.max(maxAlive, alive);
                    f.predictions.readValuesToList(); // keep the test's own memory flat
                    f.stateEvents.readValuesToList();
                }
            }
            long alive = count(f.store());
            double seconds = (System.nanoTime() - t0) / 1e9;
            long bound = (ttl + scan) / 1000 + 1;
            System.out.printf("100,000 streams: at most %d alive (bound %d), %d at the end, %.0f expired, state dir %,d bytes, %.1f s%n",
                    maxAlive, bound, alive, f.metrics.stateExpiredCount(), dirBytes(f), seconds);
            assertTrue(maxAlive <= bound, "alive " + maxAlive + " > " + bound);
            assertTrue(maxAlive >= ttl / 1000, "streams within the TTL are kept");
            assertEquals(n - alive, (long) f.metrics.stateExpiredCount(), "every deleted stream was announced and counted");
        }
    }

    private static long count(KeyValueStore<String, StreamState<ForecastState>> store) {
        long c = 0;
        try (KeyValueIterator<String, StreamState<ForecastState>> it = store.all()) {
            while (it.hasNext()) {
                it.next();
                c++;
            }
        }
        return c;
    }

    private static long dirBytes(TopologyFixture f) throws Exception {
        try (var w = Files.walk(f.stateDir())) {
            return w.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}

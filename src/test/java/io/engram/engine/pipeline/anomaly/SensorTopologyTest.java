package io.engram.engine.pipeline.anomaly;

import io.engram.testkit.TopologyFixture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.runtime.Pipelines;
import io.engram.engine.config.PipelineSpec;
import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.testkit.Golden;
import io.engram.engine.state.StreamState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sensor topology in a TopologyTestDriver with the real models, store and dead-letter handler. */
class SensorTopologyTest {
    private static final String GRU = "models/sensor-forecaster/sensor-gru.yaml";

    @ParameterizedTest
    @ValueSource(strings = {"gru", "lstm"})
    void fiftyReadingsThroughTheProcessorStateEqualPyTorchOverTheWholeSequence(String cell) throws Exception {
        JsonNode seq = new Golden(Path.of("models/sensor-forecaster/golden/sensor-" + cell + ".json")).root.get("sequence");
        double[][] raw = Golden.rowsDouble(seq.get("raw"));
        double[][] expected = Golden.rowsDouble(seq.get("forecast_next"));
        long start = seq.get("start_ms").asLong();
        long interval = seq.get("interval_ms").asLong();
        try (TopologyFixture f = new TopologyFixture("models/sensor-forecaster/sensor-" + cell + ".yaml")) {
            for (int t = 0; t < raw.length; t++) {
                f.send("golden", start + t * interval, raw[t]);
            }
            List<ForecastPrediction> out = f.predictions.readValuesToList();
            assertEquals(raw.length, out.size());
            for (int t = 0; t < raw.length; t++) {
                ForecastPrediction p = out.get(t);
                assertEquals(t, p.step());
                for (int c = 0; c < expected[t].length; c++) {
                    double tol = 1e-4 * Math.max(1.0, Math.abs(expected[t][c]));
                    assertEquals(expected[t][c], p.nextForecast()[c], tol, "step " + t + " channel " + c);
                }
                if (t > 0) {
                    assertArrayEquals(out.get(t - 1).nextForecast(), p.forecast(), "forecast = previous step's next_forecast");
                }
            }
            StreamState s = f.store().get("golden");
            assertEquals(raw.length, s.steps());
            assertEquals("sensor-forecaster-" + cell, s.modelId());
        }
    }

    @Test
    void interleavedStreamsKeepSeparateStateAndMatchEachStreamRunAlone() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        double[] a = new double[120];
        double[] b = new double[120];
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.sin(i / 5.0) + 0.1 * r.nextGaussian();
            b[i] = 100 + 20 * Math.cos(i / 9.0) + r.nextGaussian();
        }
        List<ForecastPrediction> alone = new ArrayList<>();
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            for (int i = 0; i < a.length; i++) f.send("a", 1000L * i, a[i]);
            alone.addAll(f.predictions.readValuesToList());
        }
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            for (int i = 0; i < a.length; i++) {
                f.send("a", 1000L * i, a[i]);
                f.send("b", 1000L * i, b[i]);
            }
            List<ForecastPrediction> mixed = f.predictions.readValuesToList().stream().filter(p -> p.stream().equals("a")).toList();
            assertEquals(alone.size(), mixed.size());
            for (int i = 0; i < alone.size(); i++) {
                assertArrayEquals(alone.get(i).nextForecast(), mixed.get(i).nextForecast(), "step " + i);
                assertEquals(alone.get(i).score(), mixed.get(i).score(), "step " + i);
            }
            assertEquals(a.length, f.store().get("b").steps());
        }
    }

    @Test
    void aSpikeAfterWarmupIsOneAlertOnTheAnomaliesTopic() throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            for (int i = 0; i < 800; i++) {
                double v = 50 + 5 * Math.sin(2 * Math.PI * i / 48.0) + 0.3 * r.nextGaussian();
                if (i == 600) {
                    v += 40;
                }
                f.send("boiler", 300_000L * i, v);
            }
            List<TestRecord<String, ForecastPrediction>> alerts = f.anomalies.readRecordsToList();
            assertEquals(1, alerts.size(), "alerts at steps " + alerts.stream().map(a -> a.value().step()).toList());
            ForecastPrediction a = alerts.get(0).value();
            assertEquals(600, a.step());
            assertTrue(a.anomaly());
            assertEquals(300_000L * 600, alerts.get(0).timestamp(), "record timestamp is the event time");
            List<ForecastPrediction> all = f.predictions.readValuesToList();
            assertEquals(800, all.size());
            assertTrue(all.get(600).score() >= f.config.settings(AnomalyPipeline.INSTANCE).scoring().threshold());
            assertTrue(all.stream().limit(300).noneMatch(ForecastPrediction::anomaly), "no alerts in warm-up");
        }
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void everyKindOfBadInputIsDeadLetteredWithItsReasonAndGoodRecordsGoOn() throws Exception {
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            f.send("s", 1000, 1.0);
            f.sendRaw("s", "not json at all", 2000);
            f.send("s", 3000, 2.0);
            f.sendRaw("s", "{\"ts\": 4000}", 4000);
            f.sendRaw("s", "{\"ts\": 4500, \"values\": [1.0, NaN]}", 4500);
            f.sendRaw("s", "{\"ts\": 4600, \"value\": 1e400}", 4600);
            f.sendRaw("s", "{\"ts\": 5000, \"values\": [1.0, 2.0]}", 5000);
            f.sendRaw(null, "{\"ts\": 6000, \"value\": 1.0}", 6000);
            f.sendRaw("s", "{\"ts\": 6500, \"values\": [\"high\"]}", 6500);
            f.send("s", 500, 9.0); // older than the last stepped reading: dropped by default
            f.send("s", 7000, 3.0);

            List<ForecastPrediction> good = f.predictions.readValuesToList();
            assertEquals(List.of(0L, 1L, 2L), good.stream().map(ForecastPrediction::step).toList());
            assertArrayEquals(new double[] {3.0}, good.get(2).values());

            List<TestRecord<byte[], byte[]>> dead = f.deadLetters.readRecordsToList();
            List<String> reasons = dead.stream().map(d -> header(d, DeadLetterHandler.H_REASON)).toList();
            assertEquals(List.of(Reason.NOT_JSON.code(), Reason.MISSING_FIELD.code(), Reason.NOT_JSON.code(),
                    Reason.NON_FINITE_VALUE.code(), Reason.WRONG_VALUE_COUNT.code(), Reason.NULL_KEY.code(),
                    Reason.BAD_FIELD.code(), Reason.OUT_OF_ORDER.code()), reasons);
            TestRecord<byte[], byte[]> first = dead.get(0);
            assertEquals("not json at all", new String(first.value(), StandardCharsets.UTF_8), "original bytes kept");
            assertEquals("s", new String(first.key(), StandardCharsets.UTF_8));
            assertEquals("sensor-readings", header(first, DeadLetterHandler.H_TOPIC));
            assertNotNull(header(first, DeadLetterHandler.H_MESSAGE));
            assertNull(dead.get(5).key(), "null key stays null");
            assertTrue(header(dead.get(4), DeadLetterHandler.H_MESSAGE).contains("2 values"), header(dead.get(4), DeadLetterHandler.H_MESSAGE));
            assertEquals(2.0, f.metrics.deadLetterCount(Reason.NOT_JSON));
            assertEquals(1.0, f.metrics.deadLetterCount(Reason.OUT_OF_ORDER));
            assertEquals(3.0, f.metrics.processedCount());
            assertEquals(3, f.store().get("s").steps(), "bad records never touch the state");
        }
    }

    @Test
    void outOfOrderPolicyProcessStepsLateRecordsInArrivalOrder() throws Exception {
        PipelineSpec cfg = Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).withOutOfOrder(io.engram.engine.config.OutOfOrder.PROCESS);
        try (TopologyFixture f = new TopologyFixture(cfg, GRU)) {
            f.send("s", 5000, 1.0);
            f.send("s", 1000, 2.0);
            assertEquals(2, f.predictions.readValuesToList().size());
            assertTrue(f.deadLetters.isEmpty());
            assertEquals(5000, f.store().get("s").lastEventTime(), "event time never goes back");
        }
    }

    @Test
    void predictionsCarryTheModelIdAndVersion() throws Exception {
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            f.send("s", 1, 1.0);
            ForecastPrediction p = f.predictions.readValue();
            assertEquals("sensor-forecaster-gru", p.modelId());
            assertEquals(f.pd.manifest.version(), p.modelVersion());
            assertNull(p.forecast(), "no forecast before the first reading");
            assertFalse(p.anomaly());
        }
    }
}

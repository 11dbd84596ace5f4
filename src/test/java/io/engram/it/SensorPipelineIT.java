package io.engram.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.runtime.PipelineRunner;
import io.engram.embedded.EmbeddedKafka;
import io.engram.core.DeadLetterHandler;
import io.engram.monitoring.MetricsServer;
import io.engram.core.JsonSerde;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import io.engram.pipeline.forecast.SensorPrediction;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sensor pipeline on a real in-process KRaft broker, with exactly-once processing and RocksDB state. */
class SensorPipelineIT {
    static EmbeddedKafka kafka;
    static final JsonSerde<SensorPrediction> SERDE = new JsonSerde<>(SensorPrediction.class);

    @TempDir
    Path stateDir;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    private static PipelineSpec config(String suffix) {
        PipelineSpec c = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        var t = c.topics();
        return c.withApplicationId("it-" + suffix).withTopics(t.withSuffix("-" + suffix).withPartitions(2));
    }

    private static String scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    @Test
    void readingsBecomePredictionsAlertsAndDeadLettersExactlyOnceWithMetrics() throws Exception {
        PipelineSpec cfg = config("e2e");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        String bootstrap = kafka.bootstrapServers();
        try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry, true);
                MetricsServer http = new MetricsServer(registry, "localhost", 0);
                KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(bootstrap)) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(60)), "pipeline running");
            String in = cfg.topics().name("input");
            SplittableRandom r = new SplittableRandom(5);
            int steps = 700;
            for (int i = 0; i < steps; i++) {
                for (int s = 0; s < 3; s++) {
                    double v = 10 * s + 5 + Math.sin(2 * Math.PI * i / 60.0) + 0.05 * r.nextGaussian();
                    if (s == 1 && i == 500) {
                        v += 15;
                    }
                    producer.send(KafkaTestClient.reading(in, "sensor-" + s, 60_000L * i, v));
                }
                if (i == 100) {
                    producer.send(new ProducerRecord<>(in, "sensor-0".getBytes(StandardCharsets.UTF_8), "{oops".getBytes(StandardCharsets.UTF_8)));
                }
            }
            producer.flush();

            List<ConsumerRecord<byte[], byte[]>> preds = KafkaTestClient.readCommitted(bootstrap, cfg.topics().name("predictions"), 3 * steps, Duration.ofSeconds(120));
            assertEquals(3 * steps, preds.size(), "one prediction per good reading");
            for (int s = 0; s < 3; s++) {
                String key = "sensor-" + s;
                List<Long> order = preds.stream().filter(p -> new String(p.key(), StandardCharsets.UTF_8).equals(key))
                        .map(p -> SERDE.deserialize("t", p.value()).step()).toList();
                for (int i = 0; i < steps; i++) {
                    assertEquals(i, order.get(i), key + ": steps in order, no gaps or duplicates");
                }
            }
            List<ConsumerRecord<byte[], byte[]>> alerts = KafkaTestClient.readCommitted(bootstrap, cfg.topics().name("anomalies"), 1, Duration.ofSeconds(30));
            assertTrue(alerts.stream().map(a -> SERDE.deserialize("t", a.value()))
                    .anyMatch(a -> a.stream().equals("sensor-1") && a.step() == 500), "the injected spike alerts");
            List<ConsumerRecord<byte[], byte[]>> dead = KafkaTestClient.readCommitted(bootstrap, cfg.topics().deadLetter(), 1, Duration.ofSeconds(30));
            assertEquals(1, dead.size());
            assertEquals("not-json", new String(dead.get(0).headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8));
            assertEquals("{oops", new String(dead.get(0).value(), StandardCharsets.UTF_8));

            String metrics = scrape(http.port());
            assertTrue(metrics.contains("engram_records_processed_total{pipeline=\"sensor-anomaly\"} 2100.0"), metrics);
            assertTrue(metrics.contains("engram_dead_letters_total{pipeline=\"sensor-anomaly\",reason=\"not-json\"} 1.0"), metrics);
            assertTrue(metrics.contains("engram_model_step_seconds_count{pipeline=\"sensor-anomaly\"} 2100"), metrics);
            assertTrue(metrics.contains("kafka_stream"), "Kafka Streams' own metrics are bound");
        }
    }

    @Test
    void aRestartedPipelineContinuesEachStreamFromItsStoredState() throws Exception {
        PipelineSpec cfg = config("restart");
        String bootstrap = kafka.bootstrapServers();
        String in = cfg.topics().name("input");
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(bootstrap)) {
            try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry(), true)) {
                assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 0; i < 50; i++) producer.send(KafkaTestClient.reading(in, "k", 1000L * i, i % 7));
                producer.flush();
                assertEquals(50, KafkaTestClient.readCommitted(bootstrap, cfg.topics().name("predictions"), 50, Duration.ofSeconds(60)).size());
            }
            try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry(), true)) {
                assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 50; i < 60; i++) producer.send(KafkaTestClient.reading(in, "k", 1000L * i, i % 7));
                producer.flush();
                List<ConsumerRecord<byte[], byte[]>> all = KafkaTestClient.readCommitted(bootstrap, cfg.topics().name("predictions"), 60, Duration.ofSeconds(60));
                assertEquals(60, all.size());
                assertEquals(59, SERDE.deserialize("t", all.get(59).value()).step(), "state carried across the restart");
            }
        }
    }

    @Test
    void aNewModelVersionIsPickedUpOnRestartCompatibleStateCarriesOnIncompatibleStateIsResetWithARecord() throws Exception {
        PipelineSpec base = config("upgrade");
        String bootstrap = kafka.bootstrapServers();
        String in = base.topics().name("input");
        // 1.1.0 of the GRU: the same ONNX file and state layout (state_compat), a new version.
        Path gru = Path.of("models/sensor-forecaster/sensor-gru.yaml").toAbsolutePath();
        Path upgraded = stateDir.resolveSibling(stateDir.getFileName() + "-gru-1.1.0.yaml");
        java.nio.file.Files.writeString(upgraded, java.nio.file.Files.readString(gru)
                .replace("version: \"1.0.0\"", "version: \"1.1.0\"")
                .replace("file: sensor-gru.onnx", "file: " + gru.resolveSibling("sensor-gru.onnx")));
        Path lstm = Path.of("models/sensor-forecaster/sensor-lstm.yaml").toAbsolutePath();
        int n = 0;
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(bootstrap)) {
            for (Path manifest : List.of(gru, upgraded, lstm)) {
                try (PipelineRunner runner = PipelineRunner.start(base.withModelManifest(manifest), bootstrap, stateDir, registry(), true)) {
                    assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
                    for (int i = n; i < n + 20; i++) {
                        producer.send(KafkaTestClient.reading(in, "a", 1000L * i, i % 5));
                        producer.send(KafkaTestClient.reading(in, "b", 1000L * i, i % 3));
                    }
                    producer.flush();
                    n += 20;
                    assertEquals(2 * n, KafkaTestClient.readCommitted(bootstrap, base.topics().name("predictions"), 2 * n, Duration.ofSeconds(60)).size());
                }
            }
        }
        List<ConsumerRecord<byte[], byte[]>> all = KafkaTestClient.readCommitted(bootstrap, base.topics().name("predictions"), 120, Duration.ofSeconds(30));
        java.util.Map<String, List<SensorPrediction>> byKey = new java.util.TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all) {
            byKey.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new java.util.ArrayList<>()).add(SERDE.deserialize("t", r.value()));
        }
        for (List<SensorPrediction> p : byKey.values()) {
            assertEquals(60, p.size());
            assertEquals(20, p.get(20).step(), "1.1.0 carries on the 1.0.0 state: same state_compat");
            assertEquals("1.1.0", p.get(20).modelVersion());
            assertEquals(39, p.get(39).step());
            assertEquals(0, p.get(40).step(), "the LSTM cannot use the GRU's state: the stream starts afresh");
            assertEquals("sensor-forecaster-lstm", p.get(40).modelId());
        }
        List<ConsumerRecord<byte[], byte[]>> events = KafkaTestClient.readCommitted(bootstrap, base.topics().stateEvents(), 2, Duration.ofSeconds(30));
        assertEquals(2, events.size(), "one reset record per stream, for the incompatible model only");
        for (ConsumerRecord<byte[], byte[]> e : events) {
            String json = new String(e.value(), StandardCharsets.UTF_8);
            assertTrue(json.contains("\"reason\":\"model-changed\"") && json.contains("\"model_version\":\"1.1.0\"")
                    && json.contains("\"new_model_id\":\"sensor-forecaster-lstm\"") && json.contains("\"steps\":40"), json);
        }
    }

    private static io.micrometer.core.instrument.MeterRegistry registry() {
        return new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    }
}

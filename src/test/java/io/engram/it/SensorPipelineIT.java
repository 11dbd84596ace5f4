package io.engram.it;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.testkit.KafkaTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.monitoring.MetricsServer;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The sensor pipeline on a real in-process KRaft broker, with exactly-once processing and RocksDB state. */
class SensorPipelineIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();
    static final JsonSerde<ForecastPrediction> SERDE = new JsonSerde<>(ForecastPrediction.class);

    @TempDir
    Path stateDir;

    /**
     * Every committed record of the topic of {@code role}: at least {@code atLeast}, and read on past
     * them once the pipeline has committed all of its input and no transaction is open, so that an
     * exact count sees duplicates.
     */
    private static List<ConsumerRecord<byte[], byte[]>> read(PipelineSpec cfg, TopicRole role, int atLeast) {
        return read(cfg, Map.of(role, atLeast)).get(role);
    }

    /** As {@link #read(PipelineSpec, TopicRole, int)} for several roles at once: by role. */
    private static Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> read(PipelineSpec cfg, Map<TopicRole, Integer> atLeast) {
        Map<String, Integer> byTopic = new LinkedHashMap<>();
        atLeast.forEach((role, n) -> byTopic.put(cfg.topics().name(role), n));
        Map<String, List<ConsumerRecord<byte[], byte[]>>> byTopicRead = TopicReader.readCommitted(kafka.bootstrap(), byTopic,
                Duration.ofSeconds(120), TopicReader.Settle.outputs(cfg.topics().except(AnomalyPipeline.INPUT))
                        .consumedBy(cfg.applicationId(), List.of(cfg.topics().name(AnomalyPipeline.INPUT))));
        Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> byRole = new HashMap<>();
        atLeast.keySet().forEach(role -> byRole.put(role, byTopicRead.get(cfg.topics().name(role))));
        return byRole;
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
        String bootstrap = kafka.bootstrap();
        try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry);
                MetricsServer http = new MetricsServer(registry, "localhost", 0);
                KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(bootstrap)) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(60)), "pipeline running");
            String in = cfg.topics().name(AnomalyPipeline.INPUT);
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

            Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> out = read(cfg, Map.of(ForecastHead.PREDICTIONS, 3 * steps, ForecastHead.ANOMALIES, 1,
                    TopicRole.DEAD_LETTER, 1));
            List<ConsumerRecord<byte[], byte[]>> preds = out.get(ForecastHead.PREDICTIONS);
            assertEquals(3 * steps, preds.size(), "one prediction per good reading, none twice");
            for (int s = 0; s < 3; s++) {
                String key = "sensor-" + s;
                List<Long> order = preds.stream().filter(p -> new String(p.key(), StandardCharsets.UTF_8).equals(key))
                        .map(p -> SERDE.deserialize("t", p.value()).step()).toList();
                assertEquals(steps, order.size(), key + ": one prediction per reading");
                for (int i = 0; i < steps; i++) {
                    assertEquals(i, order.get(i), key + ": steps in order, no gaps or duplicates");
                }
            }
            List<ConsumerRecord<byte[], byte[]>> alerts = out.get(ForecastHead.ANOMALIES);
            assertTrue(alerts.stream().map(a -> SERDE.deserialize("t", a.value()))
                    .anyMatch(a -> a.stream().equals("sensor-1") && a.step() == 500), "the injected spike alerts");
            List<ConsumerRecord<byte[], byte[]>> dead = out.get(TopicRole.DEAD_LETTER);
            assertEquals(1, dead.size(), "one dead letter, not two");
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
        String bootstrap = kafka.bootstrap();
        String in = cfg.topics().name(AnomalyPipeline.INPUT);
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(bootstrap)) {
            try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry())) {
                assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 0; i < 50; i++) producer.send(KafkaTestClient.reading(in, "k", 1000L * i, i % 7));
                producer.flush();
                assertEquals(50, read(cfg, ForecastHead.PREDICTIONS, 50).size());
            }
            try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry())) {
                assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
                for (int i = 50; i < 60; i++) producer.send(KafkaTestClient.reading(in, "k", 1000L * i, i % 7));
                producer.flush();
                List<ConsumerRecord<byte[], byte[]>> all = read(cfg, ForecastHead.PREDICTIONS, 60);
                assertEquals(60, all.size(), "no reading predicted twice across the restart");
                assertEquals(59, SERDE.deserialize("t", all.get(59).value()).step(), "state carried across the restart");
            }
        }
    }

    private static final String UPGRADED = "99.0.0-test";

    @Test
    void aNewModelVersionIsPickedUpOnRestartCompatibleStateCarriesOnIncompatibleStateIsResetWithARecord() throws Exception {
        PipelineSpec base = config("upgrade");
        String bootstrap = kafka.bootstrap();
        String in = base.topics().name(AnomalyPipeline.INPUT);
        // A new version of the GRU ("upgraded"): the same ONNX file and state layout (state_compat).
        Path gru = Path.of("models/sensor-forecaster/sensor-gru.yaml").toAbsolutePath();
        Path upgraded = stateDir.resolveSibling(stateDir.getFileName() + "-gru-upgraded.yaml");
        java.nio.file.Files.writeString(upgraded, java.nio.file.Files.readString(gru)
                .replaceFirst("version: \"[^\"]*\"", "version: \"" + UPGRADED + "\"")
                .replace("file: sensor-gru.onnx", "file: " + gru.resolveSibling("sensor-gru.onnx")));
        Path lstm = Path.of("models/sensor-forecaster/sensor-lstm.yaml").toAbsolutePath();
        int n = 0;
        try (KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(bootstrap)) {
            for (Path manifest : List.of(gru, upgraded, lstm)) {
                try (PipelineRunner runner = PipelineRunner.start(base.withModelManifest(manifest), bootstrap, stateDir, registry())) {
                    assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
                    for (int i = n; i < n + 20; i++) {
                        producer.send(KafkaTestClient.reading(in, "a", 1000L * i, i % 5));
                        producer.send(KafkaTestClient.reading(in, "b", 1000L * i, i % 3));
                    }
                    producer.flush();
                    n += 20;
                    assertEquals(2 * n, read(base, ForecastHead.PREDICTIONS, 2 * n).size());
                }
            }
        }
        Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> out = read(base, Map.of(ForecastHead.PREDICTIONS, 120, TopicRole.STATE_EVENTS, 2));
        List<ConsumerRecord<byte[], byte[]>> all = out.get(ForecastHead.PREDICTIONS);
        assertEquals(120, all.size(), "one prediction per reading, none twice");
        java.util.Map<String, List<ForecastPrediction>> byKey = new java.util.TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all) {
            byKey.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new java.util.ArrayList<>()).add(SERDE.deserialize("t", r.value()));
        }
        for (List<ForecastPrediction> p : byKey.values()) {
            assertEquals(60, p.size());
            assertEquals(20, p.get(20).step(), "the upgraded version carries on the shipped one's state: same state_compat");
            assertEquals(UPGRADED, p.get(20).modelVersion());
            assertEquals(39, p.get(39).step());
            assertEquals(0, p.get(40).step(), "the LSTM cannot use the GRU's state: the stream starts afresh");
            assertEquals("sensor-forecaster-lstm", p.get(40).modelId());
        }
        List<ConsumerRecord<byte[], byte[]>> events = out.get(TopicRole.STATE_EVENTS);
        assertEquals(2, events.size(), "one reset record per stream, for the incompatible model only");
        for (ConsumerRecord<byte[], byte[]> e : events) {
            String json = new String(e.value(), StandardCharsets.UTF_8);
            assertTrue(json.contains("\"reason\":\"model-changed\"") && json.contains("\"model_version\":\"" + UPGRADED + "\"")
                    && json.contains("\"new_model_id\":\"sensor-forecaster-lstm\"") && json.contains("\"steps\":40"), json);
        }
    }

    private static io.micrometer.core.instrument.MeterRegistry registry() {
        return new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    }
}

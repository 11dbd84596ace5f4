package io.engram.it;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.monitoring.MetricsServer;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.runtime.StateQueries;
import io.engram.tools.kafka.KafkaClients;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /streams/{id}} with two instances of the sensor pipeline on a real broker: each
 * instance is asked for every stream, those the other owns included, and both give the owner's
 * answer (the steps taken, the last event time, the model); an unknown id is a 404 with a JSON body.
 */
class StateQueriesIT {
    static final int STREAMS = 12;
    /** Ids beyond sq-N: one with a '/' (asked as %2F) and one as long as the input keys' limit (4096 bytes of UTF-8). */
    static final List<String> ODD_IDS = List.of("site/pump-7", "é".repeat(2048));
    static final int READINGS = 20;
    static final long T0 = 1_700_000_000_000L;
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    Path dir;

    final HttpClient http = HttpClient.newHttpClient();

    /** One instance: its HTTP port (/metrics, /streams) and its pipeline, as engram run wires them. */
    record Instance(MetricsServer http, PipelineRunner runner) implements AutoCloseable {
        static Instance start(PipelineSpec spec, String bootstrap, Path stateDir) throws Exception {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            MetricsServer http = new MetricsServer(registry, "127.0.0.1", 0);
            HostInfo self = new HostInfo("127.0.0.1", http.port());
            PipelineRunner runner = PipelineRunner.start(spec, bootstrap, stateDir, registry,
                    PipelineRunner.StartOptions.DEFAULTS.withStreamsOverrides(Map.of("application.server", self.host() + ":" + self.port())));
            http.route("/streams/", new StateQueries(List.of(runner), self)::get);
            return new Instance(http, runner);
        }

        String address() {
            return "127.0.0.1:" + http.port();
        }

        @Override
        public void close() {
            runner.close();
            http.close();
        }
    }

    HttpResponse<String> get(Instance i, String id) throws Exception {
        String encoded = java.net.URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
        return http.send(HttpRequest.newBuilder(URI.create("http://" + i.address() + "/streams/" + encoded)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void eachInstanceAnswersForKeysTheOtherOwnsAndAnUnknownIdIs404() throws Exception {
        PipelineSpec spec = Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).withApplicationId("state-queries-it")
                .withTopics(Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).topics().withSuffix("-sq"));
        try (Instance a = Instance.start(spec, kafka.bootstrap(), dir.resolve("a"));
                Instance b = Instance.start(spec, kafka.bootstrap(), dir.resolve("b"))) {
            assertTrue(a.runner().awaitRunning(Duration.ofMinutes(2)) && b.runner().awaitRunning(Duration.ofMinutes(2)));
            try (KafkaProducer<byte[], byte[]> p = KafkaClients.producer(kafka.bootstrap())) {
                for (int i = 0; i < READINGS; i++) {
                    for (int s = 0; s < STREAMS; s++) {
                        long ts = T0 + 60_000L * i;
                        p.send(new ProducerRecord<>(spec.topics().name(AnomalyPipeline.INPUT), null, ts, bytes("sq-" + s),
                                bytes(String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.3f]}", ts, 10 + Math.sin(i + s)))));
                    }
                    for (String id : ODD_IDS) {
                        long ts = T0 + 60_000L * i;
                        p.send(new ProducerRecord<>(spec.topics().name(AnomalyPipeline.INPUT), null, ts, bytes(id),
                                bytes(String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.3f]}", ts, 10 + Math.cos(i)))));
                    }
                }
            }
            int n = (STREAMS + ODD_IDS.size()) * READINGS;
            assertEquals(n, TopicReader.awaitAtLeast(kafka.bootstrap(), spec.topics().name(ForecastHead.PREDICTIONS), n, Duration.ofMinutes(2)));
            awaitBothHaveTasks(a, b);

            Set<String> owners = new HashSet<>();
            List<String> forwarded = new ArrayList<>();
            for (int s = 0; s < STREAMS; s++) {
                String id = "sq-" + s;
                JsonNode fromA = answer(a, id);
                JsonNode fromB = answer(b, id);
                assertEquals(fromA, fromB, id + ": both instances give the owner's answer");
                assertEquals(READINGS, fromA.get("steps").asLong(), id + " steps");
                assertEquals(java.time.Instant.ofEpochMilli(T0 + 60_000L * (READINGS - 1)).toString(), fromA.get("last_event_time").asText());
                assertEquals("sensor-forecaster-gru", fromA.get("model_id").asText());
                assertEquals("sensor-anomaly", fromA.get("pipeline").asText());
                assertTrue(fromA.get("forecast").isArray() && fromA.has("score"), fromA.toString());
                String owner = fromA.get("served_by").asText();
                owners.add(owner);
                forwarded.add(owner.equals(a.address()) ? "b->a" : "a->b");
            }
            for (String id : ODD_IDS) {
                JsonNode fromA = answer(a, id);
                assertEquals(fromA, answer(b, id), "both instances give the owner's answer (one forwards it) for an id of "
                        + id.getBytes(StandardCharsets.UTF_8).length + " bytes");
                assertEquals(id, fromA.get("id").asText());
                assertEquals(READINGS, fromA.get("steps").asLong(), id + " steps");
            }
            assertEquals(Set.of(a.address(), b.address()), owners, "each instance owns some streams");
            assertTrue(forwarded.contains("a->b") && forwarded.contains("b->a"), "each was asked for keys the other owns: " + forwarded);

            for (Instance i : List.of(a, b)) {
                HttpResponse<String> unknown = get(i, "no-such-stream");
                assertEquals(404, unknown.statusCode(), unknown.body());
                JsonNode body = JSON.readTree(unknown.body());
                assertEquals("no-such-stream", body.get("id").asText());
                assertTrue(body.get("error").asText().contains("no stream or camera"), unknown.body());
            }
        }
    }

    JsonNode answer(Instance i, String id) throws Exception {
        HttpResponse<String> r = get(i, id);
        assertEquals(200, r.statusCode(), id + " from " + i.address() + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** After the first rebalance both instances have active tasks (the first to start briefly has them all). */
    static void awaitBothHaveTasks(Instance a, Instance b) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            if (tasks(a) > 0 && tasks(b) > 0
                    && a.runner().streams().state() == org.apache.kafka.streams.KafkaStreams.State.RUNNING
                    && b.runner().streams().state() == org.apache.kafka.streams.KafkaStreams.State.RUNNING) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("both instances have active tasks: " + tasks(a) + ", " + tasks(b));
    }

    static int tasks(Instance i) {
        return i.runner().streams().metadataForLocalThreads().stream().mapToInt(m -> m.activeTasks().size()).sum();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

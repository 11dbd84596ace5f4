package io.engram.engine.monitoring;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.testkit.KafkaTestClient;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.TopicReader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's package; .ci/run installs it) scrapes a running pipeline's
 * /metrics and loads the shipped alert rules: the metric names, labels and values that the
 * dashboards and rules use are what Prometheus actually stores.
 */
class PrometheusScrapeIT {
    @TempDir
    Path tmp;

    private static final ObjectMapper JSON = new ObjectMapper();

    static String prometheusBinary() {
        String env = System.getenv("PROMETHEUS");
        if (env != null && new File(env).canExecute()) {
            return env;
        }
        for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
            File f = new File(dir, "prometheus");
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        throw new AssertionError("Prometheus is not installed: run `apt-get install prometheus` (as .ci/run does) or set PROMETHEUS");
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static JsonNode api(int port, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private static double query(int port, String promql) throws Exception {
        JsonNode result = api(port, "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).path("data").path("result");
        return result.isEmpty() ? Double.NaN : result.get(0).path("value").get(1).asDouble();
    }

    @Test
    void prometheusScrapesTheCountersAndLoadsTheShippedAlertRules() throws Exception {
        String binary = prometheusBinary();
        PipelineSpec base = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        PipelineSpec cfg = base.withApplicationId("it-prometheus").withTopics(base.topics().withSuffix("-prom").withPartitions(1));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        JvmMeters.bindTo(registry);
        Process prometheus = null;
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
                PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrapServers(), tmp.resolve("state"), registry);
                MetricsServer http = new MetricsServer(registry, "127.0.0.1", 0);
                KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(kafka.bootstrapServers())) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
            for (int i = 0; i < 120; i++) {
                producer.send(KafkaTestClient.reading(cfg.topics().name(AnomalyPipeline.INPUT), "p", 1000L * i, Math.sin(i / 7.0)));
            }
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(cfg.topics().name(AnomalyPipeline.INPUT),
                    "p".getBytes(StandardCharsets.UTF_8), "garbage".getBytes(StandardCharsets.UTF_8)));
            producer.flush();

            // Picked only now, with the broker and the metrics server already bound: a port picked and released
            // earlier could be handed to one of them, and Prometheus would then fail to listen.
            int promPort = freePort();
            Path config = tmp.resolve("prometheus.yml");
            Files.writeString(config, "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    + "rule_files: ['" + Path.of("monitoring/alerts.yml").toAbsolutePath() + "']\n"
                    + "scrape_configs:\n  - job_name: engram\n    static_configs: [{targets: ['127.0.0.1:" + http.port() + "']}]\n");
            prometheus = new ProcessBuilder(binary, "--config.file=" + config, "--storage.tsdb.path=" + tmp.resolve("tsdb"),
                    "--web.listen-address=127.0.0.1:" + promPort)
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile()).start();

            double processed = Double.NaN;
            double dead = Double.NaN;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline && !(processed == 120 && dead == 1)) {
                Thread.sleep(500);
                assertTrue(prometheus.isAlive(), () -> "Prometheus exited: " + read(tmp.resolve("prometheus.log")));
                try {
                    processed = query(promPort, "engram_records_processed_total{pipeline=\"sensor-anomaly\"}");
                    dead = query(promPort, "engram_dead_letters_total{pipeline=\"sensor-anomaly\",reason=\"not-json\"}");
                } catch (java.io.IOException notUpYet) {
                    // Prometheus is still starting
                }
            }
            assertEquals(120.0, processed, "records processed, as stored by Prometheus");
            assertEquals(1.0, dead, "dead letters by reason, as stored by Prometheus");
            // Read on past 120 and 1: the topics once the pipeline has consumed all its input and no
            // transaction is open, and the counters over further scrapes (a second count would show).
            var settle = TopicReader.Settle.outputs(cfg.topics().except(AnomalyPipeline.INPUT)).consumedBy(cfg.applicationId(),
                    java.util.List.of(cfg.topics().name(AnomalyPipeline.INPUT)));
            assertEquals(120, TopicReader.readCommitted(kafka.bootstrapServers(), cfg.topics().name(ForecastHead.PREDICTIONS), 120,
                    Duration.ofSeconds(60), settle).size(), "one prediction per reading, none twice");
            assertEquals(1, TopicReader.readCommitted(kafka.bootstrapServers(), cfg.topics().deadLetter(), 1, Duration.ofSeconds(60), settle)
                    .size(), "one dead letter");
            long quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3); // three scrape intervals
            while (System.nanoTime() < quietUntil) {
                Thread.sleep(500);
                assertEquals(120.0, query(promPort, "engram_records_processed_total{pipeline=\"sensor-anomaly\"}"),
                        "records processed stays at 120");
                assertEquals(1.0, query(promPort, "engram_dead_letters_total{pipeline=\"sensor-anomaly\",reason=\"not-json\"}"),
                        "dead letters stay at 1");
            }
            assertTrue(query(promPort, "engram_model_step_seconds_count") >= 120);

            JsonNode groups = api(promPort, "/api/v1/rules").path("data").path("groups");
            java.util.List<String> names = new java.util.ArrayList<>();
            java.util.List<String> ruleExprs = new java.util.ArrayList<>();
            groups.forEach(g -> g.path("rules").forEach(r -> {
                names.add(r.path("name").asText());
                assertEquals("ok", r.path("health").asText(), r.toString());
                // A recording rule as it is; an alert without its thresholds: the series it compares must exist.
                String expr = r.path("query").asText();
                ruleExprs.add(r.path("type").asText().equals("alerting") ? withoutThresholds(expr) : expr);
            }));
            assertTrue(names.containsAll(java.util.List.of("EngramTargetDown", "EngramNotRunning", "EngramStalled", "EngramLagGrowing",
                    "EngramDeadLetters", "EngramProcessingErrors", "EngramAnomalyStorm", "EngramSlowModelStep", "EngramPersonFell", "engram:lag:max")), names.toString());

            // Every dashboard panel's query and every rule's expression returns data from the running pipeline.
            java.util.Map<String, String> queries = new java.util.LinkedHashMap<>();
            int[] panels = {0};
            try (var files = Files.list(Path.of("monitoring/grafana/dashboards"))) {
                for (Path f : files.filter(x -> x.toString().endsWith(".json")).sorted().toList()) {
                    JSON.readTree(f.toFile()).path("panels").forEach(panel -> panel.path("targets").forEach(t -> panels[0]++));
                    JSON.readTree(f.toFile()).path("panels").forEach(panel -> panel.path("targets").forEach(t -> queries.put(
                            t.path("expr").asText().replace("$pipeline", ".+").replace("$__rate_interval", "1m"),
                            f.getFileName() + ": " + panel.path("title").asText())));
                }
            }
            assertTrue(panels[0] >= 30 && queries.size() >= 19, "dashboard queries: " + panels[0] + ", distinct " + queries.size());
            ruleExprs.forEach(e -> queries.put(e, "rule"));
            java.util.List<String> empty = new java.util.ArrayList<>(queries.keySet());
            long queryDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!empty.isEmpty() && System.nanoTime() < queryDeadline) {
                java.util.List<String> still = new java.util.ArrayList<>();
                for (String q : empty) {
                    JsonNode r = api(promPort, "/api/v1/query?query=" + URLEncoder.encode(q, StandardCharsets.UTF_8));
                    assertEquals("success", r.path("status").asText(), q + ": " + r);
                    if (r.path("data").path("result").isEmpty()) {
                        still.add(q);
                    }
                }
                empty = still;
                if (!empty.isEmpty()) {
                    Thread.sleep(500); // Prometheus scrapes and evaluates every second
                }
            }
            java.util.List<String> named = empty.stream().map(q -> queries.get(q) + ": " + q).toList();
            assertEquals(java.util.List.of(), named, "queries that return no series");
        } finally {
            if (prometheus != null) {
                prometheus.destroy();
                if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                    prometheus.destroyForcibly();
                }
            }
        }
    }

    /** An alert's expression without its comparisons with a number ({@code a > 0.005} -> {@code a}). */
    static String withoutThresholds(String expr) {
        return expr.replaceAll("\\s*(==|!=|>=|<=|>|<)\\s*-?[0-9.]+(e-?[0-9]+)?", "");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(no log)";
        }
    }
}

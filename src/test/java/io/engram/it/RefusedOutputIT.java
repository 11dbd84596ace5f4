package io.engram.it;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.testkit.KafkaTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.TopicAdmin;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.EngramProcess;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs the broker refuses while {@code engram run} runs, on a real broker (issue 13). Under
 * exactly-once a refused output fails its transaction, so it cannot be dead-lettered there: the
 * pipeline stops, and {@code run} exits with status 1 and one line naming the cause, within the
 * producer's timeouts (shortened here), never hanging or going on silently. Documented in
 * docs/operating-state.md, "When the pipeline stops".
 */
class RefusedOutputIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();
    /** Producer timeouts short enough for a test: the defaults are 1 min (metadata) and 2 min (delivery). */
    static final Map<String, String> SHORT = Map.of("producer.max.block.ms", "5000", "producer.request.timeout.ms", "5000",
            "producer.delivery.timeout.ms", "10000");

    @TempDir
    Path dir;

    /** The shipped sensor pipeline with topics suffixed by {@code suffix}, as a file {@code engram run} reads. */
    PipelineSpec pipeline(String suffix, Path file) throws Exception {
        Path shipped = Path.of("topology/sensor-anomaly.yaml");
        PipelineSpec base = Pipelines.load(shipped);
        String text = Files.readString(shipped).replace("../models/", Path.of("models").toAbsolutePath() + "/")
                .replace("application_id: engram-sensor-anomaly", "application_id: refused-" + suffix)
                .replace("  partitions: 4", "  partitions: 1");
        for (String topic : base.topics().all()) {
            text = text.replace(": " + topic + " ", ": " + topic + "-" + suffix + " ");
        }
        Files.writeString(file, text);
        PipelineSpec cfg = Pipelines.load(file);
        assertEquals(base.topics().name(ForecastHead.PREDICTIONS) + "-" + suffix, cfg.topics().name(ForecastHead.PREDICTIONS));
        return cfg;
    }

    static void send(PipelineSpec cfg, long t0, int n) {
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClient.producer(kafka.bootstrap())) {
            for (int i = 0; i < n; i++) {
                p.send(KafkaTestClient.reading(cfg.topics().name(AnomalyPipeline.INPUT), "k", t0 + 1000L * i, 20 + i));
            }
            p.flush();
        }
    }

    /** The last line {@code run} printed about its pipeline, after checking status 1. */
    static String stoppedLine(EngramProcess run) throws InterruptedException {
        assertEquals(1, run.awaitExit(Duration.ofSeconds(90)), "status 1, for the supervisor:\n" + run.tail(40));
        List<String> lines = run.log().lines().filter(l -> l.startsWith("engram: pipeline")).toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.contains(" stopped: ") && last.contains("Fix the cause"), last);
        System.out.println(last);
        return last;
    }

    @Test
    void anOutputTopicDeletedWhileRunningStopsRunWithStatus1AndOneLineNamingIt() throws Exception {
        PipelineSpec cfg = pipeline("gone", dir.resolve("gone.yaml"));
        try (EngramProcess run = EngramProcess.start("run", dir.resolve("gone.yaml"), kafka.bootstrap(), dir.resolve("state"),
                dir.resolve("gone.log"), SHORT)) {
            run.awaitRunning(Duration.ofSeconds(90));
            send(cfg, 1_000_000, 3);
            TopicReader.readCommitted(kafka.bootstrap(), cfg.topics().name(ForecastHead.PREDICTIONS), 3, Duration.ofSeconds(60));
            TopicAdmin.deleteTopics(kafka.bootstrap(), Map.of(), List.of(cfg.topics().name(ForecastHead.PREDICTIONS)));
            send(cfg, 2_000_000, 3);
            String line = stoppedLine(run);
            assertTrue(line.contains(cfg.topics().name(ForecastHead.PREDICTIONS)), "names the topic: " + line);
        }
    }

    @Test
    void anOutputTooLargeForItsTopicStopsRunWithStatus1AndOneLine() throws Exception {
        PipelineSpec cfg = pipeline("large", dir.resolve("large.yaml"));
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        try (Admin admin = Admin.create(p)) {
            // A prediction record is a few hundred bytes: this topic takes none of them.
            admin.createTopics(List.of(new NewTopic(cfg.topics().name(ForecastHead.PREDICTIONS), 1, (short) 1)
                    .configs(Map.of("max.message.bytes", "120")))).all().get();
        }
        try (EngramProcess run = EngramProcess.start("run", dir.resolve("large.yaml"), kafka.bootstrap(), dir.resolve("state"),
                dir.resolve("large.log"), SHORT)) {
            run.awaitRunning(Duration.ofSeconds(90));
            send(cfg, 1_000_000, 3);
            stoppedLine(run);
            assertTrue(run.log().contains("RecordTooLargeException"), "the log has the broker's refusal:\n" + run.tail(40));
        }
    }

    /**
     * Issue 21: a dead letter the broker refuses stops {@code run} rather than vanish (it was
     * dropped with one log line). Under at-least-once, where a refused record does not fail a
     * transaction, so that nothing else would stop the pipeline.
     */
    @Test
    void aDeadLetterItsTopicRefusesStopsRunWithStatus1AndOneLineNamingTheTopic() throws Exception {
        Path file = dir.resolve("dlq.yaml");
        PipelineSpec shipped = pipeline("dlq", file);
        Files.writeString(file, Files.readString(file).replace("guarantee: exactly_once_v2", "guarantee: at_least_once"));
        PipelineSpec cfg = Pipelines.load(file);
        assertEquals("at_least_once", cfg.processing().guarantee());
        assertEquals(shipped.topics().deadLetter(), cfg.topics().deadLetter());
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        try (Admin admin = Admin.create(p)) {
            // A dead letter carries the original and its engram.error.* headers: a few hundred bytes.
            admin.createTopics(List.of(new NewTopic(cfg.topics().deadLetter(), 1, (short) 1)
                    .configs(Map.of("max.message.bytes", "150")))).all().get();
        }
        try (EngramProcess run = EngramProcess.start("run", file, kafka.bootstrap(), dir.resolve("state"), dir.resolve("dlq.log"), SHORT);
                KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(kafka.bootstrap())) {
            run.awaitRunning(Duration.ofSeconds(90));
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(cfg.topics().name(AnomalyPipeline.INPUT),
                    "k".getBytes(java.nio.charset.StandardCharsets.UTF_8), "not json".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            producer.flush();
            String line = stoppedLine(run);
            assertTrue(line.contains(cfg.topics().deadLetter()), "names the dead-letter topic: " + line);
            assertTrue(run.log().contains("RecordTooLargeException"), "the log has the broker's refusal:\n" + run.tail(40));
        }
    }

    /**
     * Issue 21: {@code engram.dead.letters} counts the dead letters written. In-process, to read the
     * counter: one dead letter its topic takes counts, the next, which its topic refuses, does not
     * (it was counted before it was sent).
     */
    @Test
    void aDeadLetterCountsOnceWrittenAndARefusedOneNever() throws Exception {
        PipelineSpec base = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        PipelineSpec.Processing pr = base.processing();
        PipelineSpec cfg = base.withApplicationId("refused-count").withTopics(base.topics().withSuffix("-count").withPartitions(1))
                .withProcessing(new PipelineSpec.Processing("at_least_once", pr.commitIntervalMs(), pr.threads(), pr.standbyReplicas(),
                        pr.profile(), pr.errorWindow(), pr.maxErrorShare()));
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        try (Admin admin = Admin.create(p)) {
            // Takes the dead letter of a small record (a few hundred bytes), not that of one of 5,000 bytes.
            admin.createTopics(List.of(new NewTopic(cfg.topics().deadLetter(), 1, (short) 1)
                    .configs(Map.of("max.message.bytes", "2000")))).all().get();
        }
        String input = cfg.topics().name(AnomalyPipeline.INPUT);
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrap(), dir.resolve("count-state"),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
                KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(kafka.bootstrap())) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(90)));
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(input, "k".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "not json".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            producer.flush();
            assertEquals(1, TopicReader.readCommitted(kafka.bootstrap(), cfg.topics().deadLetter(), 1, Duration.ofSeconds(60)).size());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (runner.metrics().deadLetterCount(io.engram.engine.errors.BadInputException.Reason.NOT_JSON) < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20); // the broker's acknowledgement reaches the producer after the record is readable
            }
            assertEquals(1.0, runner.metrics().deadLetterCount(io.engram.engine.errors.BadInputException.Reason.NOT_JSON), "written: counted");

            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(input, "k".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    "x".repeat(5000).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            producer.flush();
            org.apache.kafka.streams.KafkaStreams.State state = runner.streams().state();
            while (state != org.apache.kafka.streams.KafkaStreams.State.ERROR && state != org.apache.kafka.streams.KafkaStreams.State.PENDING_ERROR
                    && System.nanoTime() < deadline + Duration.ofSeconds(60).toNanos()) {
                Thread.sleep(50);
                state = runner.streams().state();
            }
            assertTrue(runner.failure() != null && runner.failure().contains(cfg.topics().deadLetter()), "stopped, naming the topic: " + runner.failure());
            assertEquals(1.0, runner.metrics().deadLetterCount(io.engram.engine.errors.BadInputException.Reason.NOT_JSON), "refused: not counted");
            assertEquals(1, TopicReader.readCommitted(kafka.bootstrap(), cfg.topics().deadLetter(), 1, Duration.ofSeconds(60)).size(),
                    "one dead letter written");
        }
    }
}

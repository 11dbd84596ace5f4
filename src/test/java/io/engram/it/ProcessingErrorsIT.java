package io.engram.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.ConfigReader;
import io.engram.engine.config.PipelineKind;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RecurrentStep;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyScorer;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.step.StepTopology;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.KafkaTestClient;
import io.engram.tools.harness.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model that fails on every record, on a real broker (issue 21): the pipeline dead-letters bad
 * input however much of it there is, and stops, with the one line that {@code engram run} prints,
 * once more than {@code processing.max_error_share} (0.5) of the last {@code processing.error_window}
 * (100) records failed in processing; it does not turn all its input into dead letters.
 */
class ProcessingErrorsIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    Path dir;

    /** The sensor pipeline, its model step failing on every record: a bug, or a model that fails. */
    static final class FailingModel implements PipelineKind<ForecastSettings> {
        static final AnomalyPipeline BASE = AnomalyPipeline.INSTANCE;

        @Override
        public String type() {
            return "anomaly-with-a-failing-model";
        }

        @Override
        public Map<TopicRole, String> defaultTopics() {
            return BASE.defaultTopics();
        }

        @Override
        public TopicRole stepInputRole() {
            return BASE.stepInputRole();
        }

        @Override
        public String defaultStore() {
            return BASE.defaultStore();
        }

        @Override
        public int defaultMetricsPort() {
            return BASE.defaultMetricsPort();
        }

        @Override
        public Set<String> sections() {
            return BASE.sections();
        }

        @Override
        public ForecastSettings settings(ConfigReader reader, JsonNode root) {
            return BASE.settings(reader, root);
        }

        @Override
        public BuiltPipeline build(PipelineSpec spec, ModelManifest manifest, StepSession model, PipelineMeters meters) {
            ForecastSettings settings = spec.settings(this);
            Topology t = new Topology();
            StepTopology.addStep(t, spec, manifest, () -> new RecurrentStep() {
                @Override
                public void step(float[] x, float[] state, float[] y) {
                    throw new IllegalStateException("the model failed");
                }

                @Override
                public void close() {}
            }, meters, ForecastHead.type(manifest, settings, new AnomalyScorer(settings.scoring()), meters), null);
            return BuiltPipeline.of(t);
        }
    }

    static String reason(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8);
    }

    @Test
    void aModelThatFailsOnEveryRecordStopsThePipelineWithOneLineAndDoesNotDeadLetterAllItsInput() throws Exception {
        PipelineSpec base = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        FailingModel kind = new FailingModel();
        PipelineSpec cfg = base.withApplicationId("it-processing-errors").withTopics(base.topics().withSuffix("-errors").withPartitions(1))
                .withKind(kind, base.settings(AnomalyPipeline.INSTANCE));
        String input = cfg.topics().name(AnomalyPipeline.INPUT);
        String dead = cfg.topics().deadLetter();
        int bad = 300;
        int good = 300;
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrap(), dir.resolve("state"), new SimpleMeterRegistry());
                KafkaProducer<byte[], byte[]> producer = KafkaTestClient.producer(kafka.bootstrap())) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(90)), "running");
            // Bad input first, three times the window: dead-lettered, and it does not stop the pipeline.
            for (int i = 0; i < bad; i++) {
                producer.send(new ProducerRecord<>(input, "s".getBytes(StandardCharsets.UTF_8), ("garbage " + i).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
            List<ConsumerRecord<byte[], byte[]>> badLetters = TopicReader.readCommitted(kafka.bootstrap(), dead, bad, Duration.ofSeconds(90),
                    TopicReader.Settle.outputs(List.of(dead)).consumedBy(cfg.applicationId(), List.of(input)));
            assertEquals(bad, badLetters.size(), "one dead letter per bad record, none twice");
            assertTrue(badLetters.stream().allMatch(r -> reason(r).equals("not-json")));
            assertEquals(KafkaStreams.State.RUNNING, runner.streams().state(), "bad input does not stop it");
            assertEquals(null, runner.failure());

            for (int i = 0; i < good; i++) {
                producer.send(KafkaTestClient.reading(input, "s", 1_000_000L + 1000L * i, 20 + i));
            }
            producer.flush();
            KafkaStreams.State state = runner.streams().state();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR && System.nanoTime() < deadline) {
                Thread.sleep(50);
                state = runner.streams().state();
            }
            assertTrue(state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR, "stopped: " + state);
            String line = runner.failure();
            assertNotNull(line);
            System.out.println("ProcessingErrorsIT: " + line);
            assertTrue(line.startsWith("51 of the last 51 records failed in processing, more than processing.max_error_share 0.5"
                    + " of processing.error_window 100: a fault of the pipeline or its model, not bad input; the last at " + input + "-0@"), line);
            assertTrue(line.endsWith("(IllegalStateException: the model failed)"), line);
            assertTrue(!line.contains("\n"), "one line");

            // Read past what was committed: the bad input's dead letters, and at most 50 of the failures.
            List<ConsumerRecord<byte[], byte[]>> all = TopicReader.readCommitted(kafka.bootstrap(), dead, bad, Duration.ofSeconds(90));
            long failures = all.stream().filter(r -> reason(r).equals("processing-error")).count();
            assertEquals(bad, all.size() - failures, "the bad input's dead letters, once each");
            assertTrue(failures <= 50, "not every record dead-lettered: " + failures + " processing errors of " + good + " records");
            assertEquals(0, TopicReader.readCommitted(kafka.bootstrap(), cfg.topics().name(ForecastHead.PREDICTIONS), 0,
                    Duration.ofSeconds(30)).size(), "no prediction");
        }
    }
}

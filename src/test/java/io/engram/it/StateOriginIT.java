package io.engram.it;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.testkit.KafkaTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.state.StateEvent;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local state bound to its origin (issue 13): state left in a state directory by one cluster, or
 * built from topics that were since deleted or recreated, never steps a record. Each case keeps a
 * state directory from a first run (stream "k" stepped 30 times, up to event time 129 s), changes the
 * cluster or a topic, and runs again with readings from event time 0: had the old state been used,
 * they would be dead-lettered as out of order, or stepped from step 30. Instead the new run's
 * predictions start at step 0, with no dead letter, and the wipe is counted and announced.
 */
class StateOriginIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();
    static final JsonSerde<ForecastPrediction> PREDICTION = new JsonSerde<>(ForecastPrediction.class);
    static final JsonSerde<StateEvent> EVENT = new JsonSerde<>(StateEvent.class);

    @TempDir
    Path stateDir;

    static PipelineSpec config(String suffix) {
        PipelineSpec c = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        return c.withApplicationId("origin-" + suffix).withTopics(c.topics().withSuffix("-" + suffix).withPartitions(2));
    }

    /** One run: starts the pipeline, sends {@code n} readings of stream "k" from event time {@code t0}, returns the registry. */
    SimpleMeterRegistry run(String bootstrap, PipelineSpec cfg, long t0, int n) throws Exception {
        return run(bootstrap, cfg, t0, n, PipelineRunner.StartOptions.DEFAULTS);
    }

    SimpleMeterRegistry run(String bootstrap, PipelineSpec cfg, long t0, int n, PipelineRunner.StartOptions options) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry, options)) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
            try (KafkaProducer<byte[], byte[]> p = KafkaTestClient.producer(bootstrap)) {
                for (int i = 0; i < n; i++) {
                    p.send(KafkaTestClient.reading(cfg.topics().name(AnomalyPipeline.INPUT), "k", t0 + 1000L * i, 20 + i % 7));
                }
                p.flush();
            }
            TopicReader.readCommitted(bootstrap, cfg.topics().name(ForecastHead.PREDICTIONS), n, Duration.ofSeconds(120),
                    TopicReader.Settle.outputs(cfg.topics().except(AnomalyPipeline.INPUT)).consumedBy(cfg.applicationId(),
                            List.of(cfg.topics().name(AnomalyPipeline.INPUT))));
            awaitOriginRecordsChangelogs(cfg);
        }
        return registry;
    }

    /** The runner records the changelogs' ids once Kafka Streams runs; wait for it, so each case starts from a full record. */
    void awaitOriginRecordsChangelogs(PipelineSpec cfg) throws Exception {
        Path origin = stateDir.resolve(cfg.applicationId() + ".engram-origin.json");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.isRegularFile(origin) && Files.readString(origin).contains("-changelog")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no changelog in " + origin);
    }

    /** The second run's outputs: predictions of readings before event time 100 s, dead letters, wipe events. */
    static void assertFreshStart(String bootstrap, PipelineSpec cfg, int n, SimpleMeterRegistry registry, String reason) {
        List<ConsumerRecord<byte[], byte[]>> all = TopicReader.readCommitted(bootstrap, cfg.topics().name(ForecastHead.PREDICTIONS), n,
                Duration.ofSeconds(120), TopicReader.Settle.outputs(cfg.topics().except(AnomalyPipeline.INPUT)));
        List<Long> steps = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : all) {
            ForecastPrediction p = PREDICTION.deserialize("t", r.value());
            if (p.eventTime() < 100_000) {
                steps.add(p.step());
            }
        }
        List<Long> expected = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            expected.add(i);
        }
        assertEquals(expected, steps, "the stream starts afresh: steps 0.." + (n - 1) + ", each once");
        assertEquals(0, TopicReader.readCommitted(bootstrap, cfg.topics().deadLetter(), 0, Duration.ofSeconds(30)).size(),
                "no reading dead-lettered as out of order");
        List<StateEvent> wiped = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readCommitted(bootstrap, cfg.topics().stateEvents(), 1, Duration.ofSeconds(30))) {
            StateEvent e = EVENT.deserialize("t", r.value());
            if (StateEvent.WIPED.equals(e.event())) {
                wiped.add(e);
                assertEquals(cfg.applicationId(), new String(r.key(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        assertEquals(1, wiped.size(), "one wipe announced");
        assertEquals(reason, wiped.get(0).reason());
        assertEquals(1.0, registry.get("engram.state.wipes").tag("reason", reason).counter().count());
    }

    @Test
    void stateLeftByAnotherClusterIsWipedBeforeAnyRecordSteps() throws Exception {
        PipelineSpec cfg = config("cluster");
        try (EmbeddedKafka a = EmbeddedKafka.start()) {
            run(a.bootstrapServers(), cfg, 100_000, 30);
        }
        SimpleMeterRegistry second = run(kafka.bootstrap(), cfg, 0, 20);
        assertFreshStart(kafka.bootstrap(), cfg, 20, second, "cluster-changed");
    }

    /**
     * Issue 21: a recreated input deletes nothing by default; the start stops with one line naming
     * the changelogs and the command. With --reset-changelogs exactly this topology's changelogs go
     * (then the stream starts afresh, as before), and those of an application whose id extends this
     * one's ({@code origin-input-eu} beside {@code origin-input}), which a prefix would match, stay.
     */
    @Test
    void aRecreatedInputTopicStopsTheStartUntilTheOperatorResetsTheChangelogs() throws Exception {
        PipelineSpec cfg = config("input");
        String changelog = cfg.applicationId() + "-" + cfg.stateStore() + "-changelog";
        List<String> others = List.of(cfg.applicationId() + "-eu-" + cfg.stateStore() + "-changelog",
                cfg.applicationId() + "-eu-shapes-changelog");
        kafka.createTopics(2, others.toArray(String[]::new));
        java.util.SortedMap<String, String> othersBefore = ids(others);
        assertEquals(2, othersBefore.size());
        run(kafka.bootstrap(), cfg, 100_000, 30);
        recreate(cfg.topics().name(AnomalyPipeline.INPUT));
        String changelogBefore = ids(List.of(changelog)).get(changelog);
        assertTrue(changelogBefore != null, "the first run made its changelog");

        ConfigException refused = assertThrows(ConfigException.class,
                () -> PipelineRunner.start(cfg, kafka.bootstrap(), stateDir, new SimpleMeterRegistry()));
        String line = refused.getMessage();
        assertFalse(line.contains("\n"), "one line: " + line);
        assertTrue(line.contains(changelog) && line.contains("--reset-changelogs") && line.contains("engram run"), line);
        assertFalse(others.stream().anyMatch(line::contains), "only this application's changelogs are named: " + line);
        assertEquals(changelogBefore, ids(List.of(changelog)).get(changelog), "nothing deleted by default");
        assertEquals(othersBefore, ids(others));
        assertTrue(Files.isDirectory(stateDir.resolve(cfg.applicationId())), "nothing wiped by default");

        SimpleMeterRegistry second = run(kafka.bootstrap(), cfg, 0, 20, PipelineRunner.StartOptions.DEFAULTS.withResetChangelogs(true));
        assertFreshStart(kafka.bootstrap(), cfg, 20, second, "topic-recreated");
        String changelogAfter = ids(List.of(changelog)).get(changelog);
        assertTrue(changelogAfter != null && !changelogAfter.equals(changelogBefore), "this topology's changelog was deleted (and made again)");
        assertEquals(othersBefore, ids(others), "the other application's topics are untouched, the same topics (ids)");
    }

    static java.util.SortedMap<String, String> ids(List<String> topics) {
        return io.engram.engine.kafka.TopicAdmin.identify(kafka.bootstrap(), java.util.Map.of(), topics).topicIds();
    }

    @Test
    void aDeletedChangelogStartsEveryStreamAfresh() throws Exception {
        PipelineSpec cfg = config("changelog");
        run(kafka.bootstrap(), cfg, 100_000, 30);
        delete(cfg.applicationId() + "-" + cfg.stateStore() + "-changelog");
        SimpleMeterRegistry second = run(kafka.bootstrap(), cfg, 0, 20);
        assertFreshStart(kafka.bootstrap(), cfg, 20, second, "topic-missing");
    }

    @Test
    void aRestartOnTheSameClusterAndTopicsKeepsItsState() throws Exception {
        PipelineSpec cfg = config("same");
        run(kafka.bootstrap(), cfg, 100_000, 30);
        SimpleMeterRegistry second = run(kafka.bootstrap(), cfg, 200_000, 10);
        List<Long> steps = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readCommitted(kafka.bootstrap(), cfg.topics().name(ForecastHead.PREDICTIONS), 40,
                Duration.ofSeconds(120))) {
            steps.add(PREDICTION.deserialize("t", r.value()).step());
        }
        assertEquals(40, steps.size());
        assertTrue(steps.contains(39L), "the stream went on from step 30: " + steps);
        assertEquals(0.0, second.get("engram.state.wipes").tag("reason", "cluster-changed").counter().count());
    }

    static void delete(String topic) throws Exception {
        io.engram.engine.kafka.TopicAdmin.deleteTopics(kafka.bootstrap(), java.util.Map.of(), List.of(topic));
    }

    static void recreate(String topic) throws Exception {
        delete(topic);
        kafka.createTopics(2, topic);
    }
}

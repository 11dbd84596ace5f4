package io.engram.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.kafka.KafkaClients;
import io.engram.tools.harness.EngramProcess;
import io.engram.tools.harness.Feeder;
import io.engram.tools.harness.RunOutputs;
import io.engram.tools.soak.Soak;
import io.engram.tools.harness.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Crash and failover equivalence for any pipeline: whatever happens to Engram processes and the
 * broker mid-stream (kill -9, failover to a standby, a new instance joining, a lost state
 * directory, a broker outage), the output topics read with {@code read_committed} hold exactly the
 * records of an uninterrupted run over the same input: per key, the same values byte for byte, in
 * the same order, none missing and none twice ({@link RunOutputs#diff}).
 *
 * <p>Made from a pipeline file ({@link PipelineYaml}) and an {@link Input}: the records to send,
 * where those marked {@link #bad} must each give one dead letter, those marked {@link #control}
 * neither a dead letter nor a prediction, and every other one record on the {@code predictions}
 * topic. The broker is the test class's ({@link KafkaBroker}); each Engram
 * instance is a child JVM ({@link EngramProcess}) with its own state directory, killed with
 * SIGKILL. Every scenario has its own topics and application id and sends the same input, so one
 * uninterrupted run ({@link #reference()}, in this JVM) is the reference for all of them. Input is
 * sent by a paced {@link Feeder}, so that kills land while records are flowing, and every kill
 * waits for a transaction of the instance to be open on an output topic and proves afterwards that
 * it still was ({@link CrashScenario#killInTransaction}). Every wait is for an event, with generous timeouts.
 */
public final class CrashHarness {
    public static final Duration START = Duration.ofMinutes(2);
    public static final Duration DRAIN = Duration.ofMinutes(2);
    /**
     * The output role that every good input record gives one record on: every head's predictions
     * ({@link ForecastHead#PREDICTIONS}, {@link ActivityHead#PREDICTIONS}, equal roles).
     */
    public static final TopicRole PREDICTIONS = ForecastHead.PREDICTIONS;
    /** Header on the input's bad records: the test's own bookkeeping, copied into their dead letters (so compared too). */
    public static final String BAD_MARK = "it.bad";
    /** Header on the input's records that give neither a prediction nor a dead letter (control records). */
    public static final String CONTROL_MARK = "it.control";
    /**
     * A kill waits for a transaction that began at most this long ago: transactions are committed
     * every {@code commit.interval.ms} (100 ms in the shipped files), so a young one stays open for
     * tens of milliseconds more, far longer than the kill takes.
     */
    public static final long YOUNG_TRANSACTION_MS = 25;

    /** Session timeouts for fast failover: the soak's ({@link Soak#FAST_FAILOVER}). */
    public static final Map<String, String> FAST_FAILOVER = Soak.FAST_FAILOVER;

    /** A pipeline's input for the crash scenarios: the same records, in the same order, for every run. */
    public interface Input {
        /**
         * The records to send, on the pipeline's input topics (named by {@code topics}). A record
         * without a key must name its partition, so that every run's input topics are identical.
         */
        List<ProducerRecord<byte[], byte[]>> records(PipelineTopics topics);

        /**
         * The predictions an uninterrupted run gives for {@code records}: one per good record unless
         * a record holds several streams (a frame of several people gives one per person).
         */
        default int predictions(List<ProducerRecord<byte[], byte[]>> records) {
            return goodIn(records, records.size());
        }
    }

    final String name;
    final KafkaBroker broker;
    final Path work;
    private final PipelineYaml pipeline;
    final Input input;
    private int partitions = 4;
    int chunk = 48;
    long pauseMs = 30;
    RunOutputs reference;
    private int tasks;
    int threads;
    final List<String> kills = new ArrayList<>();
    private final Map<String, java.util.function.UnaryOperator<PipelineYaml>> variants = new java.util.HashMap<>();
    private final Map<String, RunOutputs> variantReferences = new java.util.HashMap<>();

    /**
     * @param name the pipeline's short name, in topic names and application ids
     * @param work a directory for pipeline files, state directories and logs
     */
    public CrashHarness(String name, KafkaBroker broker, Path work, PipelineYaml pipeline, Input input) {
        this.name = name;
        this.broker = broker;
        this.work = work;
        this.pipeline = pipeline;
        this.input = input;
    }

    /** Partitions of every topic (4 unless set). */
    public CrashHarness partitions(int n) {
        partitions = n;
        return this;
    }

    /** The feeder's pace: {@code chunk} records, then a pause of {@code pauseMs} (48 and 30 unless set). */
    public CrashHarness pacing(int chunk, long pauseMs) {
        this.chunk = chunk;
        this.pauseMs = pauseMs;
        return this;
    }

    /**
     * Runs scenario {@code scenario} ({@code kill9}, {@code failover}, {@code lost-state} or
     * {@code outage}) on a variant of the pipeline file, e.g. another layout of the same pipeline.
     * Its outputs are compared, byte for byte, with an uninterrupted run of the same variant.
     */
    public CrashHarness variant(String scenario, java.util.function.UnaryOperator<PipelineYaml> change) {
        variants.put(scenario, change);
        return this;
    }

    /** Marks an input record as bad: it must give one dead letter and nothing else. */
    public static ProducerRecord<byte[], byte[]> bad(ProducerRecord<byte[], byte[]> r) {
        r.headers().add(BAD_MARK, new byte[0]);
        return r;
    }

    /** Marks an input record as a control record: it gives neither a prediction nor a dead letter. */
    public static ProducerRecord<byte[], byte[]> control(ProducerRecord<byte[], byte[]> r) {
        r.headers().add(CONTROL_MARK, new byte[0]);
        return r;
    }

    public static boolean isBad(ProducerRecord<byte[], byte[]> r) {
        return r.headers().lastHeader(BAD_MARK) != null;
    }

    /** Good records (neither bad nor control) among the first {@code n} of {@code records}. */
    public static int goodIn(List<ProducerRecord<byte[], byte[]>> records, int n) {
        int good = 0;
        for (int i = 0; i < n; i++) {
            ProducerRecord<byte[], byte[]> r = records.get(i);
            good += isBad(r) || r.headers().lastHeader(CONTROL_MARK) != null ? 0 : 1;
        }
        return good;
    }

    // ---------------------------------------------------------------------------------------------
    // The reference

    /**
     * The uninterrupted run, in this JVM, on its own topics: computed on the first call, then kept.
     * Waits until every good record has its prediction and every bad one its dead letter, and the
     * outputs have settled (the application has committed all its input, no transaction is open).
     */
    public synchronized RunOutputs reference() throws Exception {
        if (reference == null) {
            reference = runReference("reference", true);
        }
        return reference;
    }

    /**
     * What scenario {@code scenario} is compared with: the reference, or for a scenario on a
     * {@link #variant} an uninterrupted run of that variant (computed once).
     */
    synchronized RunOutputs reference(String scenario) throws Exception {
        if (!variants.containsKey(scenario)) {
            return reference();
        }
        RunOutputs r = variantReferences.get(scenario);
        if (r == null) {
            r = runReference(scenario + "-reference", false);
            variantReferences.put(scenario, r);
        }
        return r;
    }

    private RunOutputs runReference(String run, boolean main) throws Exception {
        long t0 = System.nanoTime();
        PipelineTopics t = topics(run);
        PipelineSpec spec = Pipelines.load(yaml(run, 0));
        List<ProducerRecord<byte[], byte[]>> records = input.records(t);
        createTopics(t);
        RunOutputs out;
        int n;
        try (PipelineRunner runner = PipelineRunner.start(spec, broker.bootstrap(), work.resolve(run + "-state"),
                new SimpleMeterRegistry());
                KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(broker.bootstrap())) {
            assertTrue(runner.awaitRunning(START), run + " pipeline running");
            for (ProducerRecord<byte[], byte[]> r : records) {
                producer.send(r);
            }
            producer.flush();
            Map<TopicRole, Integer> min = new LinkedHashMap<>();
            min.put(PREDICTIONS, input.predictions(records));
            min.put(TopicRole.DEAD_LETTER, (int) records.stream().filter(CrashHarness::isBad).count());
            out = awaitOutputs(broker.bootstrap(), spec.applicationId(), t, records, min);
            for (Map.Entry<TopicRole, Integer> e : min.entrySet()) {
                assertEquals(e.getValue(), out.total(e.getKey()), run + " run: " + e.getKey() + ", one per "
                        + (e.getKey().equals(PREDICTIONS) ? "good" : "bad") + " input record");
            }
            n = runner.streams().metadataForLocalThreads().stream().mapToInt(m -> m.activeTasks().size()).sum();
        }
        if (main) {
            threads = spec.processing().threads();
            tasks = n;
        }
        System.out.printf(Locale.ROOT, "%s %s: %s, %d tasks, in %.1f s%n", name, run, out.summary(), n, (System.nanoTime() - t0) / 1e9);
        return out;
    }

    /** Kafka Streams tasks of the pipeline (sub-topologies x partitions), known once {@link #reference()} ran. */
    public int tasks() {
        return tasks;
    }

    /** What each kill hit, for the test's report: the transaction it landed in. */
    public List<String> kills() {
        return List.copyOf(kills);
    }

    // ---------------------------------------------------------------------------------------------
    // The four scenarios

    /** One instance, killed with SIGKILL mid-transaction under a backlog; the rest of the input arrives while it is down; restarted. */
    public void killDashNineThenRestart() throws Exception {
        scenario("kill9", 0, s -> {
            EngramProcess a = s.start("a", "a");
            a.awaitRunning(START);
            s.sendBacklog(s.size() * 3 / 5);
            s.killInTransaction(a, s.good() / 4, s.size()); // the rest arrives while a is down and restarting
            EngramProcess again = s.start("a-restarted", "a");
            again.awaitRunning(START);
            s.assertSameAsReference();
        });
    }

    /**
     * Two instances with one standby replica each; one is killed mid-transaction; the survivor takes
     * over all tasks and processes what was sent meanwhile; then a third instance joins while records
     * keep flowing and takes some of the survivor's tasks.
     */
    public void failoverWithStandbysThenJoin() throws Exception {
        scenario("failover", 1, s -> {
            EngramProcess a = s.start("a", "a");
            EngramProcess b = s.start("b", "b");
            a.awaitRunning(START);
            b.awaitRunning(START);
            // Both have tasks (the first to start briefly has them all).
            a.awaitActiveTasks(1, START);
            b.awaitActiveTasks(1, START);
            s.sendBacklog(s.size() * 2 / 5);
            s.killInTransaction(a, s.good() / 5, s.size() * 5 / 8);
            List<String> lost = a.activeTasks();
            b.awaitActiveTasks(tasks, START);
            // Every good record sent so far, including those sent after the kill to a's partitions,
            // gets its prediction: b has taken over a's tasks and processed them.
            s.feeder.awaitSent(s.size() * 5 / 8, DRAIN);
            s.awaitPredictions(goodIn(s.input, s.size() * 5 / 8));
            s.log("b has taken over a's tasks " + lost + ": " + b.activeTasks());
            // Records keep flowing, slowly, while c starts and takes some of b's tasks; the last ones
            // go once it has.
            s.feeder.pace(250);
            s.feeder.allow(s.size() * 7 / 8);
            EngramProcess c = s.start("c", "c");
            c.awaitRunning(START);
            c.awaitActiveTasks(1, START);
            s.log("c has active tasks " + c.assignments() + "; " + s.feeder.sent() + " of " + s.size() + " records sent");
            s.feeder.normalPace();
            s.assertSameAsReference();
            assertTrue(b.alive() && c.alive(), "b and c still running");
        });
    }

    /** One instance, killed mid-transaction; its state directory is deleted; restarted, it rebuilds its state from the changelogs. */
    public void lostStateDirectory() throws Exception {
        scenario("lost-state", 0, s -> {
            EngramProcess a = s.start("a", "a");
            a.awaitRunning(START);
            s.sendBacklog(s.size() * 3 / 5);
            s.killInTransaction(a, s.good() / 4, s.size());
            Path dir = s.stateDir("a");
            KafkaBroker.deleteRecursively(dir);
            assertFalse(Files.exists(dir));
            EngramProcess again = s.start("a-fresh-state", "a");
            again.awaitRunning(START);
            s.assertSameAsReference();
        });
    }

    /** The broker goes down for {@code down} with records flowing; the same Engram process recovers by itself. */
    public void brokerOutage(Duration down) throws Exception {
        scenario("outage", 0, s -> {
            EngramProcess a = s.start("a", "a");
            a.awaitRunning(START);
            s.feeder.allow(s.size());
            s.awaitPredictions(s.good() / 3);
            long t0 = System.nanoTime();
            broker.stop();
            try {
                s.log("broker stopped, " + s.feeder.sent() + " of " + s.size() + " records sent");
                Thread.sleep(down.toMillis()); // the outage itself: its length is the scenario, not a wait for an event
            } finally {
                broker.restart();
            }
            s.log(String.format(Locale.ROOT, "broker back on port %d after %.1f s", broker.port(), (System.nanoTime() - t0) / 1e9));
            s.assertSameAsReference();
            assertTrue(a.alive(), "the same Engram process recovered by itself");
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Scenario plumbing

    /** The body of a scenario. */
    public interface Body {
        void run(CrashScenario s) throws Exception;
    }

    /** Runs one scenario on its own topics and application id; on failure the child processes' logs are attached to the error. */
    public void scenario(String scenario, int standbys, Body body) throws Exception {
        reference();
        long t0 = System.nanoTime();
        CrashScenario s = new CrashScenario(this, scenario, standbys);
        try {
            body.run(s);
        } catch (Throwable e) {
            e.addSuppressed(new AssertionError("logs of scenario " + scenario + ":\n" + s.logs()));
            throw e;
        } finally {
            s.close();
            System.out.printf(Locale.ROOT, "%s scenario %s: %.1f s%n", name, scenario, (System.nanoTime() - t0) / 1e9);
        }
    }

    PipelineTopics topics(String scenario) {
        return Pipelines.load(pipeline.source()).topics().withSuffix("-" + name + "-" + scenario).withPartitions(partitions);
    }

    Path yaml(String scenario, int standbys) {
        String variant = scenario.endsWith("-reference") ? scenario.substring(0, scenario.length() - "-reference".length()) : scenario;
        return variants.getOrDefault(variant, y -> y).apply(pipeline).applicationId("crash-it-" + name + "-" + scenario).topics(topics(scenario)).standbys(standbys)
                .set("metrics.port", 0).write(work.resolve(name + "-" + scenario + ".yaml"));
    }

    /**
     * Creates the topics before any Engram instance (which would create them too), so that the
     * feeder never waits for metadata.
     */
    void createTopics(PipelineTopics t) {
        EmbeddedKafka.createTopics(broker.bootstrap(), partitions, (short) 1, t.all().toArray(String[]::new));
    }

    /** The topics the input is sent to, and every other topic of the pipeline (its outputs), by role. */
    static List<TopicRole> roles(PipelineTopics t, List<ProducerRecord<byte[], byte[]>> records, boolean inputs) {
        Set<String> written = new LinkedHashSet<>();
        records.forEach(r -> written.add(r.topic()));
        return t.roles().stream().filter(r -> written.contains(t.name(r)) == inputs).toList();
    }

    /**
     * Waits until the output topic of each role in {@code min} holds at least that many committed
     * records, then until the outputs have settled (the application has committed all its input and
     * no transaction is open: a late commit would add records, and a killed instance's open
     * transaction is aborted by the broker only after the transaction timeout), then reads every
     * output topic up to its end.
     */
    static RunOutputs awaitOutputs(String bootstrap, String applicationId, PipelineTopics t, List<ProducerRecord<byte[], byte[]>> records,
            Map<TopicRole, Integer> min) {
        for (Map.Entry<TopicRole, Integer> e : min.entrySet()) {
            int got = TopicReader.awaitAtLeast(bootstrap, t.name(e.getKey()), e.getValue(), DRAIN);
            if (got < e.getValue()) {
                throw new AssertionError(t.name(e.getKey()) + ": " + got + " committed records after " + DRAIN + ", expected " + e.getValue());
            }
        }
        List<TopicRole> outputs = roles(t, records, false);
        List<TopicRole> inputs = roles(t, records, true);
        TopicReader.awaitSettled(bootstrap, TopicReader.Settle.outputs(outputs.stream().map(t::name).toList())
                .consumedBy(applicationId, inputs.stream().map(t::name).toList()), DRAIN);
        return RunOutputs.read(bootstrap, t, outputs, DRAIN);
    }
}

package io.engram.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.runtime.PipelineRunner;
import io.engram.embedded.EmbeddedKafka;
import io.engram.core.DeadLetterHandler;
import io.engram.core.JsonSerde;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import io.engram.pipeline.forecast.SensorPrediction;
import io.engram.core.PipelineTopics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash and failover equivalence: whatever happens to Engram processes and the broker mid-stream
 * (kill -9, failover to a standby, a new instance joining, a lost state directory, a broker
 * outage), the output topics read with {@code read_committed} hold exactly the records of an
 * uninterrupted run over the same input: per key, the same values byte for byte, in the same order,
 * none missing and none twice.
 *
 * <p>The broker runs in this JVM; each Engram instance is a child JVM ({@link EngramProcess}, the
 * shaded jar) with its own state directory, killed with SIGKILL. Every scenario has its own topics
 * and application id and sends the same input ({@link #input}), so one uninterrupted run, computed
 * once in {@link #startBrokerAndRunReference()}, is the reference for all of them. Input is sent by
 * a paced {@link Feeder}, so that kills land while records are flowing; every wait is for an event
 * (a count of committed outputs, a log line), with generous timeouts.
 */
class CrashRecoveryIT {
    static final int STREAMS = 24;
    static final int STEPS = 110;
    static final int PARTITIONS = 4;
    static final long T0 = 1_700_000_000_000L;
    /** Records the input holds for each stream, and its bad records (dead letters). */
    static final int GOOD = STREAMS * STEPS;
    static final int BAD = 8;
    static final Duration START = Duration.ofMinutes(2);
    static final Duration DRAIN = Duration.ofMinutes(2);

    /**
     * A killed member never leaves the group: the coordinator waits for its session to expire before
     * the survivors (or its restart) get its partitions. 6 s is the broker's minimum
     * ({@code group.min.session.timeout.ms}); the default 45 s would only make the tests slower.
     */
    static final Map<String, String> FAST_FAILOVER = Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000");

    /** The output topics, by role, in {@link PipelineTopics#except}'s order. */
    static final List<String> ROLES = List.of("predictions", "anomalies", "dead letters", "state events");

    static final JsonSerde<SensorPrediction> PREDICTION = new JsonSerde<>(SensorPrediction.class);

    @TempDir
    static Path work;

    static EmbeddedKafka kafka;
    static Outputs reference;

    @BeforeAll
    static void startBrokerAndRunReference() throws Exception {
        long t0 = System.nanoTime();
        kafka = EmbeddedKafka.start();
        // The reference: an uninterrupted run, in this JVM, on its own topics.
        Path yaml = pipelineYaml("reference", 0);
        PipelineSpec cfg = Pipelines.load(yaml);
        PipelineTopics t = cfg.topics();
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrapServers(), work.resolve("reference-state"),
                new SimpleMeterRegistry(), true);
                KafkaProducer<byte[], byte[]> producer = producer(kafka.bootstrapServers())) {
            assertTrue(runner.awaitRunning(START), "reference pipeline running");
            for (ProducerRecord<byte[], byte[]> r : input(t.name("input"))) {
                producer.send(r);
            }
            producer.flush();
            reference = Outputs.awaitComplete(kafka.bootstrapServers(), t, null);
        }
        checkReference(reference);
        System.out.printf("reference: %s in %.1f s%n", reference.summary(), (System.nanoTime() - t0) / 1e9);
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /**
     * The reference is itself right: every stream stepped once per reading, in order (0, 1, 2, ...;
     * a stream with a gap longer than {@code state.max_gap_ms} may start again at 0 after it), every
     * bad record dead-lettered once.
     */
    private static void checkReference(Outputs ref) {
        Map<String, List<Rec>> preds = ref.byRole.get("predictions");
        assertEquals(STREAMS, preds.size(), "streams with predictions");
        preds.forEach((key, recs) -> {
            assertEquals(STEPS, recs.size(), key);
            boolean gap = key.equals(key(GAP_STREAMS[0])) || key.equals(key(GAP_STREAMS[1]));
            for (int i = 0; i < recs.size(); i++) {
                long step = PREDICTION.deserialize("t", recs.get(i).value).step();
                boolean restarted = gap && i >= GAP_AT && step == i - GAP_AT;
                assertTrue(step == i || restarted, key + " reading " + i + " has step " + step);
            }
        });
        List<String> reasons = ref.byRole.get("dead letters").values().stream().flatMap(List::stream).map(r -> r.reason).sorted().toList();
        assertEquals(List.of("missing-field", "not-json", "not-json", "null-key", "null-value", "out-of-order", "out-of-order",
                "wrong-value-count"), reasons, "dead letters of the reference run");
        assertTrue(ref.total("anomalies") > 0, "the input makes some alerts, so that they are compared too");
    }

    // ---------------------------------------------------------------------------------------------
    // Scenarios

    @Test
    void killDashNineMidStreamThenRestartGivesTheOutputOfAnUninterruptedRun() throws Exception {
        scenario("kill9", 0, kafka.bootstrapServers(), s -> {
            EngramProcess a = s.start("a", "a");
            a.awaitRunning(START);
            s.sendBacklog(s.inputSize() * 3 / 5);
            s.killInTransaction(a, GOOD / 4);
            s.feeder.allow(s.inputSize()); // the rest arrives while a is down and restarting
            EngramProcess again = s.start("a-restarted", "a");
            again.awaitRunning(START);
            s.assertSameAsReference();
        });
    }

    @Test
    void killOneOfTwoInstancesWithStandbysThenAddAThirdMidTrafficGivesTheOutputOfAnUninterruptedRun() throws Exception {
        scenario("failover", 1, kafka.bootstrapServers(), s -> {
            EngramProcess a = s.start("a", "a");
            EngramProcess b = s.start("b", "b");
            a.awaitRunning(START);
            b.awaitRunning(START);
            // Both have partitions (the first to start briefly has all four).
            a.awaitActiveTasks(1, START);
            b.awaitActiveTasks(1, START);
            s.sendBacklog(s.inputSize() * 2 / 5);
            s.killInTransaction(a, GOOD / 5);
            List<String> lost = a.activeTasks();
            s.feeder.allow(s.inputSize() * 5 / 8);
            b.awaitActiveTasks(PARTITIONS, START);
            // Every good record sent so far, including those sent after the kill to a's partitions,
            // gets its prediction: b has taken over a's tasks and processed them.
            s.feeder.awaitSent(s.inputSize() * 5 / 8, DRAIN);
            s.awaitPredictions(goodIn(s.input, s.inputSize() * 5 / 8));
            s.log("b has taken over a's tasks " + lost + ": " + b.activeTasks());
            // Records keep flowing, slowly, while c starts and takes some of b's partitions; the last
            // ones go once it has.
            s.feeder.pace(250);
            s.feeder.allow(s.inputSize() * 7 / 8);
            EngramProcess c = s.start("c", "c");
            c.awaitRunning(START);
            c.awaitActiveTasks(1, START);
            s.log("c has active tasks " + c.assignments() + "; " + s.feeder.sent() + " of " + s.inputSize() + " records sent");
            s.feeder.pace(Feeder.PAUSE_MS);
            s.assertSameAsReference();
            assertTrue(b.alive() && c.alive(), "b and c still running");
        });
    }

    @Test
    void killThenDeleteTheStateDirectoryThenRestartRebuildsStateFromTheChangelog() throws Exception {
        scenario("lost-state", 0, kafka.bootstrapServers(), s -> {
            EngramProcess a = s.start("a", "a");
            a.awaitRunning(START);
            s.sendBacklog(s.inputSize() * 3 / 5);
            s.killInTransaction(a, GOOD / 4);
            s.feeder.allow(s.inputSize());
            Path dir = s.stateDir("a");
            deleteRecursively(dir);
            assertFalse(Files.exists(dir));
            EngramProcess again = s.start("a-fresh-state", "a");
            again.awaitRunning(START);
            s.assertSameAsReference();
        });
    }

    @Test
    void brokerDownForTenSecondsWithTrafficRunningEngramRecoversByItself() throws Exception {
        Path data = work.resolve("outage-broker");
        EmbeddedKafka[] broker = {EmbeddedKafka.start(0, data)};
        int port = broker[0].port();
        try {
            scenario("outage", 0, broker[0].bootstrapServers(), s -> {
                EngramProcess a = s.start("a", "a");
                a.awaitRunning(START);
                s.feeder.allow(s.inputSize());
                s.awaitPredictions(GOOD / 3);
                long down = System.nanoTime();
                broker[0].close();
                s.log("broker stopped, " + s.feeder.sent() + " of " + s.inputSize() + " records sent");
                Thread.sleep(10_000); // the outage itself: its length is the scenario, not a wait for an event
                broker[0] = EmbeddedKafka.start(port, data);
                s.log(String.format(Locale.ROOT, "broker back on port %d after %.1f s", port, (System.nanoTime() - down) / 1e9));
                s.assertSameAsReference();
                assertTrue(a.alive(), "the same Engram process recovered by itself");
            });
        } finally {
            broker[0].close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Input

    /**
     * The input, the same for every scenario: {@link #STREAMS} streams of {@link #STEPS} readings each
     * (one a minute, noisy sines at different levels and periods; spikes and a level shift that the
     * scorer alerts on; two streams with a two-hour gap), interleaved across streams, with {@link #BAD}
     * bad records in between. Keyed records go to their key's partition (the default partitioner);
     * the one record without a key names its partition, so that the input topics are identical.
     */
    static List<ProducerRecord<byte[], byte[]>> input(String topic) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        SplittableRandom[] rnd = new SplittableRandom[STREAMS];
        for (int s = 0; s < STREAMS; s++) {
            rnd[s] = new SplittableRandom(1000 + s);
        }
        for (int i = 0; i < STEPS; i++) {
            for (int s = 0; s < STREAMS; s++) {
                double v = 5 * (s % 5) + 2 + Math.sin(2 * Math.PI * i / (15 + s)) + 0.1 * rnd[s].nextGaussian();
                if (s % 6 == 1 && i == 70) {
                    v += 12; // spike
                }
                if (s == 13 && i >= 85) {
                    v += 6; // level shift
                }
                out.add(reading(topic, key(s), ts(s, i), v));
            }
            switch (i) {
                case 10 -> out.add(bad(raw(topic, key(3), ts(3, i), "{oops")));
                case 25 -> out.add(bad(new ProducerRecord<>(topic, 2, ts(4, i), null, json(ts(4, i), 1.5)))); // no key
                case 40 -> out.add(bad(raw(topic, key(8), ts(8, i), String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[1.0,2.0]}", ts(8, i)))));
                case 50 -> out.add(bad(reading(topic, key(2), ts(2, i) - 1_800_000, 3.0))); // older than the last: out-of-order
                case 65 -> out.add(bad(raw(topic, key(9), ts(9, i), String.format(Locale.ROOT, "{\"ts\":%d}", ts(9, i)))));
                case 80 -> out.add(bad(new ProducerRecord<>(topic, (Integer) null, (Long) ts(5, i), bytes(key(5)), (byte[]) null))); // tombstone
                case 95 -> out.add(bad(raw(topic, key(20), ts(20, i), "[1,2")));
                case 100 -> out.add(bad(reading(topic, key(15), ts(15, i) - 600_000, 7.0)));
                default -> { }
            }
        }
        return out;
    }

    /**
     * Header on the input's bad records: the test's own bookkeeping. A dead letter copies its input
     * record's headers, so it is part of the compared input (the same in every run).
     */
    static final String BAD_MARK = "crash-it.bad";

    static ProducerRecord<byte[], byte[]> bad(ProducerRecord<byte[], byte[]> r) {
        r.headers().add(BAD_MARK, new byte[0]);
        return r;
    }

    static String key(int s) {
        return String.format(Locale.ROOT, "s-%02d", s);
    }

    /** Streams whose readings pause for two hours before reading {@link #GAP_AT} (the pipeline's max_gap_ms is one hour). */
    static final int[] GAP_STREAMS = {7, 19};
    static final int GAP_AT = 60;

    /** Event time of stream {@code s}'s reading {@code i}, one a minute, with the gaps above. */
    static long ts(int s, int i) {
        long gap = (s == GAP_STREAMS[0] || s == GAP_STREAMS[1]) && i >= GAP_AT ? 2 * 3_600_000L : 0;
        return T0 + 1_000L * s + 60_000L * i + gap;
    }

    static ProducerRecord<byte[], byte[]> reading(String topic, String key, long ts, double v) {
        return new ProducerRecord<>(topic, null, ts, bytes(key), json(ts, v));
    }

    static ProducerRecord<byte[], byte[]> raw(String topic, String key, long ts, String value) {
        return new ProducerRecord<>(topic, null, ts, bytes(key), bytes(value));
    }

    static byte[] json(long ts, double v) {
        return bytes(String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", ts, Double.toString(v)));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Good readings among the first {@code n} records of {@link #input}: the bad ones are those that {@link #bad} marks. */
    static int goodIn(List<ProducerRecord<byte[], byte[]>> records, int n) {
        int good = 0;
        for (int i = 0; i < n; i++) {
            good += records.get(i).headers().lastHeader(BAD_MARK) == null ? 1 : 0;
        }
        return good;
    }

    static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // Keep retrying through a broker outage: idempotence keeps the retries free of duplicates.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 300_000);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * A pipeline file for one scenario: topology/sensor-anomaly.yaml as shipped, with the scenario's
     * application id and topics, the model manifest as an absolute path, a short warm-up (so that a
     * short input alerts), a one-hour gap limit and {@code standbys} standby replicas.
     */
    static Path pipelineYaml(String scenario, int standbys) throws IOException {
        Path shipped = Path.of("topology/sensor-anomaly.yaml").toAbsolutePath();
        PipelineTopics t = topics(scenario);
        String y = Files.readString(shipped, StandardCharsets.UTF_8);
        y = set(y, "application_id", "crash-it-" + scenario);
        y = set(y, "input", t.name("input"));
        y = set(y, "predictions", t.name("predictions"));
        y = set(y, "anomalies", t.name("anomalies"));
        y = set(y, "dead_letter", t.deadLetter());
        y = set(y, "state_events", t.stateEvents());
        y = set(y, "partitions", Integer.toString(PARTITIONS));
        y = set(y, "manifest", shipped.getParent().resolve("../models/sensor-forecaster/sensor-gru.yaml").normalize().toString());
        y = set(y, "warmup_steps", "30");
        y = set(y, "max_gap_ms", "3600000");
        y = set(y, "commit_interval_ms", "100");
        y = set(y, "standby_replicas", Integer.toString(standbys));
        y = set(y, "port", "0");
        Path file = work.resolve(scenario + ".yaml");
        Files.writeString(file, y, StandardCharsets.UTF_8);
        return file;
    }

    static PipelineTopics topics(String scenario) {
        return Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).topics().withSuffix("-crash-" + scenario).withPartitions(PARTITIONS);
    }

    /** Sets the one line {@code key: ...} of the YAML text (its value and comment) to {@code key: value}. */
    private static String set(String yaml, String key, String value) {
        Matcher m = Pattern.compile("(?m)^(\\s*)" + Pattern.quote(key) + ":.*$").matcher(yaml);
        assertTrue(m.find(), "topology/sensor-anomaly.yaml has a '" + key + ":' line");
        int start = m.start();
        int end = m.end();
        String indent = m.group(1);
        assertFalse(m.find(), "topology/sensor-anomaly.yaml has one '" + key + ":' line");
        return yaml.substring(0, start) + indent + key + ": " + value + yaml.substring(end);
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Scenario plumbing

    interface Body {
        void run(Scenario s) throws Exception;
    }

    /** Runs one scenario; on failure the child processes' logs are attached to the error. */
    static void scenario(String name, int standbys, String bootstrap, Body body) throws Exception {
        long t0 = System.nanoTime();
        Scenario s = new Scenario(name, standbys, bootstrap);
        try {
            body.run(s);
        } catch (Throwable e) {
            e.addSuppressed(new AssertionError("logs of scenario " + name + ":\n" + s.logs()));
            throw e;
        } finally {
            s.close();
            System.out.printf(Locale.ROOT, "scenario %s: %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** One scenario's topics, pipeline file, Engram processes, input feeder and output counter. */
    static final class Scenario implements AutoCloseable {
        final String name;
        final String bootstrap;
        final PipelineTopics topics;
        final Path yaml;
        final Path dir;
        final List<ProducerRecord<byte[], byte[]>> input;
        final List<EngramProcess> processes = new ArrayList<>();
        final Feeder feeder;
        final long t0 = System.nanoTime();

        Scenario(String name, int standbys, String bootstrap) throws IOException {
            this.name = name;
            this.bootstrap = bootstrap;
            this.topics = topics(name);
            this.yaml = pipelineYaml(name, standbys);
            this.dir = work.resolve(name);
            this.input = input(topics.name("input"));
            // Created here, before any Engram instance (which would create them too), so that the
            // feeder never waits for metadata.
            EmbeddedKafka.createTopics(bootstrap, PARTITIONS, (short) 1,
                    Stream.concat(Stream.of(topics.name("input")), topics.except("input").stream()).toArray(String[]::new));
            this.feeder = new Feeder(producer(bootstrap), input);
        }

        int inputSize() {
            return input.size();
        }

        Path stateDir(String instance) {
            return dir.resolve("state-" + instance);
        }

        /** Starts an instance with state directory {@code stateDir(instance)} and its own log. */
        EngramProcess start(String name, String instance) {
            EngramProcess p = EngramProcess.start(name, yaml, bootstrap, stateDir(instance), dir.resolve(name + ".log"), FAST_FAILOVER);
            processes.add(p);
            log("started " + name);
            return p;
        }

        /**
         * Kills {@code p} with SIGKILL once it has committed some output (the last stable offsets of
         * the predictions topic add up to {@code committed}) and a transaction is open on the
         * predictions topic (its last stable offset is behind its end on some partition), so that
         * the kill lands between a transaction's first write and its commit: those writes must never
         * become visible. Kills anyway, and says so, if no open transaction is seen in time.
         */
        void killInTransaction(EngramProcess p, int committed) throws Exception {
            boolean open = Outputs.awaitOpenTransaction(bootstrap, topics.name("predictions"), committed, DRAIN);
            int sent = feeder.sent();
            p.kill();
            if (!open) {
                log("no open transaction seen before the kill");
            }
            log("killed " + p.name() + " (SIGKILL) with " + sent + " of " + input.size() + " input records sent, "
                    + OutputCounter.count(bootstrap, topics.name("predictions"), IsolationLevel.READ_COMMITTED) + " predictions committed and "
                    + OutputCounter.count(bootstrap, topics.name("predictions"), IsolationLevel.READ_UNCOMMITTED) + " written");
        }

        /**
         * Sends the first {@code n} input records as fast as the producer goes, more than Engram
         * processes in that time, so that a kill that follows lands while it is busy; the rest goes
         * at the feeder's usual pace.
         */
        void sendBacklog(int n) throws InterruptedException {
            feeder.pace(0);
            feeder.allow(n);
            feeder.awaitSent(n, DRAIN);
            feeder.pace(Feeder.PAUSE_MS);
            log(n + " records sent");
        }

        void awaitPredictions(int n) {
            int got = OutputCounter.awaitAtLeast(bootstrap, topics.name("predictions"), n, DRAIN);
            if (got < n) {
                throw new AssertionError(name + ": " + got + " committed predictions after " + DRAIN + ", expected at least " + n);
            }
        }

        /**
         * Waits until all the input is sent and processed and no transaction is open on the output
         * topics, then compares every output topic with the reference run's.
         */
        void assertSameAsReference() throws Exception {
            feeder.allow(input.size());
            feeder.awaitSent(input.size(), DRAIN);
            Outputs got = Outputs.awaitComplete(bootstrap, topics, reference);
            log("output: " + got.summary() + "; "
                    + (OutputCounter.count(bootstrap, topics.name("predictions"), IsolationLevel.READ_UNCOMMITTED) - got.total("predictions"))
                    + " prediction records written in aborted transactions");
            List<String> diffs = reference.diff(got);
            if (!diffs.isEmpty()) {
                throw new AssertionError("scenario " + name + ": the output differs from the uninterrupted run's ("
                        + diffs.size() + " differences; reference " + reference.summary() + ", got " + got.summary() + "):\n  "
                        + String.join("\n  ", diffs.subList(0, Math.min(20, diffs.size()))));
            }
        }

        void log(String what) {
            System.out.printf(Locale.ROOT, "[%s +%.1f s] %s%n", name, (System.nanoTime() - t0) / 1e9, what);
        }

        String logs() {
            StringBuilder b = new StringBuilder();
            for (EngramProcess p : processes) {
                b.append("----- ").append(p.name()).append(p.alive() ? " (alive)" : " (dead)").append(" -----\n")
                        .append(p.tail(80)).append('\n');
            }
            return b.toString();
        }

        @Override
        public void close() throws InterruptedException {
            feeder.close();
            for (EngramProcess p : processes) {
                p.close();
                log(p.name() + " active tasks, assignment by assignment: " + p.assignments());
            }
        }
    }

    /**
     * Sends the input in order, in chunks with a short pause between them, up to a limit that the
     * test raises ({@link #allow}): records keep flowing while processes are killed and started.
     * Each chunk is flushed, so {@link #sent()} counts acknowledged records; through a broker outage
     * the flush waits and the idempotent producer retries.
     */
    static final class Feeder implements AutoCloseable {
        static final int CHUNK = 48;
        static final long PAUSE_MS = 30;
        private volatile long pauseMs = PAUSE_MS;
        private final KafkaProducer<byte[], byte[]> producer;
        private final List<ProducerRecord<byte[], byte[]>> records;
        private final Thread thread;
        private int limit;
        private int sent;
        private volatile boolean closed;
        private volatile Throwable failure;

        Feeder(KafkaProducer<byte[], byte[]> producer, List<ProducerRecord<byte[], byte[]>> records) {
            this.producer = producer;
            this.records = records;
            this.thread = new Thread(this::run, "crash-it-feeder");
            thread.setDaemon(true);
            thread.start();
        }

        /** Pause between chunks from now on. */
        void pace(long ms) {
            pauseMs = ms;
        }

        synchronized void allow(int upTo) {
            limit = Math.max(limit, Math.min(upTo, records.size()));
            notifyAll();
        }

        synchronized int sent() {
            return sent;
        }

        synchronized void awaitSent(int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (sent < n && failure == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("only " + sent + " of " + n + " input records sent after " + timeout);
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            if (failure != null) {
                throw new AssertionError("sending the input failed", failure);
            }
        }

        private void run() {
            try {
                while (!closed) {
                    int from;
                    int to;
                    synchronized (this) {
                        while (sent >= limit && !closed) {
                            wait();
                        }
                        from = sent;
                        to = Math.min(limit, sent + CHUNK);
                    }
                    if (closed) {
                        return;
                    }
                    for (int i = from; i < to; i++) {
                        producer.send(records.get(i));
                    }
                    producer.flush();
                    synchronized (this) {
                        sent = to;
                        notifyAll();
                    }
                    if (pauseMs > 0) {
                        Thread.sleep(pauseMs);
                    }
                }
            } catch (InterruptedException e) {
                // closed
            } catch (Throwable t) {
                failure = t;
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            synchronized (this) {
                notifyAll();
            }
            thread.interrupt();
            thread.join(10_000);
            producer.close(Duration.ofSeconds(5));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Reading and comparing the outputs

    /** Counts a topic's records from the start (no consumer group: partitions assigned directly). */
    static final class OutputCounter {
        static int awaitAtLeast(String bootstrap, String topic, int n, Duration timeout) {
            try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
                c.assign(partitions(topic));
                c.seekToBeginning(c.assignment());
                int count = 0;
                long deadline = System.nanoTime() + timeout.toNanos();
                while (count < n && System.nanoTime() < deadline) {
                    count += c.poll(Duration.ofMillis(100)).count();
                }
                return count;
            }
        }

        /** Records up to the end offsets for {@code isolation} (the last stable offset for read_committed). */
        static int count(String bootstrap, String topic, IsolationLevel isolation) {
            try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, isolation)) {
                return readToEnd(c, topic, Duration.ofSeconds(60)).size();
            }
        }
    }

    static List<TopicPartition> partitions(String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            tps.add(new TopicPartition(topic, p));
        }
        return tps;
    }

    static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, IsolationLevel isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.toString().toLowerCase(Locale.ROOT));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** Every record of {@code topic} from the start up to the end offsets the consumer sees now. */
    static List<ConsumerRecord<byte[], byte[]>> readToEnd(KafkaConsumer<byte[], byte[]> c, String topic, Duration timeout) {
        List<TopicPartition> tps = partitions(topic);
        c.assign(tps);
        c.seekToBeginning(tps);
        Map<TopicPartition, Long> end = c.endOffsets(tps);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("reading " + topic + " up to " + end + " took over " + timeout);
            }
            c.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        return out;
    }

    /**
     * One output record as compared: its timestamp and value bytes and, for dead letters, the
     * reason and message headers (the source offset and partition headers are left out: they
     * name the scenario's own input topic).
     */
    record Rec(long timestamp, byte[] value, String reason, String message) {
        static Rec of(String role, ConsumerRecord<byte[], byte[]> r) {
            boolean dead = role.equals("dead letters");
            return new Rec(r.timestamp(), r.value(), dead ? header(r, DeadLetterHandler.H_REASON) : null,
                    dead ? header(r, DeadLetterHandler.H_MESSAGE) : null);
        }

        private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
            Header h = r.headers().lastHeader(name);
            return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }

        /** Equal canonical forms = equal timestamps, headers compared and value bytes. */
        String canonical() {
            String v;
            if (value == null) {
                v = "null";
            } else {
                String s = new String(value, StandardCharsets.UTF_8);
                v = java.util.Arrays.equals(s.getBytes(StandardCharsets.UTF_8), value) ? s : "base64:" + Base64.getEncoder().encodeToString(value);
            }
            return "ts=" + timestamp + (reason != null ? " reason=" + reason + " message=" + message : "") + " value=" + v;
        }
    }

    /** All output topics of a run: role -> key -> that key's records in offset order. */
    static final class Outputs {
        static final String NO_KEY = "<no key>";
        final Map<String, Map<String, List<Rec>>> byRole = new LinkedHashMap<>();

        int total(String role) {
            return byRole.get(role).values().stream().mapToInt(List::size).sum();
        }

        String summary() {
            StringBuilder b = new StringBuilder();
            for (String role : ROLES) {
                b.append(b.length() > 0 ? ", " : "").append(total(role)).append(' ').append(role);
            }
            return b.toString();
        }

        /**
         * Waits until the predictions and dead letters of the whole input are committed (and, given a
         * reference, as many alerts and state events as it has), and until no transaction is open on
         * any output partition (a late commit would add records; a killed instance's open transaction
         * is aborted by the broker after the transaction timeout), then reads every output topic up
         * to its end with read_committed.
         */
        static Outputs awaitComplete(String bootstrap, PipelineTopics t, Outputs ref) throws Exception {
            Map<String, Integer> expect = new HashMap<>();
            expect.put(t.name("predictions"), GOOD);
            expect.put(t.deadLetter(), BAD);
            if (ref != null) {
                expect.put(t.name("anomalies"), ref.total("anomalies"));
                expect.put(t.stateEvents(), ref.total("state events"));
            }
            for (Map.Entry<String, Integer> e : expect.entrySet()) {
                int got = OutputCounter.awaitAtLeast(bootstrap, e.getKey(), e.getValue(), DRAIN);
                if (got < e.getValue()) {
                    throw new AssertionError(e.getKey() + ": " + got + " committed records after " + DRAIN + ", expected " + e.getValue());
                }
            }
            awaitNoOpenTransactions(bootstrap, t.except("input"), DRAIN);
            Outputs o = new Outputs();
            List<String> names = t.except("input");
            try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
                for (int i = 0; i < ROLES.size(); i++) {
                    String role = ROLES.get(i);
                    Map<String, List<Rec>> byKey = new TreeMap<>();
                    for (ConsumerRecord<byte[], byte[]> r : readToEnd(c, names.get(i), DRAIN)) {
                        String key = r.key() == null ? NO_KEY : new String(r.key(), StandardCharsets.UTF_8);
                        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(Rec.of(role, r));
                    }
                    // Records without a key have no order between them (the producer spreads them over partitions).
                    if (byKey.containsKey(NO_KEY)) {
                        byKey.get(NO_KEY).sort(Comparator.comparing(Rec::canonical));
                    }
                    o.byRole.put(role, byKey);
                }
            }
            return o;
        }

        /**
         * Waits until the last stable offsets of {@code topic} add up to at least {@code committed}
         * and some partition's is behind its end (a transaction is open there); false on timeout.
         */
        static boolean awaitOpenTransaction(String bootstrap, String topic, int committed, Duration timeout) throws Exception {
            Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
            partitions(topic).forEach(tp -> specs.put(tp, OffsetSpec.latest()));
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (Admin admin = Admin.create(p)) {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (System.nanoTime() < deadline) {
                    var high = admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all().get(30, TimeUnit.SECONDS);
                    var stable = admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get(30, TimeUnit.SECONDS);
                    long lso = stable.values().stream().mapToLong(i -> i.offset()).sum();
                    if (lso >= committed && specs.keySet().stream().anyMatch(tp -> stable.get(tp).offset() < high.get(tp).offset())) {
                        return true;
                    }
                    Thread.sleep(5);
                }
                return false;
            }
        }

        /** Waits until every partition's last stable offset equals its high watermark. */
        static void awaitNoOpenTransactions(String bootstrap, List<String> topics, Duration timeout) throws Exception {
            Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
            for (String topic : topics) {
                for (TopicPartition tp : partitions(topic)) {
                    specs.put(tp, OffsetSpec.latest());
                }
            }
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (Admin admin = Admin.create(p)) {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (true) {
                    var stable = admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get(30, TimeUnit.SECONDS);
                    var high = admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all().get(30, TimeUnit.SECONDS);
                    List<TopicPartition> open = specs.keySet().stream()
                            .filter(tp -> stable.get(tp).offset() != high.get(tp).offset()).toList();
                    if (open.isEmpty()) {
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("transactions still open after " + timeout + " on " + open);
                    }
                    Thread.sleep(200);
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException("listing offsets", e.getCause());
            }
        }

        /** Every difference between this (the reference) and {@code got}: totals, then the first differing record per key. */
        List<String> diff(Outputs got) {
            List<String> out = new ArrayList<>();
            for (String role : ROLES) {
                if (total(role) != got.total(role)) {
                    out.add(role + ": " + got.total(role) + " records, expected " + total(role));
                }
                Map<String, List<Rec>> want = byRole.get(role);
                Map<String, List<Rec>> have = got.byRole.get(role);
                TreeMap<String, Boolean> keys = new TreeMap<>();
                want.keySet().forEach(k -> keys.put(k, true));
                have.keySet().forEach(k -> keys.put(k, true));
                for (String key : keys.keySet()) {
                    List<Rec> w = want.getOrDefault(key, List.of());
                    List<Rec> h = have.getOrDefault(key, List.of());
                    int n = Math.max(w.size(), h.size());
                    for (int i = 0; i < n; i++) {
                        String a = i < w.size() ? w.get(i).canonical() : "(none)";
                        String b = i < h.size() ? h.get(i).canonical() : "(none)";
                        if (!a.equals(b)) {
                            out.add(String.format(Locale.ROOT, "%s, key %s: %d records, expected %d; first difference at record %d:%n"
                                    + "      expected %s%n      got      %s", role, key, h.size(), w.size(), i, a, b));
                            break;
                        }
                    }
                }
            }
            return out;
        }
    }
}

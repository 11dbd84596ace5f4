package io.engram.tools.soak;

import io.engram.tools.harness.EngramProcess;
import io.engram.tools.harness.Feeder;
import io.engram.tools.harness.RunOutputs;
import io.engram.tools.harness.TopicReader;
import io.engram.tools.kafka.KafkaClients;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The multi-fault soak ({@code engram soak}): the sensor and video pipelines, each with several
 * {@code engram run} instances (child JVMs, as in production), under continuous ingest on an
 * in-process broker, while faults chosen at random from a fixed seed hit them: {@code kill -9} of
 * an instance, a graceful restart, a kill with its state directory deleted, a broker restart, an
 * instance joining. At the end every output topic, read with {@code read_committed}, must equal
 * the outputs of one uninterrupted run over the same input (run first, in this JVM, on a broker of
 * its own), per key and byte for byte.
 *
 * <p>It reports the records processed, the faults injected, the records lost and duplicated, and
 * the longest recovery: from a fault to the moment every partition of the pipeline's predictions
 * topic that had output before it has new committed output again.
 *
 * <p>Lifecycle: {@link #run} owns everything it starts (brokers, child processes, clients) and
 * stops it all before it returns or throws; the work directory is deleted unless kept.
 */
public final class Soak {
    /**
     * A killed member never leaves its group: the survivors (or its restart) get its partitions only
     * when its session expires. 6 s is the broker's minimum ({@code group.min.session.timeout.ms});
     * the default 45 s would make each kill's recovery 45 s long.
     */
    public static final Map<String, String> FAST_FAILOVER = Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "1000");
    static final Duration START = Duration.ofMinutes(2);
    static final Duration SETTLE = Duration.ofMinutes(3);
    /** A fault's recovery is given up on (and reported as such) after this long. */
    static final Duration RECOVERY_LIMIT = Duration.ofMinutes(2);

    /** The faults, each injected into running pipelines under ingest. */
    public enum Fault {
        KILL("kill -9 of an instance, restarted on its state"),
        RESTART("graceful restart of an instance (SIGTERM)"),
        LOST_STATE("kill -9 of an instance, its state directory deleted, restarted"),
        BROKER_RESTART("broker restart (controlled shutdown, down, started again)"),
        JOIN("a new instance joins (the oldest extra leaves first at the cap)");

        public final String description;

        Fault(String description) {
            this.description = description;
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * @param duration how long ingest lasts (the input is sized for it at the given rates)
     * @param seed picks the input and the faults: the same seed gives the same input and fault sequence
     * @param instances instances of each pipeline at the start
     * @param pipelines pipeline files, each an anomaly (sensor) or a video-activity pipeline
     * @param samples a folder of camera folders of PNG frames (video input)
     * @param work a directory for brokers' data, state directories and logs
     * @param sensorRate sensor readings sent per second
     * @param videoRate video frames sent per second
     * @param faultEvery the mean time between faults
     * @param brokerDown how long a broker restart keeps the broker down
     * @param standbys standby replicas of each task
     */
    public record Options(Duration duration, long seed, int instances, List<Path> pipelines, Path samples, Path work,
            double sensorRate, double videoRate, Duration faultEvery, Duration brokerDown, int standbys, boolean keep) {}

    /** The recovery of one injected fault. */
    public record Injected(Fault fault, String target, double atSeconds, double recoverySeconds) {
        public boolean recovered() {
            return recoverySeconds >= 0;
        }
    }

    /** One pipeline's result. */
    public record PipelineResult(String pipeline, int input, int good, int bad, int referenceRecords, int outputRecords,
            int lost, int duplicated, int different, List<String> diff) {
        public boolean equal() {
            return diff.isEmpty();
        }
    }

    /** The soak's figures. */
    public record Report(long seed, double seconds, double ingestSeconds, List<PipelineResult> pipelines, List<Injected> faults) {
        public boolean passed() {
            return pipelines.stream().allMatch(PipelineResult::equal) && faults.stream().allMatch(Injected::recovered);
        }

        public int lost() {
            return pipelines.stream().mapToInt(PipelineResult::lost).sum();
        }

        public int duplicated() {
            return pipelines.stream().mapToInt(PipelineResult::duplicated).sum();
        }

        /** Faults injected, by kind. */
        public Map<Fault, Integer> counts() {
            Map<Fault, Integer> m = new EnumMap<>(Fault.class);
            faults.forEach(f -> m.merge(f.fault(), 1, Integer::sum));
            return m;
        }

        /** The longest recovery of each kind of fault, in seconds. */
        public Map<Fault, Double> longestRecovery() {
            Map<Fault, Double> m = new EnumMap<>(Fault.class);
            faults.forEach(f -> m.merge(f.fault(), f.recoverySeconds(), Math::max));
            return m;
        }

        /** The report as printed by {@code engram soak}. */
        public String text() {
            StringBuilder b = new StringBuilder();
            int input = pipelines.stream().mapToInt(PipelineResult::input).sum();
            b.append(String.format(Locale.ROOT, "soak: seed %d, %.0f s, %s; %d input records sent in %.0f s (%.0f/s) under %d faults%n",
                    seed, seconds, passed() ? "PASSED" : "FAILED", input, ingestSeconds, input / ingestSeconds, faults.size()));
            b.append(String.format(Locale.ROOT, "%-16s %8s %8s %6s %10s %10s %6s %6s %6s%n", "pipeline", "input", "good", "bad",
                    "expected", "got", "lost", "dup", "diff"));
            for (PipelineResult p : pipelines) {
                b.append(String.format(Locale.ROOT, "%-16s %8d %8d %6d %10d %10d %6d %6d %6d%n", p.pipeline(), p.input(), p.good(), p.bad(),
                        p.referenceRecords(), p.outputRecords(), p.lost(), p.duplicated(), p.different()));
            }
            b.append(String.format(Locale.ROOT, "%-16s %6s %14s%n", "fault", "count", "longest recovery"));
            Map<Fault, Double> longest = longestRecovery();
            counts().forEach((f, n) -> b.append(String.format(Locale.ROOT, "%-16s %6d %14s%n", f.id(), n,
                    longest.get(f) < 0 ? "NOT RECOVERED" : String.format(Locale.ROOT, "%.1f s", longest.get(f)))));
            for (Injected f : faults) {
                b.append(String.format(Locale.ROOT, "  at %6.1f s  %-15s %-28s recovered in %s%n", f.atSeconds(), f.fault().id(), f.target(),
                        f.recovered() ? String.format(Locale.ROOT, "%.1f s", f.recoverySeconds()) : "NOT RECOVERED"));
            }
            for (PipelineResult p : pipelines) {
                p.diff().stream().limit(10).forEach(d -> b.append("  ").append(p.pipeline()).append(": ").append(d).append('\n'));
            }
            return b.toString();
        }

        /** The report as JSON, for {@code --report}. */
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seed", seed);
            m.put("seconds", seconds);
            m.put("ingest_seconds", ingestSeconds);
            m.put("passed", passed());
            m.put("lost", lost());
            m.put("duplicated", duplicated());
            m.put("pipelines", pipelines);
            Map<String, Object> kinds = new LinkedHashMap<>();
            Map<Fault, Double> longest = longestRecovery();
            counts().forEach((f, n) -> kinds.put(f.id(), Map.of("count", n, "longest_recovery_s", longest.get(f))));
            m.put("faults_by_kind", kinds);
            m.put("faults", faults);
            return m;
        }
    }

    private final Options o;
    private final PrintStream log;
    private final Random random;
    private final List<Lane> lanes = new ArrayList<>();
    private EmbeddedKafka broker;
    private int port;
    private Path kafkaData;
    private long t0;

    private Soak(Options o, PrintStream log) {
        this.o = o;
        this.log = log;
        this.random = new Random(o.seed());
    }

    /** Runs the soak; progress goes to {@code log}. */
    public static Report run(Options o, PrintStream log) throws Exception {
        Files.createDirectories(o.work());
        Soak s = new Soak(o, log);
        try {
            return s.soak();
        } finally {
            s.closeAll();
            if (!o.keep()) {
                deleteRecursively(o.work());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** One pipeline in the soak: its file, input, reference outputs and running instances. */
    private final class Lane {
        final Path yaml;
        final PipelineSpec spec;
        final String applicationId;
        final SoakInput input;
        final boolean video;
        final List<String> outputRoles = new ArrayList<>();
        final List<String> consumed = new ArrayList<>();
        final List<EngramProcess> live = new ArrayList<>();
        RunOutputs reference;
        Feeder feeder;
        int started;

        Lane(Path yaml) {
            this.yaml = yaml.toAbsolutePath();
            PipelineSpec loaded = Pipelines.load(this.yaml);
            this.applicationId = loaded.applicationId() + "-soak";
            this.spec = loaded.withApplicationId(applicationId);
            this.video = spec.kind() == VideoActivityPipeline.INSTANCE;
            boolean sensor = spec.kind() == AnomalyPipeline.INSTANCE
                    && spec.settings(AnomalyPipeline.INSTANCE).format() == ForecastSettings.Format.JSON;
            if (!video && !sensor) {
                throw new ConfigException("cannot soak " + this.yaml + " (type " + spec.kind().type() + "): the soak makes input for"
                        + " sensor (anomaly, JSON readings) and video-activity pipelines. Fix: give --pipeline such a file");
            }
            int total = (int) Math.max(1, Math.round((video ? o.videoRate() : o.sensorRate()) * o.duration().toMillis() / 1000.0));
            String inputRole = video ? "frames" : "input";
            String topic = spec.topics().name(inputRole);
            this.input = video ? SoakInput.video(topic, o.seed(), 6, total, o.samples()) : SoakInput.sensor(topic, o.seed(), 32, total);
            // Every used topic but the input is compared; what the pipeline consumes (in the split video
            // layout, the features topic too) must be consumed to the end before the outputs are read.
            List<String> outputs = spec.outputTopics();
            spec.topics().names().forEach((role, t) -> {
                if (outputs.contains(t) && !outputRoles.contains(role)) {
                    outputRoles.add(role);
                }
            });
            consumed.addAll(spec.consumedTopics());
        }

        String name() {
            return spec.name();
        }

        String predictions() {
            return spec.topics().name("predictions");
        }

        List<String> outputTopics() {
            return outputRoles.stream().map(spec.topics()::name).toList();
        }

        /** Starts a new instance on a new state directory, or on {@code stateDir} (a restart). */
        EngramProcess start(Path stateDir) {
            String id = name() + "-" + (char) ('a' + started++);
            Path dir = stateDir != null ? stateDir : o.work().resolve("state").resolve(id);
            Map<String, String> props = new LinkedHashMap<>(FAST_FAILOVER);
            props.put("num.standby.replicas", String.valueOf(o.standbys()));
            EngramProcess p = EngramProcess.start(id, yaml, bootstrap(), dir, o.work().resolve("logs").resolve(id + ".log"), props,
                    List.of("--application-id", applicationId));
            live.add(p);
            return p;
        }

        /** Output records (every role), per key, as the run left them. */
        RunOutputs settleAndRead(String bootstrap) {
            TopicReader.awaitSettled(bootstrap, TopicReader.Settle.outputs(outputTopics()).consumedBy(applicationId, consumed), SETTLE);
            return RunOutputs.read(bootstrap, spec.topics(), outputRoles, SETTLE);
        }
    }

    private Report soak() throws Exception {
        t0 = System.nanoTime();
        for (Path p : o.pipelines()) {
            lanes.add(new Lane(p));
        }
        reference();
        kafkaData = o.work().resolve("kafka");
        broker = EmbeddedKafka.start(0, kafkaData, true);
        port = broker.port();
        for (Lane l : lanes) {
            EmbeddedKafka.createTopics(bootstrap(), l.spec.topics().partitions(), (short) 1, l.spec.usedTopics().toArray(String[]::new));
        }
        List<Injected> injected = new ArrayList<>();
        double ingestSeconds;
        try (OutputWatch watch = new OutputWatch(bootstrap(), lanes.stream()
                .collect(java.util.stream.Collectors.toMap(Lane::predictions, l -> l.spec.topics().partitions())))) {
            for (Lane l : lanes) {
                for (int i = 0; i < o.instances(); i++) {
                    l.start(null);
                }
            }
            for (Lane l : lanes) {
                for (EngramProcess p : l.live) {
                    p.awaitRunning(START);
                }
            }
            say("%d pipelines x %d instances running on %s", lanes.size(), o.instances(), bootstrap());
            long ingestStart = System.nanoTime();
            for (Lane l : lanes) {
                double rate = l.video ? o.videoRate() : o.sensorRate();
                int chunk = (int) Math.max(1, Math.round(rate / 10));
                l.feeder = new Feeder(KafkaClients.producer(bootstrap()), l.input.records(), chunk, 100);
                l.feeder.allow(l.input.records().size());
            }
            injected.addAll(faults(watch, ingestStart));
            for (Lane l : lanes) {
                l.feeder.awaitSent(l.input.records().size(), SETTLE);
            }
            ingestSeconds = (System.nanoTime() - ingestStart) / 1e9;
            say("all input sent");
        }
        List<PipelineResult> results = new ArrayList<>();
        for (Lane l : lanes) {
            RunOutputs got = l.settleAndRead(bootstrap());
            results.add(compare(l, got));
        }
        return new Report(o.seed(), (System.nanoTime() - t0) / 1e9, ingestSeconds, results, injected);
    }

    /** The uninterrupted run: every pipeline in this JVM, on a broker of its own, over the whole input at once. */
    private void reference() throws Exception {
        long t = System.nanoTime();
        try (EmbeddedKafka ref = EmbeddedKafka.start(0, null, true)) {
            List<PipelineRunner> runners = new ArrayList<>();
            try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(ref.bootstrapServers())) {
                for (Lane l : lanes) {
                    runners.add(PipelineRunner.start(l.spec.withMetricsPort(0), ref.bootstrapServers(),
                            o.work().resolve("reference-state"), new SimpleMeterRegistry()));
                }
                for (PipelineRunner r : runners) {
                    if (!r.awaitRunning(START)) {
                        throw new IllegalStateException("reference pipeline " + r.name() + " not running after " + START);
                    }
                }
                for (Lane l : lanes) {
                    for (ProducerRecord<byte[], byte[]> r : l.input.records()) {
                        producer.send(r);
                    }
                }
                producer.flush();
                for (Lane l : lanes) {
                    l.reference = l.settleAndRead(ref.bootstrapServers());
                    int predictions = l.reference.total("predictions");
                    int dead = l.reference.total(io.engram.engine.kafka.TopicRole.DEAD_LETTER.key());
                    int bad = l.input.bad();
                    if (predictions != l.input.good() || dead != bad) {
                        throw new IllegalStateException(String.format(Locale.ROOT,
                                "reference run of %s: %d predictions for %d good records, %d dead letters for %d bad ones",
                                l.name(), predictions, l.input.good(), dead, bad));
                    }
                    say("reference %s: %d input records -> %s", l.name(), l.input.records().size(), l.reference.summary());
                }
            } finally {
                runners.forEach(PipelineRunner::close);
            }
        }
        say("reference runs done in %.1f s", (System.nanoTime() - t) / 1e9);
    }

    /**
     * Injects faults while the input flows: random gaps around {@code faultEvery} from half a gap
     * after ingest starts, each kind once in a random order first, then at random, until 80% of the
     * planned ingest time has passed (the first round goes on past it); each waits for the previous
     * one's recovery. None is injected once a pipeline has sent 90% of its input, since recovery is
     * measured on new output.
     */
    private List<Injected> faults(OutputWatch watch, long ingestStart) throws Exception {
        List<Injected> out = new ArrayList<>();
        long end = ingestStart + (long) (o.duration().toNanos() * 0.8);
        List<Fault> firstRound = new ArrayList<>(List.of(Fault.values()));
        Collections.shuffle(firstRound, random);
        long next = ingestStart + o.faultEvery().toNanos() / 2;
        while (true) {
            long gap = (long) (o.faultEvery().toNanos() * (0.5 + random.nextDouble()));
            Fault f = !firstRound.isEmpty() ? firstRound.remove(0) : Fault.values()[random.nextInt(Fault.values().length)];
            Lane lane = lanes.get(random.nextInt(lanes.size()));
            long wait = next - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000);
            }
            boolean inputLeft = lanes.stream().allMatch(l -> l.feeder.sent() < 0.9 * l.input.records().size());
            if (!inputLeft || (System.nanoTime() > end && out.size() >= Fault.values().length)) {
                break;
            }
            out.add(inject(f, lane, watch));
            next = Math.max(next + gap, System.nanoTime());
        }
        return out;
    }

    private Injected inject(Fault f, Lane lane, OutputWatch watch) throws Exception {
        double at = (System.nanoTime() - t0) / 1e9;
        List<Lane> affected = f == Fault.BROKER_RESTART ? lanes : List.of(lane);
        Map<String, Set<Integer>> expect = new LinkedHashMap<>();
        affected.forEach(l -> expect.put(l.predictions(), watch.partitionsWithOutput(l.predictions())));
        long start = System.nanoTime();
        String target;
        List<EngramProcess> fresh = new ArrayList<>();
        switch (f) {
            case KILL, RESTART, LOST_STATE -> {
                EngramProcess victim = lane.live.get(random.nextInt(lane.live.size()));
                target = victim.name();
                Path dir = victim.stateDir();
                if (f == Fault.RESTART) {
                    victim.stop();
                } else {
                    victim.kill();
                }
                lane.live.remove(victim);
                if (f == Fault.LOST_STATE) {
                    deleteRecursively(dir);
                }
                fresh.add(lane.start(dir));
            }
            case BROKER_RESTART -> {
                target = "broker :" + port;
                broker.close();
                Thread.sleep(o.brokerDown().toMillis()); // the outage itself
                broker = EmbeddedKafka.start(port, kafkaData, true);
            }
            case JOIN -> {
                if (lane.live.size() >= o.instances() + 2) {
                    EngramProcess leaving = lane.live.remove(o.instances());
                    leaving.stop();
                    target = leaving.name() + " leaves, ";
                } else {
                    target = "";
                }
                EngramProcess joining = lane.start(null);
                fresh.add(joining);
                target += joining.name() + " joins";
            }
            default -> throw new IllegalStateException(f.toString());
        }
        watch.mark(); // the fault is done: output from now on is new
        say("fault %s: %s", f.id(), target);
        for (EngramProcess p : fresh) {
            p.awaitRunning(START);
        }
        long recovered = watch.awaitOutputSinceMark(expect, RECOVERY_LIMIT);
        double recovery = recovered >= 0 ? (recovered - start) / 1e9 : -1;
        say("  %s", recovery >= 0 ? String.format(Locale.ROOT, "recovered in %.1f s", recovery) : "NOT recovered in " + RECOVERY_LIMIT);
        return new Injected(f, target, at, recovery);
    }

    private PipelineResult compare(Lane l, RunOutputs got) {
        Counts c = Counts.of(l.reference, got);
        return new PipelineResult(l.name(), l.input.records().size(), l.input.good(), l.input.bad(), c.expected(), c.got(), c.lost(), c.duplicated(),
                c.different(), l.reference.diff(got));
    }

    /**
     * A run's outputs against the reference's, per role and key, as multisets of records: a
     * reference record missing is lost, one present more often than in the reference is
     * duplicated, one the reference never wrote for that key is different. (Order is checked by
     * {@link RunOutputs#diff}.)
     */
    public record Counts(int expected, int got, int lost, int duplicated, int different) {
        public static Counts of(RunOutputs reference, RunOutputs run) {
            int lost = 0;
            int dup = 0;
            int different = 0;
            int want = 0;
            int have = 0;
            for (String role : reference.roles()) {
                Map<String, List<RunOutputs.Rec>> w = reference.role(role);
                Map<String, List<RunOutputs.Rec>> h = run.role(role);
                Set<String> keys = new LinkedHashSet<>(w.keySet());
                keys.addAll(h.keySet());
                for (String key : keys) {
                    Map<String, Integer> counts = new TreeMap<>();
                    for (RunOutputs.Rec r : w.getOrDefault(key, List.of())) {
                        counts.merge(r.canonical(), 1, Integer::sum);
                        want++;
                    }
                    for (RunOutputs.Rec r : h.getOrDefault(key, List.of())) {
                        have++;
                        Integer n = counts.get(r.canonical());
                        if (n == null) {
                            different++;
                        } else if (n == 0) {
                            dup++;
                        } else {
                            counts.put(r.canonical(), n - 1);
                        }
                    }
                    lost += counts.values().stream().mapToInt(Integer::intValue).sum();
                }
            }
            return new Counts(want, have, lost, dup, different);
        }
    }

    private String bootstrap() {
        return "localhost:" + port;
    }

    private void say(String format, Object... args) {
        log.printf(Locale.ROOT, "[%6.1f s] %s%n", t0 == 0 ? 0.0 : (System.nanoTime() - t0) / 1e9, String.format(Locale.ROOT, format, args));
        log.flush();
    }

    private void closeAll() {
        for (Lane l : lanes) {
            if (l.feeder != null) {
                try {
                    l.feeder.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (EngramProcess p : l.live) {
                try {
                    p.stop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (broker != null) {
            broker.close();
        }
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + dir, e);
        }
    }
}

package io.engram.tools.soak;

import io.engram.engine.errors.ConfigException;
import io.engram.tools.harness.RunOutputs;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

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
 * <p>The steps, each a class of its own: every pipeline a {@link SoakLane} (its {@link SoakInput}
 * and its {@link LaneInstances}); the {@link ReferenceRun}; the run under faults,
 * {@link IngestUnderFaults}, on a {@link SoakBroker}, its faults timed by {@link FaultSchedule},
 * injected and measured by {@link FaultInjector} through an {@link OutputWatch}; the
 * {@link OutputComparison}; the {@link Report}, printed by {@link SoakReportFormat}.
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
        KILL("kill -9 of an instance, restarted on its state", false, false),
        RESTART("graceful restart of an instance (SIGTERM)", false, false),
        LOST_STATE("kill -9 of an instance, its state directory deleted, restarted", false, false),
        BROKER_RESTART("broker restart (controlled shutdown, down, started again)", true, false),
        JOIN("a new instance joins (the oldest extra leaves first at the cap)", false, false),
        INPUT_LEADER_KILL("kill -9 of the broker leading one of the pipeline's input partitions, down, started again", true, true),
        CHANGELOG_LEADER_KILL("kill -9 of the broker leading one of the pipeline's changelog partitions, down, started again", true, true),
        ROLLING_RESTART("rolling restart of every broker, each back in sync before the next", true, true),
        BROKER_REPLACED("kill -9 of a broker, its log dir lost; a new broker with its id on an empty one", true, true);

        public final String description;
        /** Whether the fault hits a broker, and so every pipeline. */
        public final boolean broker;
        /** Whether the fault needs a cluster ({@code --brokers 3} or more). */
        public final boolean cluster;

        Fault(String description, boolean broker, boolean cluster) {
            this.description = description;
            this.broker = broker;
            this.cluster = cluster;
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /**
         * Whether the fault kills a broker of a cluster: its recovery counts from the kill, while the
         * broker is still down. Every other fault's counts from when it is over (the instance or broker
         * is back, the restart has gone round).
         */
        public boolean killsBroker() {
            return this == INPUT_LEADER_KILL || this == CHANGELOG_LEADER_KILL || this == BROKER_REPLACED;
        }

        /** The fault with this {@link #id()}. */
        public static Fault ofId(String id) {
            for (Fault f : values()) {
                if (f.id().equals(id)) {
                    return f;
                }
            }
            throw new ConfigException("--faults: no fault '" + id + "'; the faults are " + java.util.Arrays.stream(values()).map(Fault::id).toList());
        }

        /** Every fault that {@code brokers} brokers allow: the cluster's only from 3 on. */
        public static List<Fault> forBrokers(int brokers) {
            return java.util.Arrays.stream(values()).filter(f -> !f.cluster || brokers >= 3).toList();
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
     * @param brokers 1 (one broker in this JVM) or 3 or more (a cluster of broker processes, topics replicated 3 times)
     * @param faults the kinds of fault to inject, each at least once (see {@link Fault#forBrokers})
     */
    public record Options(Duration duration, long seed, int instances, List<Path> pipelines, Path samples, Path work,
            double sensorRate, double videoRate, Duration faultEvery, Duration brokerDown, int standbys, boolean keep,
            int brokers, List<Fault> faults) {
        public Options {
            if (brokers != 1 && brokers < 3) {
                throw new ConfigException("--brokers " + brokers + ": use 1 (one broker) or 3 or more (a replicated cluster)");
            }
            if (faults.isEmpty()) {
                throw new ConfigException("--faults: no fault to inject; give at least one");
            }
            for (Fault f : faults) {
                if (f.cluster && brokers < 3) {
                    throw new ConfigException("fault " + f.id() + " needs a cluster: add --brokers 3");
                }
            }
            faults = List.copyOf(new java.util.LinkedHashSet<>(faults));
        }
    }

    /**
     * The recovery of one injected fault: {@code recoverySeconds} from the fault to new output on
     * every partition that had output before it (-1: not recovered); for a fault that hits a broker of
     * a cluster also {@code inSyncSeconds}, from the fault to every partition's replicas in sync again
     * (-1: not in time; NaN for any other fault, which moves no replica).
     */
    public record Injected(Fault fault, String target, double atSeconds, double recoverySeconds, double inSyncSeconds) {
        public boolean recovered() {
            return recoverySeconds >= 0 && (Double.isNaN(inSyncSeconds) || inSyncSeconds >= 0);
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
    public record Report(long seed, int brokers, double seconds, double ingestSeconds, List<PipelineResult> pipelines, List<Injected> faults) {
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

        /** The longest recovery of each kind of fault, in seconds; -1 where one did not recover. */
        public Map<Fault, Double> longestRecovery() {
            return longest(Injected::recoverySeconds);
        }

        /** The longest time to replicas in sync of each kind of fault, in seconds; -1 where one was not in time, NaN on one broker. */
        public Map<Fault, Double> longestInSync() {
            return longest(Injected::inSyncSeconds);
        }

        private Map<Fault, Double> longest(java.util.function.ToDoubleFunction<Injected> figure) {
            Map<Fault, Double> m = new EnumMap<>(Fault.class);
            faults.forEach(f -> m.merge(f.fault(), figure.applyAsDouble(f), (a, b) -> a < 0 || b < 0 ? -1 : Math.max(a, b)));
            return m;
        }

        /** The report as printed by {@code engram soak}. */
        public String text() {
            return SoakReportFormat.text(this);
        }

        /** The report as JSON, for {@code --report}. */
        public Map<String, Object> json() {
            return SoakReportFormat.json(this);
        }
    }

    /**
     * A run's outputs against the reference's, per role and key, as multisets of records: a
     * reference record missing is lost, one present more often than in the reference is
     * duplicated, one the reference never wrote for that key is different. (Order is checked by
     * {@link RunOutputs#diff}.)
     */
    public record Counts(int expected, int got, int lost, int duplicated, int different) {
        public static Counts of(RunOutputs reference, RunOutputs run) {
            return OutputComparison.counts(reference, run);
        }
    }

    private final Options o;
    private final SoakLog log;
    private final Random random;
    private final List<SoakLane> lanes = new ArrayList<>();
    private SoakBroker broker;

    private Soak(Options o, PrintStream log) {
        this.o = o;
        this.log = new SoakLog(log);
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

    /** The steps: the reference run, the run under faults on a broker of its own, the comparison. */
    private Report soak() throws Exception {
        log.start();
        for (Path p : o.pipelines()) {
            lanes.add(new SoakLane(p, o));
        }
        ReferenceRun.run(lanes, o.work(), log);
        broker = SoakBroker.start(o.work().resolve("kafka"), o.brokers());
        for (SoakLane l : lanes) {
            broker.createTopics(l.spec);
        }
        IngestUnderFaults.Result ingest = new IngestUnderFaults(new SoakSetup(o, lanes, broker, random, log)).run();
        List<PipelineResult> results = new ArrayList<>();
        for (SoakLane l : lanes) {
            RunOutputs got = l.settleAndRead(broker.bootstrap());
            results.add(OutputComparison.compare(l, got));
        }
        return new Report(o.seed(), o.brokers(), log.seconds(), ingest.ingestSeconds(), results, ingest.faults());
    }

    /** Stops every lane's feeder and instances, then the broker. */
    private void closeAll() {
        lanes.forEach(SoakLane::close);
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

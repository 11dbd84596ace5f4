package io.engram.tools.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.engram.tools.soak.Soak;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram soak}: the multi-fault soak (docs/operating-state.md, docs/benchmarks.md). */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Run the sensor and video pipelines under continuous ingest while faults hit",
            "them, and check that nothing was lost, duplicated or changed.",
            "",
            "Starts an in-process broker (or with --brokers 3, a cluster of three broker",
            "processes, every topic replicated 3 times with min.insync.replicas 2) and",
            "--instances `engram run` processes (child JVMs) of each pipeline, sends the",
            "input at a steady rate for --minutes, and injects faults chosen at random from",
            "--seed: kill -9 of an instance, a graceful restart, a kill with the state",
            "directory deleted, a broker restart, an instance joining; on a cluster also",
            "kill -9 of the broker leading an input partition, and of the one leading a",
            "changelog partition, a rolling restart of every broker, and a broker replaced",
            "on an empty log dir. Then every output topic (read_committed) is compared, per",
            "key and byte for byte, with one uninterrupted run over the same input (run",
            "first, on a broker of its own).",
            "",
            "Prints records, faults by kind, records lost and duplicated, and the longest",
            "recovery (from a fault to new committed output on every partition that had",
            "output before it; on a cluster also to every replica in sync again). Exit",
            "status 1 if anything differs or a fault never recovered. Needs ~1 GB of memory",
            "per instance and broker at most; 2 cores suffice."})
public final class SoakCommand implements Callable<Integer> {
    @Option(names = "--minutes", defaultValue = "5", description = "How long the input flows (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the input and of the faults (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--instances", defaultValue = "2", description = "Instances of each pipeline at the start (default: ${DEFAULT-VALUE}).")
    int instances;

    @Option(names = "--pipeline", paramLabel = "FILE",
            description = "Pipeline files to soak; repeatable (default: topology/sensor-anomaly.yaml and topology/video-activity.yaml).")
    List<Path> pipelines = new ArrayList<>();

    @Option(names = "--samples", defaultValue = "ingest/samples/video",
            description = "Folder of camera folders of PNG frames, the video input (default: ${DEFAULT-VALUE}).")
    Path samples;

    @Option(names = "--sensor-rate", defaultValue = "200", description = "Sensor readings sent per second (default: ${DEFAULT-VALUE}).")
    double sensorRate;

    @Option(names = "--video-rate", defaultValue = "20", description = "Video frames sent per second (default: ${DEFAULT-VALUE}).")
    double videoRate;

    @Option(names = "--fault-every", defaultValue = "20", description = "Mean seconds between faults (default: ${DEFAULT-VALUE}).")
    double faultEvery;

    @Option(names = "--broker-down", defaultValue = "5", description = "Seconds a broker restart keeps the broker down (default: ${DEFAULT-VALUE}).")
    double brokerDown;

    @Option(names = "--standbys", defaultValue = "1", description = "Standby replicas of each task (default: ${DEFAULT-VALUE}).")
    int standbys;

    @Option(names = "--brokers", defaultValue = "1",
            description = "Brokers: 1 (in this process) or 3 or more (child processes, topics replicated 3 times; default: ${DEFAULT-VALUE}).")
    int brokers;

    @Option(names = "--faults", split = ",", paramLabel = "FAULT",
            description = "The kinds of fault to inject, comma-separated (default: every kind the brokers allow): kill, restart,"
                    + " lost-state, broker-restart, join; with --brokers 3 also input-leader-kill, changelog-leader-kill,"
                    + " rolling-restart, broker-replaced.")
    List<String> faults = new ArrayList<>();

    @Option(names = "--work", description = "Folder for broker data, state directories and instance logs; kept. Default: a temporary folder, deleted.")
    Path work;

    @Option(names = "--report", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
    Path report;

    @Override
    public Integer call() throws Exception {
        List<Path> files = pipelines.isEmpty()
                ? List.of(InstallPaths.resolve(Path.of("topology/sensor-anomaly.yaml")), InstallPaths.resolve(Path.of("topology/video-activity.yaml")))
                : pipelines.stream().map(InstallPaths::resolve).toList();
        Path dir = work != null ? work : Files.createTempDirectory("engram-soak-");
        Soak.Options o = new Soak.Options(Duration.ofMillis((long) (minutes * 60_000)), seed, instances, files, InstallPaths.resolve(samples), dir,
                sensorRate, videoRate, Duration.ofMillis((long) (faultEvery * 1000)), Duration.ofMillis((long) (brokerDown * 1000)),
                standbys, work != null, brokers,
                faults.isEmpty() ? Soak.Fault.forBrokers(brokers) : faults.stream().map(Soak.Fault::ofId).toList());
        Soak.Report r = Soak.run(o, System.err);
        System.out.print(r.text());
        if (report != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), r.json());
        }
        return r.passed() ? 0 : 1;
    }
}

package io.engram.cli;

import io.engram.app.SensorBenchmark;
import io.engram.topology.PipelineConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram bench sensors}: throughput report (a benchmark, never a test assertion). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure sensor pipeline throughput, with and without the model call.",
            "",
            "Runs the full pipeline on an in-process broker beside the same topology with the model call",
            "removed: same broker, same input, same run, alternating passes. Prints records/s and the ratio.",
            "A benchmark, not a test: the numbers depend on the machine."})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "200000", description = "Records per pass (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--streams", defaultValue = "1000", description = "Distinct stream ids (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(names = "--rounds", defaultValue = "2", description = "Alternating rounds of (no-model, model) (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--config", defaultValue = "topology/sensor-anomaly.yaml", description = "Pipeline definition (default: ${DEFAULT-VALUE}).")
    Path config;

    @Override
    public Integer call() throws Exception {
        PipelineConfig cfg = PipelineConfig.load(Home.resolve(config));
        System.err.printf("engram bench: %,d records over %,d streams, %d rounds, pipeline %s%n", records, streams, rounds, cfg.name());
        List<SensorBenchmark.Pass> passes = SensorBenchmark.run(cfg, streams, records, rounds);
        double model = best(passes, "model");
        double base = best(passes, "no-model");
        System.out.printf(Locale.ROOT, "sensor pipeline: %,.0f records/s with the model, %,.0f records/s with the model call removed: ratio %.2f%n",
                model, base, model / base);
        return 0;
    }

    private static double best(List<SensorBenchmark.Pass> passes, String name) {
        return passes.stream().filter(p -> p.name().equals(name)).mapToDouble(SensorBenchmark.Pass::rate).max().orElse(Double.NaN);
    }
}

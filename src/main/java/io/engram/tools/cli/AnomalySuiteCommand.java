package io.engram.tools.cli;

import io.engram.tools.bench.AnomalySuite;
import io.engram.engine.config.PipelineSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code engram anomaly-suite}: the labelled synthetic anomaly suite through the real pipeline. */
@Command(name = "anomaly-suite", mixinStandardHelpOptions = true,
        description = {"Run the labelled synthetic anomaly suite through the real pipeline and report recall.",
            "",
            "Generates the suite from its fixed seed (8 anomaly types: cron_spikes, spike_density, daily_shape,",
            "level_shift, variance_change, stuck, dropout, slow_drift; each on series with and without a daily",
            "shape; plus anomaly-free series with a nightly cron job and random spikes), replays it through the",
            "pipeline on an in-process broker, and prints recall per type (an alert within a day of the start)",
            "and false alarms per 10,000 readings on the anomaly-free series. See docs/benchmarks.md."})
public final class AnomalySuiteCommand implements Callable<Integer> {
    @Mixin
    DetectorVariant variant = new DetectorVariant();

    @Option(names = "--work", description = "Folder for the series (data/), labels.csv and the results (results/); default: a new temporary folder.")
    Path work;

    @Override
    public Integer call() throws Exception {
        PipelineSpec cfg = variant.load();
        Path dir = work != null ? work : Files.createTempDirectory("engram-anomaly-suite-");
        AnomalySuite.Report r = AnomalySuite.run(cfg, dir, System.err);
        System.out.print(AnomalySuite.table(r));
        System.out.printf("engram anomaly-suite: %.1f s; series, labels and results in %s%n", r.seconds(), dir.toAbsolutePath());
        return 0;
    }
}

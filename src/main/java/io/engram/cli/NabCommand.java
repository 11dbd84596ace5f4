package io.engram.cli;

import io.engram.bench.NabReplay;
import io.engram.core.PipelineSpec;
import io.engram.errors.ConfigException;
import io.engram.pipeline.forecast.ForecastSettings;
import io.engram.pipeline.forecast.ScoringConfig;
import io.engram.runtime.Pipelines;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram nab}: replays NAB-format CSVs through the real topology and writes NAB result files. */
@Command(name = "nab", mixinStandardHelpOptions = true,
        description = {"Score the Numenta Anomaly Benchmark: replay NAB CSVs through the real pipeline.",
            "",
            "Replays every NAB-format CSV (timestamp,value) under --data through the real pipeline on an",
            "in-process broker, one stream per file with fresh state, and writes --out/<category>/<name>.csv",
            "with columns timestamp,value,anomaly_score (score in [0,1], one row per input row, same order)",
            "and raw_score (the normalised forecast error; NAB's scorers ignore it).",
            "One parameter set (the pipeline's) for all files; no look-ahead.",
            "Score the result with NAB's scorer, e.g. python3 ../shared/tools/nab_score.py."})
public final class NabCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "Folder of NAB CSVs (searched recursively), e.g. ../shared/nab/data.")
    Path data;

    @Option(names = "--out", required = true, description = "Folder for the result CSVs.")
    Path out;

    @Option(names = "--config", defaultValue = "topology/sensor-anomaly.yaml", description = "Pipeline definition (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Set a key of the pipeline file for this run, e.g. --set scoring.shape.novel_weight=2.0 (repeatable).")
    java.util.Map<String, String> set = new java.util.LinkedHashMap<>();

    @Option(names = "--without", split = ",", paramLabel = "CHANNEL",
            description = "Turn these scoring channels off, for an ablation: forecast, level, seasonal, routine, shape, stuck.")
    java.util.List<String> without = java.util.List.of();

    /** {@code cfg} with the named scoring channels turned off (the ablation); {@code cfg} itself when none are named. */
    static PipelineSpec withoutChannels(PipelineSpec cfg, Path config, java.util.List<String> without) {
        if (without.isEmpty()) {
            return cfg;
        }
        if (!(cfg.settings() instanceof ForecastSettings fs)) {
            throw new ConfigException("--without needs an anomaly pipeline; " + config + " is of type " + cfg.kind().type()
                    + ". Fix: pass --config topology/sensor-anomaly.yaml or drop --without.");
        }
        ScoringConfig sc = fs.scoring();
        for (String c : without) {
            try {
                sc = sc.without(ScoringConfig.Channel.of(c.trim()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("--without: " + e.getMessage() + ". Fix the channel name.");
            }
        }
        return cfg.withSettings(fs.withScoring(sc));
    }

    @Override
    public Integer call() throws Exception {
        PipelineSpec cfg = Pipelines.load(Home.resolve(config), set);
        cfg = withoutChannels(cfg, config, without);
        NabReplay.Report r = NabReplay.run(cfg, data, out, System.err);
        System.out.printf("engram nab: %d files, %d rows in %.1f s (%.0f rows/s); results in %s%n",
                r.files(), r.rows(), r.seconds(), r.rows() / r.seconds(), out.toAbsolutePath());
        return 0;
    }
}

package io.engram.tools.cli;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.engine.pipeline.anomaly.ScoringConfig;
import io.engram.engine.runtime.Pipelines;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options that pick the anomaly pipeline an experiment runs ({@code nab}, {@code anomaly-suite}):
 * the pipeline file, keys set for this run, and scoring channels turned off for an ablation.
 */
final class DetectorVariant {
    @Option(names = "--config", defaultValue = "topology/sensor-anomaly.yaml", description = "Pipeline definition (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Set a key of the pipeline file for this run, e.g. --set scoring.shape.novel_weight=2.0 (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--without", split = ",", paramLabel = "CHANNEL",
            description = "Turn these scoring channels off, for an ablation: forecast, level, seasonal, routine, shape, stuck.")
    List<String> without = List.of();

    /** The pipeline file with the {@code --set} keys, and the {@code --without} channels off. */
    PipelineSpec load() {
        PipelineSpec cfg = Pipelines.load(InstallPaths.resolve(config), set);
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
}

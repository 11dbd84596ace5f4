package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The benchmark of each pipeline type, and its report; {@code engram bench} runs the one of its
 * pipeline file: {@link VideoFigures} for a video-activity pipeline, {@link SensorFigures} for a
 * sensor one, {@link PersonFigures} for a person-activity one. Stateless.
 */
public final class Benchmarks {
    private Benchmarks() {}

    /** What the benchmarks take; each uses its own. */
    public record Options(int records, int streams, int rounds, int frames, int latencySeconds, Path clipDir, int window,
            List<Integer> memoryStreams, Path peopleClip, List<Integer> cameras, double cameraFps) {}

    /**
     * Runs the pipeline's benchmark, prints its report, and returns its figures by key (e.g.
     * {@code video.pipeline_fps}) for {@code --json}.
     */
    public static java.util.Map<String, Double> run(PipelineSpec spec, Options o, PrintStream out, PrintStream progress) throws Exception {
        if (spec.kind() == VideoActivityPipeline.INSTANCE) {
            return VideoFigures.run(spec, o, out, progress);
        }
        if (spec.kind() == io.engram.engine.pipeline.pose.PoseActivityPipeline.INSTANCE) {
            return PersonFigures.run(spec, o, out, progress);
        }
        if (spec.kind() == AnomalyPipeline.INSTANCE && spec.settings(AnomalyPipeline.INSTANCE).format() == ForecastSettings.Format.JSON) {
            return SensorFigures.run(spec, o, out, progress);
        }
        throw new ConfigException("No benchmark for pipeline " + spec.file() + " (type " + spec.kind().type()
                + "). Fix: benchmark topology/sensor-anomaly.yaml, topology/video-activity.yaml or topology/person-activity.yaml (--video).");
    }

    /** The median rate of the passes named {@code name} after the first (a warm-up), or of the only one. */
    static double median(List<SensorBenchmark.Pass> passes, String name) {
        return medianAfterFirst(passes.stream().filter(p -> p.name().equals(name)).map(SensorBenchmark.Pass::rate).toList());
    }

    /** The median of {@code values} after the first (a warm-up), or the only one; NaN for none. */
    static double medianAfterFirst(List<Double> values) {
        double[] rates = values.stream().mapToDouble(Double::doubleValue).toArray();
        if (rates.length == 0) {
            return Double.NaN;
        }
        double[] after = rates.length > 1 ? java.util.Arrays.copyOfRange(rates, 1, rates.length) : rates;
        java.util.Arrays.sort(after);
        int n = after.length;
        return n % 2 == 1 ? after[n / 2] : (after[n / 2 - 1] + after[n / 2]) / 2;
    }
}

package io.engram.bench;

import io.engram.core.PipelineSpec;
import io.engram.errors.ConfigException;
import io.engram.pipeline.activity.VideoActivityPipeline;
import io.engram.pipeline.forecast.AnomalyPipeline;
import io.engram.pipeline.forecast.ForecastSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The benchmark of each pipeline type, and its report; {@code engram bench} runs the one of its pipeline file. */
public final class Benchmarks {
    private Benchmarks() {}

    /** What the benchmarks take; each uses its own. */
    public record Options(int records, int streams, int rounds, int frames, int latencySeconds, Path clipDir) {}

    public static void run(PipelineSpec spec, Options o, PrintStream out, PrintStream progress) throws Exception {
        if (spec.kind() == VideoActivityPipeline.INSTANCE) {
            progress.printf("engram bench: %d frames of 320x240 JPEG, pipeline %s%n", o.frames(), spec.name());
            VideoBenchmark.Report r = VideoBenchmark.run(spec, o.clipDir(), o.frames(), o.latencySeconds());
            out.printf(Locale.ROOT, "raw encoder (ONNX Runtime, decoded frames, batch 1, 1 thread): %8.1f frames/s%n", r.rawEncoderFps());
            out.printf(Locale.ROOT, "decode + CNN + GRU without Kafka (1 thread):                %8.1f frames/s%n", r.computeFps());
            out.printf(Locale.ROOT, "video pipeline on the in-process broker (exactly-once):       %8.1f frames/s%n", r.pipelineFps());
            out.printf(Locale.ROOT, "ratio pipeline / raw encoder: %.2f; pipeline / same work without Kafka: %.2f%n",
                    r.pipelineFps() / r.rawEncoderFps(), r.pipelineFps() / r.computeFps());
            out.printf(Locale.ROOT, "latency at %.1f frames/s (half the maximum): p50 %.0f ms, p99 %.0f ms over %d frames%n",
                    r.latencyRateFps(), r.p50Ms(), r.p99Ms(), r.latencySamples());
            return;
        }
        if (spec.kind() == AnomalyPipeline.INSTANCE && spec.settings(ForecastSettings.class).format() == ForecastSettings.Format.JSON) {
            progress.printf("engram bench: %,d records over %,d streams, %d rounds, pipeline %s%n", o.records(), o.streams(), o.rounds(),
                    spec.name());
            List<SensorBenchmark.Pass> passes = SensorBenchmark.run(spec, o.streams(), o.records(), o.rounds());
            double model = best(passes, "model");
            double base = best(passes, "no-model");
            out.printf(Locale.ROOT, "sensor pipeline: %,.0f records/s with the model, %,.0f records/s with the model call removed: ratio %.2f%n",
                    model, base, model / base);
            return;
        }
        throw new ConfigException("No benchmark for pipeline " + spec.file() + " (type " + spec.kind().type()
                + "). Fix: benchmark topology/sensor-anomaly.yaml or topology/video-activity.yaml (--video).");
    }

    private static double best(List<SensorBenchmark.Pass> passes, String name) {
        return passes.stream().filter(p -> p.name().equals(name)).mapToDouble(SensorBenchmark.Pass::rate).max().orElse(Double.NaN);
    }
}

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

    /**
     * Runs the pipeline's benchmark, prints its report, and returns its figures by key (e.g.
     * {@code video.pipeline_fps}) for {@code --json}.
     */
    public static java.util.Map<String, Double> run(PipelineSpec spec, Options o, PrintStream out, PrintStream progress) throws Exception {
        java.util.Map<String, Double> figures = new java.util.LinkedHashMap<>();
        if (spec.kind() == VideoActivityPipeline.INSTANCE) {
            progress.printf("engram bench: %d frames of 320x240 JPEG, pipeline %s%n", o.frames(), spec.name());
            VideoBenchmark.Report r = VideoBenchmark.run(spec, o.clipDir(), o.frames(), o.latencySeconds());
            out.printf(Locale.ROOT, "raw encoder (ONNX Runtime, decoded frames, batch 1, 1 thread): %8.1f frames/s%n", r.rawEncoderFps());
            out.printf(Locale.ROOT, "decode + CNN + GRU without Kafka (1 thread):                %8.1f frames/s%n", r.computeFps());
            out.printf(Locale.ROOT, "video pipeline on the in-process broker (exactly-once):       %8.1f frames/s%n", r.pipelineFps());
            out.printf(Locale.ROOT, "ratio pipeline / raw encoder: %.2f; pipeline / same work without Kafka: %.2f%n",
                    r.pipelineFps() / r.rawEncoderFps(), r.pipelineFps() / r.computeFps());
            figures.put("video.encoder_fps", r.rawEncoderFps());
            figures.put("video.no_kafka_fps", r.computeFps());
            figures.put("video.pipeline_fps", r.pipelineFps());
            for (VideoBenchmark.Latency l : r.latencies()) {
                out.printf(Locale.ROOT, "latency at %.1f frames/s (%.0f%% of the maximum, after %d s of warm-up): p50 %.0f ms, p99 %.0f ms, p999 %.0f ms"
                        + " over %d frames%n", l.rateFps(), l.loadFraction() * 100, VideoBenchmark.LATENCY_WARMUP.toSeconds(), l.p50Ms(), l.p99Ms(),
                        l.p999Ms(), l.samples());
                String at = l.loadFraction() == 0.5 ? "" : "_at_" + Math.round(l.loadFraction() * 100);
                figures.put("video.latency_p50_ms" + at, l.p50Ms());
                figures.put("video.latency_p99_ms" + at, l.p99Ms());
                figures.put("video.latency_p999_ms" + at, l.p999Ms());
            }
            return figures;
        }
        if (spec.kind() == AnomalyPipeline.INSTANCE && spec.settings(ForecastSettings.class).format() == ForecastSettings.Format.JSON) {
            progress.printf("engram bench: %,d records over %,d streams, %d rounds, pipeline %s%n", o.records(), o.streams(), o.rounds(),
                    spec.name());
            List<SensorBenchmark.Pass> passes = SensorBenchmark.run(spec, o.streams(), o.records(), o.rounds());
            double model = median(passes, "model");
            double base = median(passes, "no-model");
            out.printf(Locale.ROOT, "sensor pipeline: %,.0f records/s with the model, %,.0f records/s with the model call removed: ratio %.2f"
                    + " (medians of the rounds after the first)%n", model, base, model / base);
            figures.put("sensor.records_per_s", model);
            figures.put("sensor.no_model_records_per_s", base);
            return figures;
        }
        throw new ConfigException("No benchmark for pipeline " + spec.file() + " (type " + spec.kind().type()
                + "). Fix: benchmark topology/sensor-anomaly.yaml or topology/video-activity.yaml (--video).");
    }

    /** The median rate of the passes named {@code name} after the first (a warm-up), or of the only one. */
    static double median(List<SensorBenchmark.Pass> passes, String name) {
        double[] rates = passes.stream().filter(p -> p.name().equals(name)).mapToDouble(SensorBenchmark.Pass::rate).toArray();
        if (rates.length == 0) {
            return Double.NaN;
        }
        double[] after = rates.length > 1 ? java.util.Arrays.copyOfRange(rates, 1, rates.length) : rates;
        java.util.Arrays.sort(after);
        int n = after.length;
        return n % 2 == 1 ? after[n / 2] : (after[n / 2 - 1] + after[n / 2]) / 2;
    }
}

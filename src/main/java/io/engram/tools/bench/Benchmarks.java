package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.engine.pipeline.video.FrameStage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The benchmark of each pipeline type, and its report; {@code engram bench} runs the one of its pipeline file. */
public final class Benchmarks {
    private Benchmarks() {}

    /** What the benchmarks take; each uses its own. */
    public record Options(int records, int streams, int rounds, int frames, int latencySeconds, Path clipDir, int window,
            List<Integer> memoryStreams) {}

    /**
     * Runs the pipeline's benchmark, prints its report, and returns its figures by key (e.g.
     * {@code video.pipeline_fps}) for {@code --json}.
     */
    public static java.util.Map<String, Double> run(PipelineSpec spec, Options o, PrintStream out, PrintStream progress) throws Exception {
        java.util.Map<String, Double> figures = new java.util.LinkedHashMap<>();
        if (spec.kind() == VideoActivityPipeline.INSTANCE) {
            progress.printf("engram bench: %d frames of 320x240 JPEG, pipeline %s%n", o.frames(), spec.name());
            VideoBenchmark.Report r = VideoBenchmark.run(spec, o.clipDir(), o.frames(), o.rounds(), o.latencySeconds(), progress);
            out.printf(Locale.ROOT, "raw encoder (ONNX Runtime, decoded frames, batch 1, 1 thread): %8.1f frames/s%n", r.rawEncoderFps());
            out.printf(Locale.ROOT, "decode + CNN + GRU without Kafka (1 thread):                %8.1f frames/s%n", r.computeFps());
            figures.put("video.encoder_fps", r.rawEncoderFps());
            figures.put("video.no_kafka_fps", r.computeFps());
            out.printf(Locale.ROOT, "video pipeline on the in-process broker (exactly-once), latency after %d s of warm-up:%n",
                    VideoBenchmark.LATENCY_WARMUP.toSeconds());
            out.printf(Locale.ROOT, "  %-18s %9s %9s %29s %29s%n", "layout, profile", "frames/s", "/no Kafka", "p50/p99/p999 ms at 50%",
                    "p50/p99/p999 ms at 90%");
            for (VideoBenchmark.Pass p : r.passes()) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-18s %9.1f %9.2f", p.layout().yaml() + ", " + p.profile(),
                        p.fps(), p.fps() / r.computeFps()));
                figures.put("video." + p.name() + ".fps", p.fps());
                for (VideoBenchmark.Latency l : p.latencies()) {
                    line.append(String.format(Locale.ROOT, " %29s", String.format(Locale.ROOT, "%.0f / %.0f / %.0f (%d)", l.p50Ms(), l.p99Ms(),
                            l.p999Ms(), l.samples())));
                    String at = "_at_" + Math.round(l.loadFraction() * 100);
                    figures.put("video." + p.name() + ".latency_p50_ms" + at, l.p50Ms());
                    figures.put("video." + p.name() + ".latency_p99_ms" + at, l.p99Ms());
                    figures.put("video." + p.name() + ".latency_p999_ms" + at, l.p999Ms());
                }
                out.println(line);
            }
            // The headline figures: the most frames/s (fused, throughput profile), and the latency of
            // the live profile, fused, at half load.
            VideoBenchmark.Pass fast = r.pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.THROUGHPUT);
            VideoBenchmark.Latency live = r.pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE).at(0.5);
            figures.put("video.pipeline_fps", fast.fps());
            figures.put("video.latency_p50_ms", live.p50Ms());
            figures.put("video.latency_p99_ms", live.p99Ms());
            figures.put("video.latency_p999_ms", live.p999Ms());
            out.printf(Locale.ROOT, "pipeline (fused, throughput) / same work without Kafka: %.2f; fused, live, at 50%%: p50 %.0f ms, p99 %.0f ms%n",
                    fast.fps() / r.computeFps(), live.p50Ms(), live.p99Ms());
            if (r.refineOff() != null) {
                VideoBenchmark.Pass on = r.pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE);
                VideoBenchmark.Latency off = r.refineOff().latencies().get(0);
                out.printf(Locale.ROOT, "refinement (refine.lag %d) on / off, fused, live: %.1f / %.1f frames/s; at %.0f frames/s p50 %.0f / %.0f ms,"
                        + " p99 %.0f / %.0f ms (the refined records themselves come lag frames later)%n",
                        spec.settings(io.engram.engine.pipeline.activity.VideoActivityPipeline.INSTANCE).refine().lag(), on.fps(),
                        r.refineOff().fps(), off.rateFps(), live.p50Ms(), off.p50Ms(), live.p99Ms(), off.p99Ms());
                figures.put("video.refine_off.fused.live.fps", r.refineOff().fps());
                figures.put("video.refine_off.fused.live.latency_p50_ms_at_50", off.p50Ms());
                figures.put("video.refine_off.fused.live.latency_p99_ms_at_50", off.p99Ms());
            }
            return figures;
        }
        if (spec.kind() == AnomalyPipeline.INSTANCE && spec.settings(AnomalyPipeline.INSTANCE).format() == ForecastSettings.Format.JSON) {
            progress.printf("engram bench: %,d records over %,d streams, %d rounds, pipeline %s%n", o.records(), o.streams(), o.rounds(),
                    spec.name());
            SensorBenchmark.Ort ort = SensorBenchmark.ort(spec, o.window());
            out.printf(Locale.ROOT, "ONNX Runtime alone (the step model, 1 thread): %.2f us per step at batch 1, %.3f us per key at batch 256%n",
                    ort.batch1Micros(), ort.batch256MicrosPerKey());
            figures.put("sensor.ort_batch1_us", ort.batch1Micros());
            figures.put("sensor.ort_batch256_us_per_key", ort.batch256MicrosPerKey());
            if (!Double.isNaN(ort.windowMicros())) {
                out.printf(Locale.ROOT, "ONNX Runtime alone, the window model over %d readings (batch 1): %.2f us per record%n", o.window(),
                        ort.windowMicros());
                figures.put("sensor.ort_window_us", ort.windowMicros());
            }
            SensorBenchmark.Result res = SensorBenchmark.run(spec, o.streams(), o.records(), o.rounds(), o.window());
            List<SensorBenchmark.Pass> passes = res.passes();
            double model = median(passes, SensorBenchmark.MODEL);
            double base = median(passes, SensorBenchmark.NO_MODEL);
            out.printf(Locale.ROOT, "sensor pipeline: %,.0f records/s with the model, %,.0f records/s with the model call removed: ratio %.2f"
                    + " (medians of the rounds after the first, clocks from the first record)%n", model, base, model / base);
            figures.put("sensor.records_per_s", model);
            figures.put("sensor.no_model_records_per_s", base);
            if (res.window() > 0) {
                double windowed = median(passes, SensorBenchmark.WINDOWED);
                out.printf(Locale.ROOT, "windowed baseline (the same GRU rerun over each stream's last %d readings per record): %,.0f records/s;"
                        + " stateful / windowed: %.1fx%n", res.window(), windowed, model / windowed);
                out.printf(Locale.ROOT, "windowed forecasts against the stateful ones: RMS difference %.4g over %,d records with a full window"
                        + " (%.4g over all; the readings' standard deviation is %.4g)%n", res.rmsFull(), res.compared(), res.rmsAll(),
                        res.readingStd());
                figures.put("sensor.windowed_records_per_s", windowed);
                figures.put("sensor.windowed_window", (double) res.window());
                figures.put("sensor.windowed_rms_diff", res.rmsFull());
                figures.put("sensor.windowed_rms_diff_all", res.rmsAll());
                figures.put("sensor.reading_std", res.readingStd());
            }
            if (!o.memoryStreams().isEmpty()) {
                progress.printf("engram bench: resident memory of an engram run process at %s streams%n", o.memoryStreams());
                java.nio.file.Path work = java.nio.file.Files.createTempDirectory("engram-bench-memory-");
                for (MemoryBenchmark.Point p : MemoryBenchmark.run(spec, o.memoryStreams(), work, progress)) {
                    out.printf(Locale.ROOT, "memory with %,d streams (engram run, %s, state.memory_mb %d): RSS %.0f MB, peak %.0f MB;"
                            + " %.0f state bytes per stream%n", p.streams(), String.join(" ", MemoryBenchmark.JVM),
                            spec.statePolicy().memoryMb(), p.rssMb(), p.peakRssMb(), p.stateBytesPerStream());
                    figures.put("sensor.rss_mb_at_" + p.streams(), p.rssMb());
                    figures.put("sensor.peak_rss_mb_at_" + p.streams(), p.peakRssMb());
                    figures.put("sensor.state_bytes_per_stream", p.stateBytesPerStream());
                }
            }
            return figures;
        }
        throw new ConfigException("No benchmark for pipeline " + spec.file() + " (type " + spec.kind().type()
                + "). Fix: benchmark topology/sensor-anomaly.yaml or topology/video-activity.yaml (--video).");
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

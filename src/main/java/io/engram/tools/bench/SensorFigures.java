package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code engram bench} of a sensor (anomaly, JSON readings) pipeline: runs ONNX Runtime alone,
 * {@link SensorBenchmark} and, when asked, {@link MemoryBenchmark}; prints their report and
 * returns their figures by key ({@code sensor.*}) for {@code --json}. One instance per run; it
 * holds the figures as the report's lines are printed.
 */
final class SensorFigures {
    private final PipelineSpec spec;
    private final Benchmarks.Options o;
    private final PrintStream out;
    private final PrintStream progress;
    private final Map<String, Double> figures = new LinkedHashMap<>();

    private SensorFigures(PipelineSpec spec, Benchmarks.Options o, PrintStream out, PrintStream progress) {
        this.spec = spec;
        this.o = o;
        this.out = out;
        this.progress = progress;
    }

    static Map<String, Double> run(PipelineSpec spec, Benchmarks.Options o, PrintStream out, PrintStream progress) throws Exception {
        progress.printf("engram bench: %,d records over %,d streams, %d rounds, pipeline %s%n", o.records(), o.streams(), o.rounds(),
                spec.name());
        SensorFigures f = new SensorFigures(spec, o, out, progress);
        f.ortAlone();
        f.pipeline();
        if (!o.memoryStreams().isEmpty()) {
            f.memory();
        }
        return f.figures;
    }

    /** ONNX Runtime alone: the step model at batch 1 and 256, and the window model when there is one. */
    private void ortAlone() throws Exception {
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
    }

    /** The pipeline with the model, without it, and (with a window) the windowed baseline. */
    private void pipeline() throws Exception {
        SensorBenchmark.Result res = SensorBenchmark.run(spec, o.streams(), o.records(), o.rounds(), o.window());
        List<SensorBenchmark.Pass> passes = res.passes();
        double model = Benchmarks.median(passes, SensorBenchmark.MODEL);
        double base = Benchmarks.median(passes, SensorBenchmark.NO_MODEL);
        out.printf(Locale.ROOT, "sensor pipeline: %,.0f records/s with the model, %,.0f records/s with the model call removed: ratio %.2f"
                + " (medians of the rounds after the first, clocks from the first record)%n", model, base, model / base);
        figures.put("sensor.records_per_s", model);
        figures.put("sensor.no_model_records_per_s", base);
        costs(Benchmarks.median(passes, SensorBenchmark.BARE), base, model);
        if (res.window() > 0) {
            windowed(res, model);
        }
    }

    /**
     * The cost of each part per record, from the three pipelines' rates (bare: no model call, the
     * forecast channel only; no-model: the channels too; model: the released pipeline), against the
     * 0.8 ratio's budget for the model call.
     */
    private void costs(double bare, double noModel, double model) {
        double frame = 1e6 / bare;
        double channels = 1e6 / noModel - frame;
        double call = 1e6 / model - 1e6 / noModel;
        double budget = 0.25 * 1e6 / noModel; // 1 / (0.8 r) - 1 / r
        out.printf(Locale.ROOT, "cost per record: Kafka, exactly-once, state store, serdes and the forecast channel %.1f us (%,.0f records/s);"
                + " the other scoring channels %.1f us; the model call %.1f us%n", frame, bare, channels, call);
        out.printf(Locale.ROOT, "the 0.8 ratio leaves the model call %.1f us per record: %s%n", budget, call <= budget ? "met"
                : String.format(Locale.ROOT, "missed by %.1f us (ONNX Runtime alone: %.2f us per step at batch 1, %.3f us per key at batch 256)",
                        call - budget, figures.getOrDefault("sensor.ort_batch1_us", Double.NaN),
                        figures.getOrDefault("sensor.ort_batch256_us_per_key", Double.NaN)));
        figures.put("sensor.bare_records_per_s", bare);
        figures.put("sensor.cost_frame_us", frame);
        figures.put("sensor.cost_channels_us", channels);
        figures.put("sensor.cost_model_call_us", call);
        figures.put("sensor.model_call_budget_us", budget);
    }

    private void windowed(SensorBenchmark.Result res, double model) {
        double windowed = Benchmarks.median(res.passes(), SensorBenchmark.WINDOWED);
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

    /** Resident memory of an {@code engram run} process at each of the asked stream counts. */
    private void memory() throws Exception {
        progress.printf("engram bench: resident memory of an engram run process at %s streams%n", o.memoryStreams());
        Path work = Files.createTempDirectory("engram-bench-memory-");
        for (MemoryBenchmark.Point p : MemoryBenchmark.run(spec, o.memoryStreams(), work, progress)) {
            out.printf(Locale.ROOT, "memory with %,d streams (engram run, %s, state.memory_mb %d): RSS %.0f MB, peak %.0f MB;"
                    + " %.0f state bytes per stream%n", p.streams(), String.join(" ", MemoryBenchmark.JVM),
                    spec.statePolicy().memoryMb(), p.rssMb(), p.peakRssMb(), p.stateBytesPerStream());
            figures.put("sensor.rss_mb_at_" + p.streams(), p.rssMb());
            figures.put("sensor.peak_rss_mb_at_" + p.streams(), p.peakRssMb());
            figures.put("sensor.state_bytes_per_stream", p.stateBytesPerStream());
        }
    }
}

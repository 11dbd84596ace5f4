package io.engram.cli;

import io.engram.bench.SensorBenchmark;
import io.engram.bench.VideoBenchmark;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import io.engram.pipeline.activity.VideoActivityPipeline;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram bench}: throughput reports for both pipelines (a benchmark, never a test assertion). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure pipeline throughput on an in-process broker.",
            "",
            "Sensors (default): the full pipeline beside the same topology with the model call removed:",
            "same broker, same input, same run, alternating passes. Prints records/s and the ratio.",
            "Video (--video): frames/s through JPEG decode + CNN + GRU for 320x240 input, beside the raw",
            "ONNX Runtime throughput of the same encoder on already-decoded frames in the same run; then",
            "frame-timestamp-to-prediction latency (p50, p99) at half of the maximum frame rate.",
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

    @Option(names = "--video", description = "Benchmark the video pipeline instead (topology/video-activity.yaml unless --config names another).")
    boolean video;

    @Option(names = "--frames", defaultValue = "2000", description = "Video: frames for the throughput passes (default: ${DEFAULT-VALUE}).")
    int frames;

    @Option(names = "--latency-seconds", defaultValue = "20", description = "Video: seconds of live traffic for the latency pass (default: ${DEFAULT-VALUE}).")
    int latencySeconds;

    @Override
    public Integer call() throws Exception {
        if (video) {
            Path file = Home.resolve(config.toString().equals("topology/sensor-anomaly.yaml") ? Path.of("topology/video-activity.yaml") : config);
            PipelineSpec cfg = Pipelines.load(file);
            System.err.printf("engram bench --video: %d frames of 320x240 JPEG, pipeline %s%n", frames, cfg.name());
            VideoBenchmark.Report r = VideoBenchmark.run(cfg, Home.resolve(Path.of("models/activity/clip")), frames, latencySeconds);
            System.out.printf(Locale.ROOT, "raw encoder (ONNX Runtime, decoded frames, batch 1, 1 thread): %8.1f frames/s%n", r.rawEncoderFps());
            System.out.printf(Locale.ROOT, "decode + CNN + GRU without Kafka (1 thread):                %8.1f frames/s%n", r.computeFps());
            System.out.printf(Locale.ROOT, "video pipeline on the in-process broker (exactly-once):       %8.1f frames/s%n", r.pipelineFps());
            System.out.printf(Locale.ROOT, "ratio pipeline / raw encoder: %.2f; pipeline / same work without Kafka: %.2f%n",
                    r.pipelineFps() / r.rawEncoderFps(), r.pipelineFps() / r.computeFps());
            System.out.printf(Locale.ROOT, "latency at %.1f frames/s (half the maximum): p50 %.0f ms, p99 %.0f ms over %d frames%n",
                    r.latencyRateFps(), r.p50Ms(), r.p99Ms(), r.latencySamples());
            return 0;
        }
        PipelineSpec cfg = Pipelines.load(Home.resolve(config));
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

package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.video.FrameStage;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code engram bench} of a video-activity pipeline: runs {@link VideoBenchmark}, prints its report
 * and returns its figures by key ({@code video.*}) for {@code --json}. One instance per run; it
 * holds the figures as the report's lines are printed.
 */
final class VideoFigures {
    private final PrintStream out;
    private final Map<String, Double> figures = new LinkedHashMap<>();

    private VideoFigures(PrintStream out) {
        this.out = out;
    }

    static Map<String, Double> run(PipelineSpec spec, Benchmarks.Options o, PrintStream out, PrintStream progress) throws Exception {
        progress.printf("engram bench: %d frames of 320x240 JPEG, pipeline %s%n", o.frames(), spec.name());
        VideoBenchmark.Report r = VideoBenchmark.run(spec, o.clipDir(), o.frames(), o.rounds(), o.latencySeconds(), progress);
        VideoFigures f = new VideoFigures(out);
        f.withoutKafka(r);
        f.passes(r);
        VideoBenchmark.Latency live = f.headline(r);
        if (r.refineOff() != null) {
            f.refineOff(spec, r, live);
        }
        return f.figures;
    }

    private void withoutKafka(VideoBenchmark.Report r) {
        out.printf(Locale.ROOT, "raw encoder (ONNX Runtime, decoded frames, batch 1, 1 thread): %8.1f frames/s%n", r.rawEncoderFps());
        out.printf(Locale.ROOT, "decode + CNN + GRU without Kafka (1 thread):                %8.1f frames/s%n", r.computeFps());
        figures.put("video.encoder_fps", r.rawEncoderFps());
        figures.put("video.no_kafka_fps", r.computeFps());
    }

    /** The table of layouts and profiles: frames/s, against the work without Kafka, and latencies. */
    private void passes(VideoBenchmark.Report r) {
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
    }

    /**
     * The headline figures: the most frames/s (fused, throughput profile), and the latency of the
     * live profile, fused, at half load (returned).
     */
    private VideoBenchmark.Latency headline(VideoBenchmark.Report r) {
        VideoBenchmark.Pass fast = r.pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.THROUGHPUT);
        VideoBenchmark.Latency live = r.pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE).at(0.5);
        figures.put("video.pipeline_fps", fast.fps());
        figures.put("video.latency_p50_ms", live.p50Ms());
        figures.put("video.latency_p99_ms", live.p99Ms());
        figures.put("video.latency_p999_ms", live.p999Ms());
        out.printf(Locale.ROOT, "pipeline (fused, throughput) / same work without Kafka: %.2f; fused, live, at 50%%: p50 %.0f ms, p99 %.0f ms%n",
                fast.fps() / r.computeFps(), live.p50Ms(), live.p99Ms());
        return live;
    }

    /** Refinement on against off, fused, live: frames/s, and latency at the refined pass's 50% rate. */
    private void refineOff(PipelineSpec spec, VideoBenchmark.Report r, VideoBenchmark.Latency live) {
        VideoBenchmark.Pass on = r.pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE);
        VideoBenchmark.Latency off = r.refineOff().latencies().get(0);
        out.printf(Locale.ROOT, "refinement (refine.lag %d) on / off, fused, live: %.1f / %.1f frames/s; at %.0f frames/s p50 %.0f / %.0f ms,"
                + " p99 %.0f / %.0f ms (the refined records themselves come lag frames later)%n",
                spec.settings(VideoActivityPipeline.INSTANCE).refine().lag(), on.fps(),
                r.refineOff().fps(), off.rateFps(), live.p50Ms(), off.p50Ms(), live.p99Ms(), off.p99Ms());
        figures.put("video.refine_off.fused.live.fps", r.refineOff().fps());
        figures.put("video.refine_off.fused.live.latency_p50_ms_at_50", off.p50Ms());
        figures.put("video.refine_off.fused.live.latency_p99_ms_at_50", off.p99Ms());
    }
}

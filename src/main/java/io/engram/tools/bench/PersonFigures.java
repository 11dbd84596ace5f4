package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code engram bench} of a person-activity pipeline: runs {@link PersonBenchmark}, prints its
 * report and returns its figures by key ({@code person.*}) for {@code --json}.
 */
final class PersonFigures {
    private PersonFigures() {}

    static Map<String, Double> run(PipelineSpec spec, Benchmarks.Options o, PrintStream out, PrintStream progress) throws Exception {
        PersonBenchmark.Report r = PersonBenchmark.run(spec, o.peopleClip(), o.cameraFps(), o.cameras(), o.latencySeconds(), progress);
        Map<String, Double> f = new LinkedHashMap<>();
        out.printf(Locale.ROOT, "person activity pipeline (%s), %d frames of %dx%d JPEG, looped:%n", spec.name(), r.frames(), r.width(),
                r.height());
        out.printf(Locale.ROOT, "  pose model alone (decode + MoveNet MultiPose, ONNX Runtime, 1 thread): %.1f ms per frame, %.2f people per frame%n",
                r.poseMsPerFrame(), r.peoplePerFrame());
        out.printf(Locale.ROOT, "  pipeline on the in-process broker (exactly-once), one camera as fast as it goes: %.1f frames/s%n", r.maxFps());
        f.put("person.pose_ms_per_frame", r.poseMsPerFrame());
        f.put("person.people_per_frame", r.peoplePerFrame());
        f.put("person.max_fps", r.maxFps());
        out.printf(Locale.ROOT, "  live, capture time to each person's prediction, after %d s of warm-up:%n", PersonBenchmark.WARMUP.toSeconds());
        out.printf(Locale.ROOT, "  %8s %10s %10s %9s %9s %12s %14s %13s %12s%n", "cameras", "frames/s", "sent/s", "p50 ms", "p99 ms",
                "predictions", "pose ms/frame", "GRU ms/person", "people/frame");
        for (PersonBenchmark.Live l : r.live()) {
            out.printf(Locale.ROOT, "  %8d %10.0f %10.1f %9.0f %9.0f %12d %14.1f %13.3f %12.2f%n", l.cameras(), l.fps() * l.cameras(),
                    l.sentFps(), l.p50Ms(), l.p99Ms(), l.samples(), l.poseMsPerFrame(), l.stepMsPerPerson(), l.peoplePerFrame());
            String k = "person.cameras_" + l.cameras() + ".";
            f.put(k + "latency_p50_ms", l.p50Ms());
            f.put(k + "latency_p99_ms", l.p99Ms());
            f.put(k + "pose_ms_per_frame", l.poseMsPerFrame());
            f.put(k + "gru_ms_per_person", l.stepMsPerPerson());
        }
        return f;
    }
}

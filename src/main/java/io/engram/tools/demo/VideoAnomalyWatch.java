package io.engram.tools.demo;

import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.runtime.PipelineRunner;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints the video anomaly pipeline's alerts in the demo as they come, beside the clip's true motion,
 * and counts them per camera. Owned by the thread that reads the alerts ({@link DemoWatch}).
 */
public final class VideoAnomalyWatch {
    private final String topic;
    private final PipelineRunner runner;
    private final VideoDemo video;
    private final Map<String, Integer> perCamera = new TreeMap<>();

    /**
     * @param topic the video anomaly pipeline's alerts topic
     * @param runner that pipeline, for its counts in the summary
     * @param video the cameras, for their true motion; null when there are none
     */
    public VideoAnomalyWatch(String topic, PipelineRunner runner, VideoDemo video) {
        this.topic = topic;
        this.runner = runner;
        this.video = video;
    }

    /** The topic whose records {@link #onAlert} takes. */
    public String topic() {
        return topic;
    }

    void onAlert(ForecastPrediction a) {
        perCamera.merge(a.stream(), 1, Integer::sum);
        VideoDemo.Camera cam = video == null ? null : video.camera(a.stream());
        String note = "";
        if (cam != null && !cam.truth().isEmpty()) {
            // The demo loops each clip: its first frames follow its last, a jump no camera makes.
            long inClip = a.step() % cam.truth().size();
            note = inClip < 5 ? "(the clip loops here: its last frame jumps to its first)"
                    : "(true motion: " + cam.truthAt(a.step() - 1) + " -> " + cam.truthAt(a.step()) + ")";
        }
        System.out.printf(Locale.ROOT, "%s  VIDEO ANOMALY %-15s frame %5d  score %.3f  %s%n", DemoWatch.clock(),
                a.stream(), a.step(), a.score(), note);
    }

    /** Prints the summary lines of the video anomaly pipeline. */
    public void summary() {
        int total = perCamera.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("  video anomaly frames scored: %.0f%n", runner.metrics().processedCount());
        System.out.printf("  video anomaly alerts: %d %s%n", total, perCamera);
    }
}

package io.engram.tools.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.pipeline.activity.ActivityHead;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The video activity pipeline's output in the demo: scores every prediction (live and refined)
 * against the clip's true motion ({@link VideoDemo#score}), prints every activity change, and
 * sums up the accuracy at the end. Owned by the thread that reads the records ({@link DemoWatch}).
 */
public final class ActivityWatch {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final VideoDemo video;

    public ActivityWatch(VideoDemo video) {
        this.video = video;
    }

    /** The topics whose records {@link #onRecord} takes: events, predictions and, when the pipeline refines, refined labels. */
    List<String> topics() {
        List<String> topics = new ArrayList<>();
        topics.add(video.config().topics().name(ActivityHead.EVENTS));
        topics.add(video.config().topics().name(ActivityHead.PREDICTIONS));
        if (video.config().usedTopics().contains(video.config().topics().name(ActivityHead.REFINED))) {
            topics.add(video.config().topics().name(ActivityHead.REFINED));
        }
        return topics;
    }

    /** Scores a prediction against the clip's truth, or prints an activity change. */
    void onRecord(String topic, byte[] value) {
        JsonNode n;
        try {
            n = JSON.readTree(value);
        } catch (IOException e) {
            return; // our own pipeline's JSON; nothing else writes these topics in the demo
        }
        String camera = n.path("camera").asText();
        long seq = n.path("frame_seq").asLong();
        String label = n.path("label").asText();
        if (topic.equals(video.config().topics().name(ActivityHead.PREDICTIONS))) {
            video.score(camera, seq, label);
            return;
        }
        if (topic.equals(video.config().topics().name(ActivityHead.REFINED))) {
            video.scoreRefined(camera, seq, label);
            return;
        }
        VideoDemo.Camera cam = video.camera(camera);
        String truth = cam == null ? null : cam.truthAt(seq);
        String previous = n.path("previous_label").isNull() ? "(start)" : n.path("previous_label").asText();
        System.out.printf(Locale.ROOT, "%s  ACTIVITY %-20s frame %5d  %-13s -> %-13s p %.2f  %s%n",
                DemoWatch.clock(), camera, seq, previous, label, n.path("probability").asDouble(),
                truth == null ? "" : "(true motion: " + truth + ")");
    }

    /** Prints the summary lines of the video side: frames, accuracy, live against refined. */
    public void summary() {
        System.out.printf("  video frames sent:    %d over %d cameras%n", video.framesSent(), video.cameras().size());
        System.out.printf("  video frames processed: %.0f%n", video.runner().metrics().processedCount());
        long scored = 0;
        long correct = 0;
        for (long[] s : video.scores().values()) {
            scored += s[0];
            correct += s[1];
        }
        System.out.printf(Locale.ROOT, "  activity accuracy:    %.1f%% of %d frames (frames %d+ after a change of the true motion)%n",
                scored == 0 ? 0.0 : 100.0 * correct / scored, scored, VideoDemo.SCORE_AFTER_CHANGE);
        long[] live = video.tallies(false);
        long[] refined = video.tallies(true);
        if (refined[0] + refined[2] > 0) {
            // Side by side: the refined labels come lag frames late, with look-ahead.
            System.out.printf(Locale.ROOT, "  live vs refined:      frames 0-%d after a change %.1f%% vs %.1f%% (%d vs %d frames);"
                    + " frames %d+ %.1f%% vs %.1f%%; all frames %.1f%% vs %.1f%%%n", VideoDemo.SCORE_AFTER_CHANGE - 1, pct(live[1], live[0]),
                    pct(refined[1], refined[0]), live[0], refined[0], VideoDemo.SCORE_AFTER_CHANGE, pct(live[3], live[2]),
                    pct(refined[3], refined[2]), pct(live[1] + live[3], live[0] + live[2]), pct(refined[1] + refined[3], refined[0] + refined[2]));
        }
    }

    private static double pct(long correct, long of) {
        return of == 0 ? 0.0 : 100.0 * correct / of;
    }
}

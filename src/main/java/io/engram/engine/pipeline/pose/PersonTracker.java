package io.engram.engine.pipeline.pose;

import io.engram.engine.model.Person;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Associates the people that a pose model finds in a camera's frame with the camera's tracks
 * ({@link PersonTracks}), so that each person becomes a stream of the step core, keyed
 * {@code camera/track}. Stateless and thread-safe: the tracks are passed in and updated in place.
 *
 * <p>A person and a track are alike by the mean of two measures, each 0 to 1: the overlap of their
 * boxes (intersection over union) and the keypoints' agreement, COCO's object keypoint similarity:
 * per keypoint seen in both, {@code exp(-d^2 / (2 s^2 k^2))} with {@code s^2} the track's box area and
 * {@code k} a per-frame tolerance. Pairs are matched greedily, most alike first, from
 * {@link Settings#minSimilarity} up; that is the usual tracker of pose pipelines, and enough at
 * camera frame rates, where a person moves a fraction of their size between frames. A person left
 * over starts a new track with the camera's next id (ids never repeat on a camera). A track not seen
 * for {@link Settings#timeoutMs} of event time ends.
 */
public final class PersonTracker {
    /**
     * @param minSimilarity the least similarity (0..1) that continues a track
     * @param keypointTolerance OKS's k: a keypoint's allowed move as a share of the person's size
     * @param minKeypointScore a keypoint with a lower score counts as not seen
     * @param timeoutMs a track not seen for this long (event time) ends
     * @param maxTracks at most this many tracks on a camera; beyond it the longest unseen ends first
     */
    public record Settings(double minSimilarity, double keypointTolerance, float minKeypointScore, long timeoutMs, int maxTracks) {
        public static final Settings DEFAULT = new Settings(0.3, 0.1, 0.3f, 2_000, 32);
    }

    /** A person seen in the frame, and the track it continues or starts. */
    public record Seen(long trackId, boolean started, Person person) {}

    /** What one frame did to the camera's tracks. */
    public record Step(List<Seen> seen, List<Long> ended) {}

    private final Settings settings;

    public PersonTracker(Settings settings) {
        this.settings = settings;
    }

    /**
     * Assigns the frame's {@code people} to the camera's {@code tracks} (updated in place) at event
     * time {@code timeMs}. Tracks unseen for longer than the timeout end first, so a person who
     * comes back after it gets a new track.
     */
    public Step step(PersonTracks tracks, List<Person> people, long timeMs) {
        List<Long> ended = new ArrayList<>();
        tracks.tracks.removeIf(t -> {
            boolean gone = timeMs - t.lastSeenMs > settings.timeoutMs();
            if (gone) {
                ended.add(t.id);
            }
            return gone;
        });
        List<double[]> pairs = new ArrayList<>(); // {similarity, track index, person index}
        for (int i = 0; i < tracks.tracks.size(); i++) {
            for (int j = 0; j < people.size(); j++) {
                double s = similarity(tracks.tracks.get(i), people.get(j));
                if (s >= settings.minSimilarity()) {
                    pairs.add(new double[] {s, i, j});
                }
            }
        }
        // Most alike first; ties by track age, then by the person's order (deterministic).
        pairs.sort(Comparator.<double[]>comparingDouble(p -> -p[0]).thenComparingDouble(p -> p[1]).thenComparingDouble(p -> p[2]));
        PersonTracks.Track[] byPerson = new PersonTracks.Track[people.size()];
        boolean[] trackTaken = new boolean[tracks.tracks.size()];
        for (double[] p : pairs) {
            int i = (int) p[1];
            int j = (int) p[2];
            if (!trackTaken[i] && byPerson[j] == null) {
                trackTaken[i] = true;
                byPerson[j] = tracks.tracks.get(i);
            }
        }
        List<Seen> seen = new ArrayList<>();
        for (int j = 0; j < people.size(); j++) {
            Person person = people.get(j);
            PersonTracks.Track t = byPerson[j];
            boolean started = t == null;
            if (started) {
                t = new PersonTracks.Track(tracks.nextId++, timeMs, person.box().clone(), person.keypoints().clone());
                tracks.tracks.add(t);
            } else {
                t.lastSeenMs = timeMs;
                t.box = person.box().clone();
                t.keypoints = person.keypoints().clone();
            }
            seen.add(new Seen(t.id, started, person));
        }
        while (tracks.tracks.size() > settings.maxTracks()) {
            PersonTracks.Track oldest = tracks.tracks.stream().min(Comparator.comparingLong((PersonTracks.Track t) -> t.lastSeenMs)
                    .thenComparingLong(t -> t.id)).orElseThrow();
            tracks.tracks.remove(oldest);
            ended.add(oldest.id);
        }
        return new Step(seen, ended);
    }

    /** The mean of the boxes' overlap and the keypoints' agreement, 0..1. */
    double similarity(PersonTracks.Track t, Person p) {
        return 0.5 * iou(t.box, p.box()) + 0.5 * oks(t, p);
    }

    static double iou(float[] a, float[] b) {
        double w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
        double h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
        if (w <= 0 || h <= 0) {
            return 0;
        }
        double inter = w * h;
        double union = area(a) + area(b) - inter;
        return union > 0 ? inter / union : 0;
    }

    private static double area(float[] box) {
        return Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
    }

    /** COCO's object keypoint similarity over the keypoints seen in both; 0 when none is. */
    double oks(PersonTracks.Track t, Person p) {
        int k = Math.min(t.keypoints.length, p.keypoints().length) / 3;
        double s2 = Math.max(area(t.box), 1.0);
        double kk = settings.keypointTolerance() * settings.keypointTolerance();
        double sum = 0;
        int n = 0;
        for (int i = 0; i < k; i++) {
            if (t.keypoints[3 * i + 2] < settings.minKeypointScore() || p.keypointScore(i) < settings.minKeypointScore()) {
                continue;
            }
            double dx = t.keypoints[3 * i] - p.x(i);
            double dy = t.keypoints[3 * i + 1] - p.y(i);
            sum += Math.exp(-(dx * dx + dy * dy) / (2 * s2 * kk));
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }
}

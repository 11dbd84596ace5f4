package io.engram.tools.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Clip-level scoring of per-frame, per-person activity predictions on labelled clips (BIISC naming,
 * {@code {subject}_{gender}_{action}_{STD|WLK}_{FCE|LFT|RGT}}). Pure: the caller hands it each
 * clip's predictions as (track, label) pairs; no I/O.
 *
 * <ul>
 *   <li>The clip's person is its track with the most predictions (ties: the lowest track id).
 *   <li>Standing against walking: over that track's frames, walking when frames labelled {@code walk}
 *       or {@code run} outnumber those labelled {@code stand} (ties and none: standing).
 *   <li>Waving against the other actions: waving when the share of that track's frames labelled
 *       {@code wave} is over a threshold; the threshold is chosen leave-one-subject-out
 *       ({@link #leaveOneSubjectOut}).
 * </ul>
 */
public final class PoseClipScores {
    private PoseClipScores() {}

    private static final Pattern NAME = Pattern.compile("([A-Za-z0-9]+)_([A-Za-z]+)_([A-Za-z]+)_(STD|WLK)_(FCE|LFT|RGT)");

    /** The candidate wave-share thresholds: 0.00, 0.05, ..., 0.95 (decision: share > threshold). */
    public static final double[] THRESHOLDS = thresholds();

    /** A clip's labels, from its name. */
    public record Clip(String name, String subject, String gender, String action, boolean walking, String side) {
        public boolean waving() {
            return action.equals("WAVE");
        }

        /** Parses {@code S001_M_WAVE_WLK_FCE} (an extension, if any, dropped). */
        public static Clip parse(String name) {
            String base = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
            Matcher m = NAME.matcher(base);
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + name + "' is not {subject}_{gender}_{action}_{STD|WLK}_{FCE|LFT|RGT}");
            }
            return new Clip(base, m.group(1), m.group(2), m.group(3), m.group(4).equals("WLK"), m.group(5));
        }
    }

    /** One clip's predictions: label counts by track. */
    public static final class Tally {
        private final Map<Long, Map<String, Integer>> byTrack = new TreeMap<>();

        public Tally add(long track, String label) {
            byTrack.computeIfAbsent(track, t -> new LinkedHashMap<>()).merge(label, 1, Integer::sum);
            return this;
        }

        /** The track with the most predictions (ties: the lowest id); -1 when none. */
        public long person() {
            long best = -1;
            int most = 0;
            for (var e : byTrack.entrySet()) {
                int n = total(e.getValue());
                if (n > most) {
                    most = n;
                    best = e.getKey();
                }
            }
            return best;
        }

        public int tracks() {
            return byTrack.size();
        }

        /** The person's label counts (empty when the clip has no predictions). */
        public Map<String, Integer> personLabels() {
            long p = person();
            return p < 0 ? Map.of() : byTrack.get(p);
        }

        public int predictions() {
            return byTrack.values().stream().mapToInt(Tally::total).sum();
        }

        private static int total(Map<String, Integer> m) {
            return m.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /** The person's figures for one clip. */
    public record Scored(Clip clip, int frames, int tracks, Map<String, Integer> labels) {
        public int count(String label) {
            return labels.getOrDefault(label, 0);
        }

        /** The person's frames: 0 when no one was seen. */
        public int personFrames() {
            return labels.values().stream().mapToInt(Integer::intValue).sum();
        }

        /** Walking when walk + run outnumber stand; ties and no frames: standing. */
        public boolean decidedWalking() {
            return count("walk") + count("run") > count("stand");
        }

        /** The share of the person's frames labelled wave (0 when none). */
        public double waveShare() {
            int n = personFrames();
            return n == 0 ? 0 : (double) count("wave") / n;
        }
    }

    public static Scored score(Clip clip, int frames, Tally t) {
        return new Scored(clip, frames, t.tracks(), Map.copyOf(t.personLabels()));
    }

    /** Standing against walking, positive = walking. */
    public static BinaryConfusion standWalk(Collection<Scored> clips) {
        BinaryConfusion c = BinaryConfusion.of("walking", "standing");
        for (Scored s : clips) {
            c = c.add(s.clip().walking(), s.decidedWalking());
        }
        return c;
    }

    /** Waving against the other actions at one threshold, positive = waving. */
    public static BinaryConfusion wave(Collection<Scored> clips, double threshold) {
        BinaryConfusion c = BinaryConfusion.of("wave", "other");
        for (Scored s : clips) {
            c = c.add(s.clip().waving(), s.waveShare() > threshold);
        }
        return c;
    }

    /** Waving against the other actions, each clip at its subject's threshold (as chosen by {@link #leaveOneSubjectOut}). */
    public static BinaryConfusion wave(Collection<Scored> clips, Map<String, Double> thresholdBySubject) {
        BinaryConfusion c = BinaryConfusion.of("wave", "other");
        for (Scored s : clips) {
            c = c.add(s.clip().waving(), s.waveShare() > thresholdBySubject.get(s.clip().subject()));
        }
        return c;
    }

    /** The threshold of {@link #THRESHOLDS} with the best balanced accuracy on {@code clips} (ties: the lowest). */
    public static double bestThreshold(Collection<Scored> clips) {
        double best = THRESHOLDS[0];
        double bestBa = -1;
        for (double t : THRESHOLDS) {
            double ba = wave(clips, t).balancedAccuracy()[0];
            if (Double.isNaN(ba)) {
                ba = wave(clips, t).accuracy().p();
            }
            if (ba > bestBa + 1e-12) {
                bestBa = ba;
                best = t;
            }
        }
        return best;
    }

    /** Leave-one-subject-out: each subject's clips decided at the threshold chosen on the others'. */
    public record Loso(BinaryConfusion confusion, Map<String, Double> thresholdBySubject) {}

    public static Loso leaveOneSubjectOut(Collection<Scored> clips) {
        TreeSet<String> subjects = new TreeSet<>();
        clips.forEach(s -> subjects.add(s.clip().subject()));
        BinaryConfusion total = BinaryConfusion.of("wave", "other");
        Map<String, Double> chosen = new LinkedHashMap<>();
        for (String held : subjects) {
            List<Scored> train = new ArrayList<>();
            List<Scored> test = new ArrayList<>();
            for (Scored s : clips) {
                (s.clip().subject().equals(held) ? test : train).add(s);
            }
            double t = train.isEmpty() ? THRESHOLDS[0] : bestThreshold(train);
            chosen.put(held, t);
            total = total.plus(wave(test, t));
        }
        return new Loso(total, chosen);
    }

    private static double[] thresholds() {
        double[] t = new double[20];
        for (int i = 0; i < t.length; i++) {
            t[i] = i * 5 / 100.0;
        }
        return t;
    }
}

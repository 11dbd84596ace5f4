package io.engram.tools.soak;

import io.engram.engine.kafka.TopicRole;
import io.engram.tools.harness.RunOutputs;
import io.engram.tools.soak.Soak.Counts;
import io.engram.tools.soak.Soak.PipelineResult;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The soak's verdict on one pipeline: the run's outputs against the reference's, counted per role
 * and key ({@link Counts}) and diffed record by record ({@link RunOutputs#diff}). Stateless.
 */
final class OutputComparison {
    private OutputComparison() {}

    /** {@code lane}'s result: its input, the counts, and the differences from its reference. */
    static PipelineResult compare(SoakLane l, RunOutputs got) {
        Counts c = Counts.of(l.reference, got);
        return new PipelineResult(l.name(), l.input.records().size(), l.input.good(), l.input.bad(), c.expected(), c.got(), c.lost(), c.duplicated(),
                c.different(), l.reference.diff(got));
    }

    /** See {@link Counts}: per role and key, as multisets of records. */
    static Counts counts(RunOutputs reference, RunOutputs run) {
        Tally t = new Tally();
        for (TopicRole role : reference.roles()) {
            Map<String, List<RunOutputs.Rec>> w = reference.role(role);
            Map<String, List<RunOutputs.Rec>> h = run.role(role);
            Set<String> keys = new LinkedHashSet<>(w.keySet());
            keys.addAll(h.keySet());
            for (String key : keys) {
                t.add(w.getOrDefault(key, List.of()), h.getOrDefault(key, List.of()));
            }
        }
        return new Counts(t.expected, t.got, t.lost, t.duplicated, t.different);
    }

    /** The counts so far, one key's records at a time. */
    private static final class Tally {
        int expected;
        int got;
        int lost;
        int duplicated;
        int different;

        /** Adds one key's records: the reference's ({@code want}) and the run's ({@code have}). */
        void add(List<RunOutputs.Rec> want, List<RunOutputs.Rec> have) {
            Map<String, Integer> counts = new TreeMap<>();
            for (RunOutputs.Rec r : want) {
                counts.merge(r.canonical(), 1, Integer::sum);
                expected++;
            }
            for (RunOutputs.Rec r : have) {
                got++;
                Integer n = counts.get(r.canonical());
                if (n == null) {
                    different++;
                } else if (n == 0) {
                    duplicated++;
                } else {
                    counts.put(r.canonical(), n - 1);
                }
            }
            lost += counts.values().stream().mapToInt(Integer::intValue).sum();
        }
    }
}

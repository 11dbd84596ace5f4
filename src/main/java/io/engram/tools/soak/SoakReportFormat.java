package io.engram.tools.soak;

import io.engram.tools.soak.Soak.Fault;
import io.engram.tools.soak.Soak.Injected;
import io.engram.tools.soak.Soak.PipelineResult;
import io.engram.tools.soak.Soak.Report;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The soak's {@link Report} as {@code engram soak} prints it, and as JSON for {@code --report}. Stateless. */
final class SoakReportFormat {
    private SoakReportFormat() {}

    static String text(Report r) {
        StringBuilder b = new StringBuilder();
        int input = r.pipelines().stream().mapToInt(PipelineResult::input).sum();
        b.append(String.format(Locale.ROOT, "soak: seed %d, %d broker%s, %.0f s, %s; %d input records sent in %.0f s (%.0f/s) under %d faults%n",
                r.seed(), r.brokers(), r.brokers() == 1 ? "" : "s", r.seconds(), r.passed() ? "PASSED" : "FAILED", input, r.ingestSeconds(),
                input / r.ingestSeconds(), r.faults().size()));
        pipelines(r, b);
        faults(r, b);
        for (PipelineResult p : r.pipelines()) {
            p.diff().stream().limit(10).forEach(d -> b.append("  ").append(p.pipeline()).append(": ").append(d).append('\n'));
        }
        return b.toString();
    }

    /** The table of pipelines: input, expected and actual output, lost, duplicated, different. */
    private static void pipelines(Report r, StringBuilder b) {
        b.append(String.format(Locale.ROOT, "%-16s %8s %8s %6s %10s %10s %6s %6s %6s%n", "pipeline", "input", "good", "bad",
                "expected", "got", "lost", "dup", "diff"));
        for (PipelineResult p : r.pipelines()) {
            b.append(String.format(Locale.ROOT, "%-16s %8d %8d %6d %10d %10d %6d %6d %6d%n", p.pipeline(), p.input(), p.good(), p.bad(),
                    p.referenceRecords(), p.outputRecords(), p.lost(), p.duplicated(), p.different()));
        }
    }

    /** The faults: by kind with the longest recovery, then each in order. */
    private static void faults(Report r, StringBuilder b) {
        boolean cluster = r.faults().stream().anyMatch(f -> !Double.isNaN(f.inSyncSeconds()));
        b.append(String.format(Locale.ROOT, "%-22s %6s %17s%s%n", "fault", "count", "longest recovery",
                cluster ? String.format(Locale.ROOT, " %17s", "longest in sync") : ""));
        Map<Fault, Double> longest = r.longestRecovery();
        Map<Fault, Double> longestInSync = r.longestInSync();
        r.counts().forEach((f, n) -> b.append(String.format(Locale.ROOT, "%-22s %6d %17s%s%n", f.id(), n, seconds(longest.get(f)),
                cluster ? String.format(Locale.ROOT, " %17s", Double.isNaN(longestInSync.get(f)) ? "-" : seconds(longestInSync.get(f))) : "")));
        for (Injected f : r.faults()) {
            b.append(String.format(Locale.ROOT, "  at %6.1f s  %-21s %-40s recovered in %s%s%n", f.atSeconds(), f.fault().id(), f.target(),
                    seconds(f.recoverySeconds()),
                    Double.isNaN(f.inSyncSeconds()) ? "" : ", replicas in sync in " + seconds(f.inSyncSeconds())));
        }
    }

    /** Seconds as "12.3 s"; a negative figure is a fault that did not recover in time. */
    private static String seconds(double s) {
        return s < 0 ? "NOT RECOVERED" : String.format(Locale.ROOT, "%.1f s", s);
    }

    static Map<String, Object> json(Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", r.seed());
        m.put("seconds", r.seconds());
        m.put("ingest_seconds", r.ingestSeconds());
        m.put("passed", r.passed());
        m.put("lost", r.lost());
        m.put("duplicated", r.duplicated());
        m.put("pipelines", r.pipelines());
        Map<String, Object> kinds = new LinkedHashMap<>();
        Map<Fault, Double> longest = r.longestRecovery();
        Map<Fault, Double> longestInSync = r.longestInSync();
        r.counts().forEach((f, n) -> {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("count", n);
            k.put("longest_recovery_s", longest.get(f));
            if (!Double.isNaN(longestInSync.get(f))) {
                k.put("longest_in_sync_s", longestInSync.get(f));
            }
            kinds.put(f.id(), k);
        });
        m.put("brokers", r.brokers());
        m.put("faults_by_kind", kinds);
        m.put("faults", r.faults());
        return m;
    }
}

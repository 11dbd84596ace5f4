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
        b.append(String.format(Locale.ROOT, "soak: seed %d, %.0f s, %s; %d input records sent in %.0f s (%.0f/s) under %d faults%n",
                r.seed(), r.seconds(), r.passed() ? "PASSED" : "FAILED", input, r.ingestSeconds(), input / r.ingestSeconds(), r.faults().size()));
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
        b.append(String.format(Locale.ROOT, "%-16s %6s %14s%n", "fault", "count", "longest recovery"));
        Map<Fault, Double> longest = r.longestRecovery();
        r.counts().forEach((f, n) -> b.append(String.format(Locale.ROOT, "%-16s %6d %14s%n", f.id(), n,
                longest.get(f) < 0 ? "NOT RECOVERED" : String.format(Locale.ROOT, "%.1f s", longest.get(f)))));
        for (Injected f : r.faults()) {
            b.append(String.format(Locale.ROOT, "  at %6.1f s  %-15s %-28s recovered in %s%n", f.atSeconds(), f.fault().id(), f.target(),
                    f.recovered() ? String.format(Locale.ROOT, "%.1f s", f.recoverySeconds()) : "NOT RECOVERED"));
        }
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
        r.counts().forEach((f, n) -> kinds.put(f.id(), Map.of("count", n, "longest_recovery_s", longest.get(f))));
        m.put("faults_by_kind", kinds);
        m.put("faults", r.faults());
        return m;
    }
}

package io.engram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering of docs/architecture.md, read off the sources: which package uses which (imports
 * and fully qualified names), with no cycle anywhere, {@code model} free of Kafka, the core free of
 * what is built on it, and the embedded broker used only by the demo, the {@code broker} command
 * and benchmarks.
 */
class ArchitectureTest {
    static final Path MAIN = Path.of("src/main/java");
    static final Pattern REF = Pattern.compile("\\b(io\\.engram(?:\\.[a-z]\\w*)+)\\.[A-Z]");

    /** package -> the io.engram packages it uses, and -> whether it uses Kafka. */
    static Map<String, Set<String>> graph(Set<String> kafkaUsers) throws IOException {
        Map<String, Set<String>> g = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                // Code only: a comment may name any class.
                String src = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                String pkg = MAIN.relativize(f.getParent()).toString().replace('/', '.');
                Set<String> uses = g.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REF.matcher(src.replaceAll("(?m)^package .*$", ""));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        uses.add(m.group(1));
                    }
                }
                if (src.contains("org.apache.kafka")) {
                    kafkaUsers.add(pkg);
                }
            }
        }
        return g;
    }

    @Test
    void packagesDependOneWayWithoutCycles() throws IOException {
        Map<String, Set<String>> g = graph(new TreeSet<>());
        List<String> cycles = new ArrayList<>();
        for (String a : g.keySet()) {
            for (String b : g.get(a)) {
                if (reaches(g, b, a, new TreeSet<>())) {
                    cycles.add(a + " <-> " + b);
                }
            }
        }
        assertEquals(List.of(), cycles, "package cycles; the graph: " + g);
    }

    static boolean reaches(Map<String, Set<String>> g, String from, String to, Set<String> seen) {
        if (from.equals(to)) {
            return true;
        }
        if (!seen.add(from)) {
            return false;
        }
        for (String n : g.getOrDefault(from, Set.of())) {
            if (reaches(g, n, to, seen)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void eachLayerUsesOnlyTheLayersBelowIt() throws IOException {
        Set<String> kafka = new TreeSet<>();
        Map<String, Set<String>> g = graph(kafka);
        assertTrue(!kafka.contains("io.engram.model"), "model knows nothing of Kafka");
        assertEquals(Set.of("io.engram.errors"), g.get("io.engram.model"), "model uses only the error types");
        assertEquals(Set.of(), g.get("io.engram.errors"));
        assertEquals(Set.of("io.engram.errors", "io.engram.model"), g.get("io.engram.core"), "the core is built on model and errors only");
        assertEquals(Set.of("io.engram.core", "io.engram.errors"), g.get("io.engram.monitoring"),
                "the Micrometer binder sits above the core, which reports through PipelineMeters");
        for (var e : g.entrySet()) {
            if (e.getValue().contains("io.engram.embedded")) {
                assertTrue(Set.of("io.engram.cli", "io.engram.demo", "io.engram.bench", "io.engram.soak").contains(e.getKey()),
                        e.getKey() + " uses the embedded broker, which serves only the demo, the broker command, benchmarks and the soak");
            }
            if (e.getKey().startsWith("io.engram.pipeline")) {
                for (String used : e.getValue()) {
                    assertTrue(used.startsWith("io.engram.pipeline") || Set.of("io.engram.core", "io.engram.model", "io.engram.errors").contains(used),
                            e.getKey() + " uses " + used + ": a pipeline is built on the core alone");
                }
            }
        }
    }
}

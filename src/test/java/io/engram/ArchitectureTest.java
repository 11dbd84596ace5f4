package io.engram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * The two wings and the layers of docs/architecture.md, read off the sources: which package uses
 * which (imports and fully qualified names). The engine ({@code io.engram.engine}) never uses the
 * tools ({@code io.engram.tools}); inside the engine each layer uses only the layers below it; no
 * package cycle anywhere; {@code model} free of Kafka; the step core free of Micrometer; the
 * in-process broker used only by the tools that run one.
 */
class ArchitectureTest {
    static final Path MAIN = Path.of("src/main/java");
    static final Pattern REF = Pattern.compile("\\b(io\\.engram(?:\\.[a-z]\\w*)+)\\.[A-Z]");
    static final String ENGINE = "io.engram.engine";
    static final String TOOLS = "io.engram.tools";

    /**
     * The engine's layers, lowest first; a package uses only packages of lower layers (the pipeline
     * packages may also use each other, without a cycle).
     */
    static final List<Set<String>> LAYERS = List.of(
            Set.of("errors"),
            Set.of("model"),
            Set.of("state"),
            Set.of("monitoring"),
            Set.of("kafka"),
            Set.of("config"),
            Set.of("step"),
            Set.of("pipeline", "pipeline.video", "pipeline.anomaly", "pipeline.activity", "pipeline.pose", "pipeline.refine"),
            Set.of("runtime"));

    /** The package's facts, read from its sources. */
    record Sources(Map<String, Set<String>> uses, Set<String> kafka, Set<String> micrometer) {}

    /** package -> the io.engram packages it uses, and which packages use Kafka or Micrometer. */
    static Sources read(Path root) throws IOException {
        Map<String, Set<String>> g = new TreeMap<>();
        Set<String> kafka = new TreeSet<>();
        Set<String> micrometer = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                // Code only: a comment may name any class.
                String src = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                String pkg = root.relativize(f.getParent()).toString().replace('/', '.');
                Set<String> uses = g.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REF.matcher(src.replaceAll("(?m)^package .*$", ""));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        uses.add(m.group(1));
                    }
                }
                if (src.contains("org.apache.kafka")) {
                    kafka.add(pkg);
                }
                if (src.contains("io.micrometer")) {
                    micrometer.add(pkg);
                }
            }
        }
        return new Sources(g, kafka, micrometer);
    }

    /** Each use of a tool by the engine, as "engine package -> tool package". */
    static List<String> engineUsesOfTools(Map<String, Set<String>> g) {
        List<String> bad = new ArrayList<>();
        g.forEach((pkg, uses) -> {
            if (pkg.startsWith(ENGINE)) {
                uses.stream().filter(u -> u.startsWith(TOOLS)).forEach(u -> bad.add(pkg + " -> " + u));
            }
        });
        return bad;
    }

    /** Each use inside the engine that does not point down its layers. */
    static List<String> layerViolations(Map<String, Set<String>> g) {
        List<String> bad = new ArrayList<>();
        g.forEach((pkg, uses) -> {
            int from = layer(pkg);
            if (from < 0) {
                return;
            }
            for (String u : uses) {
                int to = layer(u);
                boolean pipelines = from == to && from == LAYERS.size() - 2;
                if (u.startsWith(ENGINE) && (to < 0 || (to >= from && !pipelines))) {
                    bad.add(pkg + " -> " + u);
                }
            }
        });
        return bad;
    }

    static int layer(String pkg) {
        if (!pkg.startsWith(ENGINE + ".")) {
            return -1;
        }
        String rel = pkg.substring(ENGINE.length() + 1);
        for (int i = 0; i < LAYERS.size(); i++) {
            if (LAYERS.get(i).contains(rel)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void everyPackageIsInOneWing() throws IOException {
        for (String pkg : read(MAIN).uses().keySet()) {
            assertTrue(pkg.startsWith(TOOLS) || layer(pkg) >= 0,
                    pkg + " is in neither wing: put it under " + TOOLS + ", or under " + ENGINE + " and into LAYERS (docs/architecture.md)");
        }
    }

    @Test
    void theEngineNeverUsesTheTools() throws IOException {
        assertEquals(List.of(), engineUsesOfTools(read(MAIN).uses()));
    }

    @Test
    void theCheckCatchesAnEngineClassThatImportsATool(@TempDir Path dir) throws IOException {
        Path engine = Files.createDirectories(dir.resolve("io/engram/engine/step"));
        Files.writeString(engine.resolve("Bad.java"), "package io.engram.engine.step;\nimport io.engram.tools.cli.EngramCli;\nclass Bad {}\n");
        Path fq = Files.createDirectories(dir.resolve("io/engram/engine/model"));
        Files.writeString(fq.resolve("AlsoBad.java"),
                "package io.engram.engine.model;\n// io.engram.tools.demo.VideoDemo in a comment is fine\nclass AlsoBad { Object o = io.engram.tools.bench.Benchmarks.class; }\n");
        Sources s = read(dir);
        assertEquals(List.of("io.engram.engine.model -> io.engram.tools.bench", "io.engram.engine.step -> io.engram.tools.cli"),
                engineUsesOfTools(s.uses()));
        assertEquals(List.of(), layerViolations(s.uses()), "a tool is not an engine layer");
        Files.writeString(fq.resolve("Up.java"), "package io.engram.engine.model;\nimport io.engram.engine.step.Bad;\nclass Up {}\n");
        assertEquals(List.of("io.engram.engine.model -> io.engram.engine.step"), layerViolations(read(dir).uses()));
    }

    @Test
    void packagesDependOneWayWithoutCycles() throws IOException {
        Map<String, Set<String>> g = read(MAIN).uses();
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
    void eachEngineLayerUsesOnlyTheLayersBelowIt() throws IOException {
        Sources s = read(MAIN);
        assertEquals(List.of(), layerViolations(s.uses()), "the graph: " + s.uses());
        assertFalse(s.kafka().contains(ENGINE + ".model"), "model knows nothing of Kafka");
        assertEquals(Set.of(ENGINE + ".errors"), s.uses().get(ENGINE + ".model"), "model uses only the error types");
        assertEquals(Set.of(), s.uses().get(ENGINE + ".errors"));
        for (String core : List.of("state", "kafka", "config", "step")) {
            assertFalse(s.micrometer().contains(ENGINE + "." + core),
                    core + " reports through PipelineMeters; only the binder in monitoring knows Micrometer");
        }
        for (var e : s.uses().entrySet()) {
            if (e.getKey().startsWith(ENGINE + ".pipeline")) {
                for (String used : e.getValue()) {
                    assertFalse(used.equals(ENGINE + ".runtime"), e.getKey() + " uses the runtime: a pipeline is built on the core alone");
                }
            }
        }
    }

    @Test
    void theInProcessBrokerServesOnlyTheToolsThatRunOne() throws IOException {
        Set<String> allowed = Set.of(TOOLS + ".cli", TOOLS + ".demo", TOOLS + ".bench", TOOLS + ".soak");
        for (var e : read(MAIN).uses().entrySet()) {
            if (e.getValue().contains(TOOLS + ".broker")) {
                assertTrue(allowed.contains(e.getKey()),
                        e.getKey() + " uses the in-process broker, which serves only the demo, the broker command, benchmarks and the soak");
            }
        }
    }
}

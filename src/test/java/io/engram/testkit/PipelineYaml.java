package io.engram.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.EngramProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

/**
 * A variant of a shipped pipeline file ({@code topology/*.yaml}) for a test: the same file with some
 * keys changed, written where the test wants it, so that an {@code engram run} child process
 * ({@link EngramProcess}) and an in-process run load the same pipeline. Every {@code manifest:}
 * path is made absolute, since paths in a pipeline file are relative to the file. Immutable: each
 * change returns a new variant.
 */
public final class PipelineYaml {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private final Path source;
    private final ObjectNode root;

    private PipelineYaml(Path source, ObjectNode root) {
        this.source = source;
        this.root = root;
    }

    /** The shipped file, e.g. {@code topology/video-activity.yaml}, as it is. */
    public static PipelineYaml of(String file) {
        Path source = Path.of(file).toAbsolutePath().normalize();
        try {
            ObjectNode root = (ObjectNode) YAML.readTree(source.toFile());
            absoluteManifests(root, source.getParent());
            return new PipelineYaml(source, root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file this variant is made from. */
    public Path source() {
        return source;
    }

    /** Sets {@code section.key} (e.g. {@code scoring.warmup_steps}), which must exist in the shipped file. */
    public PipelineYaml set(String dottedKey, Object value) {
        ObjectNode copy = root.deepCopy();
        String[] parts = dottedKey.split("\\.");
        ObjectNode at = copy;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode next = at.get(parts[i]);
            if (!(next instanceof ObjectNode o)) {
                throw new IllegalArgumentException(source + " has no section '" + parts[i] + "' for " + dottedKey);
            }
            at = o;
        }
        String key = parts[parts.length - 1];
        if (!at.has(key)) {
            throw new IllegalArgumentException(source + " has no key " + dottedKey);
        }
        at.set(key, YAML.valueToTree(value));
        return new PipelineYaml(source, copy);
    }

    /** The application id (Kafka Streams' consumer group and state namespace). */
    public PipelineYaml applicationId(String id) {
        return set("application_id", id);
    }

    /** Every topic's name by role and the partitions of the topics Engram creates. */
    public PipelineYaml topics(PipelineTopics t) {
        PipelineYaml y = set("topics.partitions", t.partitions());
        for (Map.Entry<String, String> e : t.names().entrySet()) {
            y = y.set("topics." + e.getKey(), e.getValue());
        }
        return y;
    }

    public PipelineYaml standbys(int n) {
        return set("processing.standby_replicas", n);
    }

    /** The pipeline as the shipped file defines it with these changes (loads a written copy). */
    public PipelineSpec spec(Path dir) {
        return Pipelines.load(write(dir.resolve("pipeline-" + Integer.toHexString(root.hashCode()) + ".yaml")));
    }

    /** Writes the variant to {@code file} and returns it. */
    public Path write(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            YAML.writeValue(file.toFile(), root);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void absoluteManifests(ObjectNode node, Path dir) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue() instanceof ObjectNode o) {
                absoluteManifests(o, dir);
            } else if (e.getKey().equals("manifest") && e.getValue().isTextual()) {
                node.put("manifest", dir.resolve(e.getValue().asText()).normalize().toString());
            }
        }
    }
}

package io.engram.engine.config;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates a pipeline YAML file: every message names the file, the full key (e.g.
 * {@code topics.partitions}) and the fix, and unknown keys are errors (a typo would otherwise
 * silently fall back to a default). Remembers the key path of each section it hands out.
 */
public record ConfigReader(Path file, Map<JsonNode, String> paths) {
    public ConfigReader(Path file) {
        this(file, new IdentityHashMap<>());
    }

    /** {@code key} inside node {@code n}, as a full dotted key: {@code partitions} in topics is {@code topics.partitions}. */
    private String full(JsonNode n, String key) {
        return paths.getOrDefault(n, "") + key;
    }

    /**
     * Pipeline files are read with duplicate keys refused: YAML parsers otherwise keep the last
     * value without a word, and a pasted second {@code kafka:} or {@code processing:} section would
     * silently replace the first.
     */
    private static final YAMLFactory YAML = YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** Parses the file as a YAML mapping. */
    public static JsonNode read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("Pipeline file not found: " + file
                    + ". Fix: pass --config with an existing file, e.g. topology/sensor-anomaly.yaml.");
        }
        JsonNode root;
        try {
            root = new ObjectMapper(YAML).readTree(file.toFile());
        } catch (IOException e) {
            String dup = ConfigException.duplicateKey(e);
            if (dup != null) {
                throw new ConfigException("Pipeline file " + file + ": the key " + ConfigException.givenTwice(dup, e)
                        + "; YAML would silently take the last value. Fix: keep one '" + dup + "'.", e);
            }
            throw new ConfigException("Pipeline file " + file + " is not valid YAML: " + ConfigException.syntaxError(e)
                    + ". Fix the syntax (compare with the files in topology/).", e);
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException("Pipeline file " + file + " is empty or not a YAML mapping."
                    + " Fix: start from a file in topology/.");
        }
        return root;
    }

    public ConfigException error(String key, String what) {
        return new ConfigException("Pipeline file " + file + ": '" + key + "' " + what
                + ". Fix that key (see the files in topology/ and docs/configuration.md).");
    }

    public void known(JsonNode node, String prefix, Set<String> keys) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) {
                throw error(prefix + k, "is not a known key (known: " + keys + ")");
            }
        }
    }

    public JsonNode section(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            n = new ObjectMapper().createObjectNode();
        } else if (!n.isObject()) {
            throw error(full(root, key), "must be a mapping");
        }
        paths.put(n, full(root, key) + ".");
        return n;
    }

    public String text(JsonNode n, String key, String dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (dflt == null) {
                throw error(full(n, key), "is required");
            }
            return dflt;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw error(full(n, key), "must be a non-empty string");
        }
        return v.asText();
    }

    public double number(JsonNode n, String key, double dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw error(full(n, key), "must be a number");
        }
        return v.asDouble();
    }

    public long integer(JsonNode n, String key, long dflt, long min, long max) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
            throw error(full(n, key), "must be an integer in [" + min + ", " + max + "]");
        }
        return v.asLong();
    }

    public boolean bool(JsonNode n, String key, boolean dflt) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw error(full(n, key), "must be true or false");
        }
        return v.asBoolean();
    }

    /** One of {@code allowed} (lower case), or the default. */
    public String choice(JsonNode n, String key, String dflt, java.util.List<String> allowed) {
        String s = text(n, key, dflt);
        if (!allowed.contains(s)) {
            throw error(full(n, key), "is '" + s + "', not one of " + String.join(", ", allowed));
        }
        return s;
    }

    /** The lifecycle keys of a {@code state:} section (every pipeline): gap, idle expiry. */
    public StatePolicy statePolicy(JsonNode st) {
        StatePolicy d = StatePolicy.DEFAULTS;
        String gap = text(st, "on_gap", d.onGap().yaml());
        StatePolicy.GapAction action;
        if (gap.equals("reset")) {
            action = StatePolicy.GapAction.RESET;
        } else if (gap.equals("carry")) {
            action = StatePolicy.GapAction.CARRY;
        } else {
            throw error("state.on_gap", "must be reset or carry");
        }
        return new StatePolicy(
                integer(st, "max_gap_ms", d.maxGapMs(), 0, Long.MAX_VALUE), action,
                integer(st, "idle_ttl_ms", d.idleTtlMs(), 0, Long.MAX_VALUE),
                integer(st, "idle_scan_interval_ms", d.idleScanIntervalMs(), 1, Long.MAX_VALUE),
                integer(st, "memory_mb", d.memoryMb(), 0, 1_048_576));
    }
}

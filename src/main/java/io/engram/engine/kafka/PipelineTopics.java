package io.engram.engine.kafka;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The topics of one pipeline by role ({@link TopicRole}: {@code input}, {@code predictions},
 * {@code dead_letter}, ..., the keys of the YAML's {@code topics:} section), with how Engram creates
 * them. Immutable.
 *
 * <p>Everything looks topics up by {@link TopicRole} ({@link #name}, {@link #except}, {@link #with});
 * {@link #names} keeps the YAML keys, as the file writes them.
 *
 * @param names topic name by role key, in the pipeline type's order
 * @param partitions partitions of a topic Engram creates
 * @param replicationFactor its replication factor; -1 = the cluster's default
 */
public record PipelineTopics(Map<String, String> names, int partitions, short replicationFactor) {
    public PipelineTopics {
        names = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(names));
    }

    /** The topic of {@code role}; an unknown role is a programming error. */
    public String name(TopicRole role) {
        String n = names.get(role.key());
        if (n == null) {
            throw new IllegalArgumentException("pipeline has no topic role '" + role + "' (roles: " + names.keySet() + ")");
        }
        return n;
    }

    public String deadLetter() {
        return name(TopicRole.DEAD_LETTER);
    }

    public String stateEvents() {
        return name(TopicRole.STATE_EVENTS);
    }

    /** Every role, in the pipeline type's order. */
    public List<TopicRole> roles() {
        return names.keySet().stream().map(TopicRole::new).toList();
    }

    /** Every topic, in role order, without repeats. */
    public List<String> all() {
        return new ArrayList<>(new java.util.LinkedHashSet<>(names.values()));
    }

    /** The same topics with {@code suffix} appended to every name (tests and benchmarks that share a broker). */
    public PipelineTopics withSuffix(String suffix) {
        Map<String, String> m = new LinkedHashMap<>();
        names.forEach((k, v) -> m.put(k, v + suffix));
        return new PipelineTopics(m, partitions, replicationFactor);
    }

    /** The same topics with {@code prefix} before every name. */
    public PipelineTopics withPrefix(String prefix) {
        Map<String, String> m = new LinkedHashMap<>();
        names.forEach((k, v) -> m.put(k, prefix + v));
        return new PipelineTopics(m, partitions, replicationFactor);
    }

    /** Every topic but those of {@code roles} (e.g. the outputs: all but the inputs), in role order. */
    public List<String> except(TopicRole... roles) {
        java.util.Set<String> skip = java.util.Arrays.stream(roles).map(TopicRole::key).collect(java.util.stream.Collectors.toSet());
        List<String> out = new ArrayList<>();
        names.forEach((k, v) -> {
            if (!skip.contains(k) && !out.contains(v)) {
                out.add(v);
            }
        });
        return out;
    }

    /** The same topics with role {@code role} renamed to {@code name}. */
    public PipelineTopics with(TopicRole role, String name) {
        name(role);
        Map<String, String> m = new LinkedHashMap<>(names);
        m.put(role.key(), name);
        return new PipelineTopics(m, partitions, replicationFactor);
    }

    public PipelineTopics withPartitions(int n) {
        return new PipelineTopics(names, n, replicationFactor);
    }
}

package io.engram.engine.config;

import io.engram.engine.kafka.TopicRole;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The declarative part of a {@link PipelineKind}, given once to the constructor: its type, topic
 * roles with their default names, step input role, default store and metrics port, own sections
 * and extra keys. A kind then writes only {@link #settings} and {@link #build}. Immutable.
 */
public abstract class AbstractPipelineKind<S> implements PipelineKind<S> {
    private final String type;
    private final Map<TopicRole, String> topics;
    private final TopicRole stepInputRole;
    private final String defaultStore;
    private final int defaultMetricsPort;
    private final Set<String> sections;
    private final Map<String, Set<String>> extraKeys;

    /**
     * @param topics each role with its default topic name ({@link #topic}), in order; they must
     *     include the step input, dead-letter and state-events roles
     */
    @SafeVarargs
    protected AbstractPipelineKind(String type, TopicRole stepInputRole, String defaultStore, int defaultMetricsPort, Set<String> sections,
            Map<String, Set<String>> extraKeys, Map.Entry<TopicRole, String>... topics) {
        this.type = type;
        this.stepInputRole = stepInputRole;
        this.defaultStore = defaultStore;
        this.defaultMetricsPort = defaultMetricsPort;
        this.sections = Set.copyOf(sections);
        this.extraKeys = Map.copyOf(extraKeys);
        Map<TopicRole, String> t = new LinkedHashMap<>();
        for (Map.Entry<TopicRole, String> e : topics) {
            t.put(e.getKey(), e.getValue());
        }
        if (!t.containsKey(stepInputRole) || !t.containsKey(TopicRole.DEAD_LETTER) || !t.containsKey(TopicRole.STATE_EVENTS)) {
            throw new IllegalArgumentException("pipeline type " + type + " must name its input, dead-letter and state-events topics");
        }
        this.topics = Collections.unmodifiableMap(t);
    }

    /** A role and its default topic name, for the constructor. */
    protected static Map.Entry<TopicRole, String> topic(TopicRole role, String defaultName) {
        return Map.entry(role, defaultName);
    }

    @Override
    public final String type() {
        return type;
    }

    @Override
    public final Map<TopicRole, String> defaultTopics() {
        return topics;
    }

    @Override
    public final TopicRole stepInputRole() {
        return stepInputRole;
    }

    @Override
    public final String defaultStore() {
        return defaultStore;
    }

    @Override
    public final int defaultMetricsPort() {
        return defaultMetricsPort;
    }

    @Override
    public final Set<String> sections() {
        return sections;
    }

    @Override
    public final Map<String, Set<String>> extraKeys() {
        return extraKeys;
    }

    @Override
    public String toString() {
        return "pipeline type " + type;
    }
}

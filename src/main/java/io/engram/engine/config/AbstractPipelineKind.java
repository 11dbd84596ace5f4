package io.engram.engine.config;

import io.engram.engine.kafka.PipelineTopics;

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
    private final Map<String, String> topics;
    private final String stepInputRole;
    private final String defaultStore;
    private final int defaultMetricsPort;
    private final Set<String> sections;
    private final Map<String, Set<String>> extraKeys;

    /**
     * @param topicRolesAndNames role, default name, role, default name, ... in order; the dead-letter
     *     and state-events roles are added at the end if missing
     */
    protected AbstractPipelineKind(String type, String stepInputRole, String defaultStore, int defaultMetricsPort, Set<String> sections,
            Map<String, Set<String>> extraKeys, String... topicRolesAndNames) {
        this.type = type;
        this.stepInputRole = stepInputRole;
        this.defaultStore = defaultStore;
        this.defaultMetricsPort = defaultMetricsPort;
        this.sections = Set.copyOf(sections);
        this.extraKeys = Map.copyOf(extraKeys);
        Map<String, String> t = new LinkedHashMap<>();
        for (int i = 0; i + 1 < topicRolesAndNames.length; i += 2) {
            t.put(topicRolesAndNames[i], topicRolesAndNames[i + 1]);
        }
        if (!t.containsKey(stepInputRole) || !t.containsKey(PipelineTopics.DEAD_LETTER) || !t.containsKey(PipelineTopics.STATE_EVENTS)) {
            throw new IllegalArgumentException("pipeline type " + type + " must name its input, dead-letter and state-events topics");
        }
        this.topics = Collections.unmodifiableMap(t);
    }

    @Override
    public final String type() {
        return type;
    }

    @Override
    public final Map<String, String> defaultTopics() {
        return topics;
    }

    @Override
    public final String stepInputRole() {
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

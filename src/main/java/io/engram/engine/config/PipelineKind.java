package io.engram.engine.config;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.monitoring.PipelineMeters;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A type of pipeline ({@code type:} in a pipeline YAML): its head, its topics and its own YAML
 * sections. The common sections ({@code topics}, {@code model}, {@code state}, {@code processing},
 * {@code metrics}) are parsed once by {@link PipelineSpec}; a kind parses only its own and builds
 * its topology around the one {@link StepProcessor}. Implementations are stateless singletons.
 *
 * @param <S> the kind's own settings, as {@link #settings} parses them and
 *     {@link PipelineSpec#settings(PipelineKind)} gives them back
 */
public interface PipelineKind<S> {
    /** The value of {@code type:} that selects this kind. */
    String type();

    /** Topic roles, in order, with their default names; must include {@link TopicRole#DEAD_LETTER} and {@link TopicRole#STATE_EVENTS}. */
    Map<TopicRole, String> defaultTopics();

    /** The role of the topic the step processor reads. */
    TopicRole stepInputRole();

    /** The roles of a pipeline's input topics, those its users write: the step input's by default. */
    default List<TopicRole> inputRoles(PipelineSpec spec) {
        return List.of(stepInputRole());
    }

    /**
     * The roles of every topic a pipeline of this spec consumes: its inputs and any topic that joins
     * two of its own stages.
     */
    default List<TopicRole> consumedRoles(PipelineSpec spec) {
        return inputRoles(spec);
    }

    /**
     * The roles of the topics a pipeline of this spec reads or writes: the ones Engram creates and
     * checks. Every role by default; a role the spec's settings turn off is left out.
     */
    default List<TopicRole> usedRoles(PipelineSpec spec) {
        return spec.topics().names().keySet().stream().map(TopicRole::new).toList();
    }

    /** Default {@code state.store}. */
    String defaultStore();

    /** Default {@code metrics.port}. */
    int defaultMetricsPort();

    /** Top-level YAML sections of this kind's own, besides the common ones. */
    Set<String> sections();

    /** Keys this kind adds to a common section (e.g. {@code state} -> {@code shape_store}). */
    default Map<String, Set<String>> extraKeys() {
        return Map.of();
    }

    /** Parses and validates the kind's own settings; errors name the file and key ({@link ConfigReader#error}). */
    S settings(ConfigReader reader, JsonNode root);

    /**
     * Checks that the model suits this kind, loads any further models and builds the topology. The
     * further models come back with the topology, owned by the caller from then on; when the build
     * fails, the kind closes what it had loaded before it throws.
     *
     * @param model the loaded step model, shared by all tasks and still owned by the caller; null
     *     builds the baseline with the model call removed
     */
    BuiltPipeline build(PipelineSpec spec, ModelManifest manifest, StepSession model, PipelineMeters meters);
}

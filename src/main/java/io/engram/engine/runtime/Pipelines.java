package io.engram.engine.runtime;

import io.engram.engine.config.PipelineKind;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pipeline types this Engram knows, by the value of {@code type:} in a pipeline YAML. Adding a
 * pipeline with a new head means adding its {@link PipelineKind} here; a new pipeline over an
 * existing head is a YAML file only.
 */
public final class Pipelines {
    private static final Map<String, PipelineKind<?>> KINDS = new LinkedHashMap<>();

    static {
        for (PipelineKind<?> k : List.of(AnomalyPipeline.INSTANCE, VideoActivityPipeline.INSTANCE, PoseActivityPipeline.INSTANCE)) {
            KINDS.put(k.type(), k);
        }
    }

    private Pipelines() {}

    /** Loads and validates a pipeline file of any known type. */
    public static PipelineSpec load(Path file) {
        return PipelineSpec.load(file, KINDS::get, KINDS.keySet());
    }

    /** Loads a pipeline file with keys set as on the command line ({@code --set key=value}). */
    public static PipelineSpec load(Path file, Map<String, String> overrides) {
        return PipelineSpec.load(file, KINDS::get, KINDS.keySet(), overrides);
    }
}

package io.engram.engine.pipeline.activity;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One record of {@code activity-predictions}: the activity after this frame; or, with {@code lag}
 * set, of {@code activity-refined}: the activity of that frame with look-ahead, known {@code lag}
 * frames later. The live record has no {@code lag} field. See docs/topics.md.
 */
@JsonPropertyOrder({"camera", "event_time", "frame_seq", "step", "label", "probability", "probabilities", "encoder",
        "model_id", "model_version", "lag"})
public record ActivityPrediction(
        @JsonProperty("camera") String camera,
        @JsonProperty("event_time") long eventTime,
        @JsonProperty("frame_seq") long frameSeq,
        @JsonProperty("step") long step,
        @JsonProperty("label") String label,
        @JsonProperty("probability") double probability,
        @JsonProperty("probabilities") Probabilities probabilities,
        @JsonProperty("encoder") String encoder,
        @JsonProperty("model_id") String modelId,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("lag") @JsonInclude(JsonInclude.Include.NON_NULL) Integer lag) {}

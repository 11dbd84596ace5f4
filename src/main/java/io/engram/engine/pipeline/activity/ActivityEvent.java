package io.engram.engine.pipeline.activity;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One record of {@code activity-events}: a camera's activity changed at this frame; or, with
 * {@code lag} set, of {@code activity-refined-events}: by the refined labels, known {@code lag}
 * frames later. The live record has no {@code lag} field.
 */
@JsonPropertyOrder({"camera", "event_time", "frame_seq", "step", "label", "probability", "previous_label", "model_id", "model_version",
        "lag"})

public record ActivityEvent(
        @JsonProperty("camera") String camera,
        @JsonProperty("event_time") long eventTime,
        @JsonProperty("frame_seq") long frameSeq,
        @JsonProperty("step") long step,
        @JsonProperty("label") String label,
        @JsonProperty("probability") double probability,
        @JsonProperty("previous_label") String previousLabel,
        @JsonProperty("model_id") String modelId,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("lag") @JsonInclude(JsonInclude.Include.NON_NULL) Integer lag) {}

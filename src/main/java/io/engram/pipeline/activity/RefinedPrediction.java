package io.engram.pipeline.activity;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One record of {@code activity-refined}: the activity of the frame {@code lag} frames before the
 * camera's newest, with look-ahead. The fields of {@link ActivityPrediction} (about that earlier
 * frame: its capture time, sequence number and step), plus the lag. See docs/topics.md.
 */
@JsonPropertyOrder({"camera", "event_time", "frame_seq", "step", "label", "probability", "probabilities", "encoder",
        "model_id", "model_version", "lag"})
public record RefinedPrediction(
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
        @JsonProperty("lag") int lag) {}

package io.engram.engine.pipeline.pose;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One record of {@code person-events}, {@code person-events-refined} or {@code person-falls}; see
 * docs/topics.md.
 *
 * <ul>
 *   <li>{@code person-events}: a person's activity changed to {@code label} ({@code previous_label}
 *       is the one announced before, null for the person's first), having been on top for
 *       {@code frames} frames in a row, this frame the last of them.
 *   <li>{@code person-falls}: a person who was upright ({@code previous_label}) has been
 *       {@code fall_lying} for {@code frames} frames in a row, this frame the last of them. One per
 *       fall: the person must be upright again before another.
 *   <li>{@code person-events-refined}: as {@code person-events}, by the refined labels, with
 *       {@code lag}: known {@code lag} frames after the frame it names. The live records have no
 *       {@code lag} field.
 * </ul>
 */
@JsonPropertyOrder({"person", "camera", "track", "event_time", "frame_seq", "step", "label", "probability", "previous_label", "frames",
        "model_id", "model_version", "lag"})
public record PersonEvent(
        @JsonProperty("person") String person,
        @JsonProperty("camera") String camera,
        @JsonProperty("track") long track,
        @JsonProperty("event_time") long eventTime,
        @JsonProperty("frame_seq") long frameSeq,
        @JsonProperty("step") long step,
        @JsonProperty("label") String label,
        @JsonProperty("probability") double probability,
        @JsonProperty("previous_label") String previousLabel,
        @JsonProperty("frames") int frames,
        @JsonProperty("model_id") String modelId,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("lag") @JsonInclude(JsonInclude.Include.NON_NULL) Integer lag) {}

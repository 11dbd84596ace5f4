package io.engram.engine.pipeline.pose;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.engram.engine.pipeline.activity.Probabilities;

/**
 * One record of {@code person-activity}: a person's activity after this frame; or, with {@code lag}
 * set, of {@code person-activity-refined}: the activity of that frame with look-ahead, known
 * {@code lag} frames later. The live record has no {@code lag} field. {@code person} is the stream
 * key ({@code camera/track}), also the record's key. {@code speed}: on the live record with the
 * travel gate on, the person's measured speed in torso lengths per second ({@link Travel}); absent
 * while not yet measured. See docs/topics.md.
 */
@JsonPropertyOrder({"person", "camera", "track", "event_time", "frame_seq", "step", "label", "probability", "probabilities", "pose_model",
        "model_id", "model_version", "lag", "speed"})
public record PosePrediction(
        @JsonProperty("person") String person,
        @JsonProperty("camera") String camera,
        @JsonProperty("track") long track,
        @JsonProperty("event_time") long eventTime,
        @JsonProperty("frame_seq") long frameSeq,
        @JsonProperty("step") long step,
        @JsonProperty("label") String label,
        @JsonProperty("probability") double probability,
        @JsonProperty("probabilities") Probabilities probabilities,
        @JsonProperty("pose_model") String poseModel,
        @JsonProperty("model_id") String modelId,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("lag") @JsonInclude(JsonInclude.Include.NON_NULL) Integer lag,
        @JsonProperty("speed") @JsonInclude(JsonInclude.Include.NON_NULL) Double speed) {}

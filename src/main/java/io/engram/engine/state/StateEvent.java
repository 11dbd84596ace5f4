package io.engram.engine.state;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One record of a pipeline's state-events topic: a stream's (or camera's) state was reset or
 * expired. Every field is a function of the input records and the models, never of the wall clock,
 * so replays and failovers give the same records.
 *
 * @param stream the stream id or camera id (= the record key)
 * @param event {@code reset} (the stream goes on from a fresh state), {@code expired} (its state was
 *     deleted) or {@code wiped} (an instance's whole local state was, see {@link #WIPED})
 * @param reason {@code gap}, {@code control}, {@code model-changed} (resets) or {@code idle} (expiry)
 * @param eventTime for a reset, the event time of the record that caused it; for an expiry, the event
 *     time at which the stream became idle (its last record's time + {@code state.idle_ttl_ms})
 * @param steps records the state had stepped before it was reset or deleted
 * @param lastEventTime event time of the last record stepped before, or null if there was no state
 * @param modelId the model the state belonged to, or null if there was no state
 * @param modelVersion its version, or null
 * @param newModelId for {@code model-changed}: the model the stream goes on with
 * @param newModelVersion its version
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"stream", "event", "reason", "event_time", "steps", "last_event_time", "model_id", "model_version",
    "new_model_id", "new_model_version"})
public record StateEvent(
        @JsonProperty("stream") String stream,
        @JsonProperty("event") String event,
        @JsonProperty("reason") String reason,
        @JsonProperty("event_time") long eventTime,
        @JsonProperty("steps") long steps,
        @JsonProperty("last_event_time") Long lastEventTime,
        @JsonProperty("model_id") String modelId,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("new_model_id") String newModelId,
        @JsonProperty("new_model_version") String newModelVersion) {

    public static final String RESET = "reset";
    public static final String EXPIRED = "expired";
    public static final String GAP = "gap";
    public static final String CONTROL = "control";
    public static final String MODEL_CHANGED = "model-changed";
    public static final String IDLE = "idle";
    /**
     * An instance wiped its local state before starting, because it was built on another cluster or
     * from topics since deleted or recreated (see io.engram.engine.runtime.StateOrigin): key = application
     * id, no stream; reason {@code cluster-changed}, {@code topic-recreated}, {@code topic-missing} or
     * {@code unknown-origin}; event_time = the wall-clock time of the wipe.
     */
    public static final String WIPED = "wiped";
}

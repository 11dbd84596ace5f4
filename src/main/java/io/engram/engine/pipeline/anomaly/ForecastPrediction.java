package io.engram.engine.pipeline.anomaly;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One record of {@code sensor-predictions} (and, for alerts, {@code sensor-anomalies}). Every field
 * is a pure function of the stream's input records and the model; see docs/topics.md.
 */
@JsonPropertyOrder({"stream", "event_time", "step", "model_id", "model_version", "values", "forecast", "error",
        "next_forecast", "raw_score", "likelihood", "score", "anomaly", "reasons"})
public record ForecastPrediction(
        @JsonProperty("stream") String stream,
        @JsonProperty("event_time") long eventTime,
        @JsonProperty("step") long step,
        @JsonProperty("model_id") String modelId,
        @JsonProperty("model_version") String modelVersion,
        @JsonProperty("values") double[] values,
        /** What the model forecast for this reading at the previous step (null at step 0). */
        @JsonProperty("forecast") double[] forecast,
        /** values - forecast, per channel (null at step 0). */
        @JsonProperty("error") double[] error,
        /** The model's forecast of the next reading. */
        @JsonProperty("next_forecast") double[] nextForecast,
        @JsonProperty("raw_score") double rawScore,
        @JsonProperty("likelihood") double likelihood,
        @JsonProperty("score") double score,
        @JsonProperty("anomaly") boolean anomaly,
        /**
         * Why the score reached the threshold: the channels that reached it on their own ("forecast",
         * "level", "seasonal", "novel_shape", "stuck"), and "routine" when the incident was not alerted
         * because it recurs at this time of day. Left out of the JSON when empty (score below threshold).
         */
        @JsonProperty("reasons") @JsonInclude(JsonInclude.Include.NON_EMPTY) java.util.List<String> reasons) {}

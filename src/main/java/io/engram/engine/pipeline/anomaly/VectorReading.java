package io.engram.engine.pipeline.anomaly;

/**
 * One reading of a sensor stream, as parsed from {@code sensor-readings}.
 *
 * @param ts event time in epoch ms, or {@code null} when the JSON had none (the record timestamp is used)
 * @param values one value per channel, all finite
 */
public record VectorReading(Long ts, double[] values) {}

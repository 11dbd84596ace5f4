package io.engram.topology;

/**
 * The topics of a sensor pipeline, one typed registry: names here, serdes in {@link SensorTopology}.
 * Immutable.
 */
public record Topics(String input, String predictions, String anomalies, String deadLetter, int partitions, short replicationFactor) {
    public static final Topics DEFAULTS =
            new Topics("sensor-readings", "sensor-predictions", "sensor-anomalies", "sensor-dead-letters", 4, (short) 1);
}

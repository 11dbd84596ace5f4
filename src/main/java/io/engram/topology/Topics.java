package io.engram.topology;

/**
 * The topics of a sensor pipeline, one typed registry: names here, serdes in {@link SensorTopology}.
 * Immutable.
 */
public record Topics(String input, String predictions, String anomalies, String deadLetter, String stateEvents, int partitions,
        short replicationFactor) {
    public static final Topics DEFAULTS = new Topics("sensor-readings", "sensor-predictions", "sensor-anomalies",
            "sensor-dead-letters", "sensor-state-events", 4, (short) 1);

    /** The same topics with {@code suffix} appended to every name (tests and benchmarks that share a broker). */
    public Topics withSuffix(String suffix) {
        return new Topics(input + suffix, predictions + suffix, anomalies + suffix, deadLetter + suffix, stateEvents + suffix,
                partitions, replicationFactor);
    }

    public Topics withPartitions(int n) {
        return new Topics(input, predictions, anomalies, deadLetter, stateEvents, n, replicationFactor);
    }

    /** Every topic the pipeline writes, in a fixed order. */
    public java.util.List<String> outputs() {
        return java.util.List.of(predictions, anomalies, deadLetter, stateEvents);
    }
}

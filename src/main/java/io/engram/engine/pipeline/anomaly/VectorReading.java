package io.engram.engine.pipeline.anomaly;

import java.util.List;

/**
 * One reading of a sensor stream, as parsed from {@code sensor-readings}.
 *
 * @param ts event time in epoch ms, or {@code null} when the JSON had none (the record timestamp is used)
 * @param values one value per channel, all finite
 * @param names the values' component names ({@code "names"} in the JSON, e.g. a CSV's column names), one
 *     per value, or {@code null} when the reading has none: reasons then name a component by its index.
 *     Not part of the stream's state: each reading carries its own.
 */
public record VectorReading(Long ts, double[] values, List<String> names) {
    public VectorReading {
        names = names == null ? null : List.copyOf(names);
    }

    public VectorReading(Long ts, double[] values) {
        this(ts, values, null);
    }

    /** The name of component {@code c}: its name when the reading has names, else its index. */
    public String name(int c) {
        return names != null ? names.get(c) : Integer.toString(c);
    }
}

package io.engram.engine.step;

import io.engram.engine.kafka.TopicRole;
import java.util.ArrayList;
import java.util.List;

/**
 * The output records of one input record, collected by a {@link Head} and forwarded by the
 * {@link StepProcessor} once the new state is stored, each to the sink of its role, with the input's
 * key, event time and headers. Reused across records; task thread only.
 */
public final class Outputs {
    final List<TopicRole> roles = new ArrayList<>(4);
    final List<Object> values = new ArrayList<>(4);

    /** Adds {@code value} for the output topic of {@code role} (e.g. {@code predictions}). */
    public void add(TopicRole role, Object value) {
        roles.add(role);
        values.add(value);
    }

    void clear() {
        roles.clear();
        values.clear();
    }
}

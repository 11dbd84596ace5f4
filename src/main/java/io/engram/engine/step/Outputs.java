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

    /** The values added for {@code role}, in order (for a head's own tests and checks). */
    public List<Object> of(TopicRole role) {
        List<Object> l = new ArrayList<>();
        for (int i = 0; i < roles.size(); i++) {
            if (roles.get(i).equals(role)) {
                l.add(values.get(i));
            }
        }
        return l;
    }

    void clear() {
        roles.clear();
        values.clear();
    }
}

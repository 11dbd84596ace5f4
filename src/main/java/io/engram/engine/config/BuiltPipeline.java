package io.engram.engine.config;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.Topology;

/**
 * What {@link PipelineKind#build} returns: the topology and the resources its processors use that
 * the kind loaded for it (a video pipeline's encoder and refiner sessions), but not the step model,
 * which the caller passed in and still owns. Whoever runs the topology owns this and closes it
 * once the topology is stopped ({@code KafkaStreams} or {@code TopologyTestDriver} closed first):
 * {@link #close()} closes every resource, in the order the kind loaded them; it is idempotent, as
 * each resource's own close is.
 *
 * @param topology the pipeline's topology, not started
 * @param resources what the topology's processors share and the kind loaded, in load order
 */
public record BuiltPipeline(Topology topology, List<AutoCloseable> resources) implements AutoCloseable {
    public BuiltPipeline {
        resources = List.copyOf(resources);
    }

    /** A topology that owns nothing. */
    public static BuiltPipeline of(Topology topology) {
        return new BuiltPipeline(topology, List.of());
    }

    @Override
    public void close() {
        closeAll(resources);
    }

    /**
     * Closes each of {@code resources}, going on past a failing one: at shutdown, or when a build
     * fails half-way (a kind closes what it had loaded before it rethrows), there is nothing left
     * to save in a native session whose close failed.
     */
    public static void closeAll(List<? extends AutoCloseable> resources) {
        for (AutoCloseable c : new ArrayList<>(resources)) {
            try {
                c.close();
            } catch (Exception e) {
                // nothing left to save: see above
            }
        }
    }
}

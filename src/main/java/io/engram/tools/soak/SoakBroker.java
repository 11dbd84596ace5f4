package io.engram.tools.soak;

import io.engram.engine.config.PipelineSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/**
 * The Kafka of the run under faults: one in-process broker ({@link SingleSoakBroker}) or a cluster
 * of broker processes ({@link ClusterSoakBroker}, {@code --brokers 3}). Owns its broker(s);
 * {@link #close()} stops them.
 */
interface SoakBroker extends AutoCloseable {

    /** One broker in this JVM for {@code brokers} 1, else a cluster of {@code brokers} child processes. */
    static SoakBroker start(Path data, int brokers) {
        return brokers == 1 ? SingleSoakBroker.start(data) : ClusterSoakBroker.start(data, brokers);
    }

    String bootstrap();

    /** The number of brokers. */
    int brokers();

    /** Creates every topic {@code spec} uses, replicated as the cluster allows (factor min(3, brokers)). */
    void createTopics(PipelineSpec spec);

    /**
     * A controlled restart of one broker (chosen with {@code random}): down for {@code down}, started
     * again on its data. Returns the broker, for the log.
     */
    String restart(Duration down, Random random) throws InterruptedException;

    @Override
    void close();
}

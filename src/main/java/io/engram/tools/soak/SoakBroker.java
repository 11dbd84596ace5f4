package io.engram.tools.soak;

import io.engram.engine.config.PipelineSpec;
import io.engram.tools.broker.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The in-process broker of the run under faults, on a data directory that outlives its restarts:
 * a {@link #restart} brings it back on the same port with the same data. Owns the broker;
 * {@link #close()} stops the current one.
 */
final class SoakBroker implements AutoCloseable {
    private final Path data;
    private final int port;
    private EmbeddedKafka broker;

    private SoakBroker(Path data, EmbeddedKafka broker) {
        this.data = data;
        this.broker = broker;
        this.port = broker.port();
    }

    /** Starts a broker on a free port, its data in {@code data}. */
    static SoakBroker start(Path data) {
        return new SoakBroker(data, EmbeddedKafka.start(0, data, true));
    }

    String bootstrap() {
        return "localhost:" + port;
    }

    int port() {
        return port;
    }

    /** Creates every topic {@code spec} uses. */
    void createTopics(PipelineSpec spec) {
        EmbeddedKafka.createTopics(bootstrap(), spec.topics().partitions(), (short) 1, spec.usedTopics().toArray(String[]::new));
    }

    /** Stops the broker (controlled shutdown), keeps it down for {@code down}, and starts it again. */
    void restart(Duration down) throws InterruptedException {
        broker.close();
        Thread.sleep(down.toMillis()); // the outage itself
        broker = EmbeddedKafka.start(port, data, true);
    }

    @Override
    public void close() {
        broker.close();
    }
}

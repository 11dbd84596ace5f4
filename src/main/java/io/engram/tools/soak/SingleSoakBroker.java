package io.engram.tools.soak;

import io.engram.engine.config.PipelineSpec;
import io.engram.tools.broker.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/**
 * The soak's one in-process broker, on a data directory that outlives its restarts: a
 * {@link #restart} brings it back on the same port with the same data. Owns the broker;
 * {@link #close()} stops the current one.
 */
final class SingleSoakBroker implements SoakBroker {
    private final Path data;
    private final int port;
    private EmbeddedKafka broker;

    private SingleSoakBroker(Path data, EmbeddedKafka broker) {
        this.data = data;
        this.broker = broker;
        this.port = broker.port();
    }

    /** Starts a broker on a free port, its data in {@code data}. */
    static SingleSoakBroker start(Path data) {
        return new SingleSoakBroker(data, EmbeddedKafka.start(0, data, true));
    }

    @Override
    public String bootstrap() {
        return "localhost:" + port;
    }

    @Override
    public int brokers() {
        return 1;
    }

    @Override
    public void createTopics(PipelineSpec spec) {
        EmbeddedKafka.createTopics(bootstrap(), spec.topics().partitions(), (short) 1, spec.usedTopics().toArray(String[]::new));
    }

    @Override
    public String restart(Duration down, Random random) throws InterruptedException {
        broker.close();
        Thread.sleep(down.toMillis()); // the outage itself
        broker = EmbeddedKafka.start(port, data, true);
        return "broker :" + port;
    }

    @Override
    public void close() {
        broker.close();
    }
}

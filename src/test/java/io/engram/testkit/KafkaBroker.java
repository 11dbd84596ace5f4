package io.engram.testkit;

import io.engram.tools.broker.EmbeddedKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One in-process KRaft broker ({@link EmbeddedKafka}) shared by every test of a class: started
 * before the class's first test, stopped after its last. Register it as a static field:
 *
 * <pre>
 * &#64;RegisterExtension
 * static final KafkaBroker kafka = new KafkaBroker();
 * </pre>
 *
 * Tests share the broker, so each uses its own topics and application ids. The broker keeps its
 * port and its data directory across {@link #stop()} and {@link #restart()} (a broker outage in
 * the middle of a test); the data directory is deleted after the class.
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedKafka broker;
    private Path dataDir;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dataDir = Files.createTempDirectory("engram-it-kafka-");
        broker = EmbeddedKafka.start(0, dataDir);
        port = broker.port();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            if (broker != null) {
                broker.close();
            }
        } finally {
            broker = null;
            deleteRecursively(dataDir);
        }
    }

    /** {@code localhost:PORT}; the same across a restart. */
    public String bootstrap() {
        if (broker == null) {
            throw new IllegalStateException("the broker runs only while a test class that registers it runs");
        }
        return broker.bootstrapServers();
    }

    public int port() {
        return port;
    }

    /** Creates topics that do not exist yet, with one replica. */
    public void createTopics(int partitions, String... names) {
        EmbeddedKafka.createTopics(bootstrap(), partitions, (short) 1, names);
    }

    /** Shuts the broker down (a controlled shutdown); clients see it unreachable until {@link #restart()}. */
    public void stop() {
        broker.close();
    }

    /** Starts the broker again on the same port with the same data. */
    public void restart() {
        broker = EmbeddedKafka.start(port, dataDir);
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}

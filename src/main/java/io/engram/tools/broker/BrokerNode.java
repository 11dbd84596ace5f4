package io.engram.tools.broker;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * One node of a {@link KafkaProcessCluster}, in a JVM of its own, so that it can die as a real
 * broker does: {@code java -cp engram.jar io.engram.tools.broker.BrokerNode NODE.properties}. The
 * settings file is written, and the log dir formatted, by the cluster. Prints {@link #STARTED} once
 * the server's startup has returned; SIGTERM runs a controlled shutdown (leadership moves away
 * first), SIGKILL none. Not a user command: the soak and tests start it.
 */
public final class BrokerNode {
    /** The line printed once the node has started. */
    static final String STARTED = "engram-broker-node: started";

    private BrokerNode() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BrokerNode NODE.properties");
            System.exit(2);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            p.load(r);
        }
        EmbeddedKafka.quietExpectedWarnings(false);
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
        }, "engram-broker-node-shutdown"));
        server.startup();
        System.out.println(STARTED);
        System.out.flush();
        server.awaitShutdown();
    }
}

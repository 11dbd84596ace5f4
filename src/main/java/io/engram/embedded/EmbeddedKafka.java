package io.engram.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node KRaft Kafka broker (combined broker and controller) inside this JVM: no ZooKeeper,
 * no download. Used by {@code engram demo}, {@code engram broker}, {@code engram nab} and the
 * integration tests. Listens on localhost only.
 *
 * <p>Lifecycle: {@link #start} formats the log directory (once; a given data dir keeps its data
 * across restarts) and starts the server; {@link #close()} shuts it down, waits for it, deletes a
 * temporary data dir, and is idempotent. Kafka's threads are not daemons, so a shutdown hook also
 * closes it: a JVM that exits never hangs on a forgotten broker.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean temporary;
    private final int port;
    private final Thread hook;
    private boolean closed;

    private final boolean hooked;

    private EmbeddedKafka(KafkaRaftServer server, Path dataDir, boolean temporary, int port, boolean hooked) {
        this.hooked = hooked;
        this.server = server;
        this.dataDir = dataDir;
        this.temporary = temporary;
        this.port = port;
        this.hook = new Thread(this::closeQuietly, "engram-embedded-kafka-shutdown");
    }

    /** A broker on a free port with a temporary data dir, deleted on close. */
    public static EmbeddedKafka start() {
        return start(0, null);
    }

    /**
     * @param port broker port, 0 for a free one
     * @param dataDir data directory to keep across restarts, or null for a temporary one
     */
    public static EmbeddedKafka start(int port, Path dataDir) {
        return start(port, dataDir, true);
    }

    /**
     * @param shutdownHook false when the caller closes the broker from its own shutdown hook, after
     *     the clients that use it (so that they do not wait on a broker that is already gone)
     */
    public static EmbeddedKafka start(int port, Path dataDir, boolean shutdownHook) {
        boolean temporary = dataDir == null;
        try {
            Path dir = temporary ? Files.createTempDirectory("engram-kafka-") : dataDir.toAbsolutePath();
            Files.createDirectories(dir);
            int brokerPort = port == 0 ? freePort() : port;
            int controllerPort = freePort();
            Properties p = new Properties();
            p.put("process.roles", "broker,controller");
            p.put("node.id", "1");
            p.put("controller.quorum.voters", "1@localhost:" + controllerPort);
            p.put("listeners", "PLAINTEXT://localhost:" + brokerPort + ",CONTROLLER://localhost:" + controllerPort);
            p.put("advertised.listeners", "PLAINTEXT://localhost:" + brokerPort);
            p.put("controller.listener.names", "CONTROLLER");
            p.put("inter.broker.listener.name", "PLAINTEXT");
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.put("log.dirs", dir.toString());
            // One node: every internal topic has one replica and needs one in sync.
            p.put("offsets.topic.replication.factor", "1");
            p.put("offsets.topic.num.partitions", "5");
            p.put("transaction.state.log.replication.factor", "1");
            p.put("transaction.state.log.min.isr", "1");
            p.put("transaction.state.log.num.partitions", "5");
            p.put("share.coordinator.state.topic.replication.factor", "1");
            p.put("share.coordinator.state.topic.min.isr", "1");
            p.put("min.insync.replicas", "1");
            p.put("default.replication.factor", "1");
            p.put("num.partitions", "1");
            p.put("auto.create.topics.enable", "false");
            p.put("group.initial.rebalance.delay.ms", "0");
            p.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 << 20));
            p.put("log.cleaner.threads", "1");
            p.put("num.network.threads", "2");
            p.put("num.io.threads", "4");
            p.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
            p.put("message.max.bytes", String.valueOf(1_048_588));
            p.put("server.max.startup.time.ms", "60000");
            // Replays carry old event times (NAB is from 2014-15): never delete by age on a dev broker.
            p.put("log.retention.ms", "-1");

            String clusterId = existingClusterId(dir);
            new Formatter()
                    .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                    .setNodeId(1)
                    .setClusterId(clusterId != null ? clusterId : Uuid.randomUuid().toString())
                    .setDirectories(List.of(dir.toString()))
                    .setControllerListenerName("CONTROLLER")
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setHasDynamicQuorum(false)
                    .setIgnoreFormatted(true)
                    .run();
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
            EmbeddedKafka kafka = new EmbeddedKafka(server, dir, temporary, brokerPort, shutdownHook);
            if (shutdownHook) {
                Runtime.getRuntime().addShutdownHook(kafka.hook);
            }
            try {
                server.startup();
            } catch (RuntimeException e) {
                kafka.close();
                throw e;
            }
            return kafka;
        } catch (IOException e) {
            throw new UncheckedIOException("starting the embedded Kafka broker", e);
        } catch (Exception e) {
            throw new IllegalStateException("starting the embedded Kafka broker: " + e.getMessage(), e);
        }
    }

    private static String existingClusterId(Path dir) throws IOException {
        Path meta = dir.resolve("meta.properties");
        if (!Files.isRegularFile(meta)) {
            return null;
        }
        Properties props = new Properties();
        try (var in = Files.newInputStream(meta)) {
            props.load(in);
        }
        return props.getProperty("cluster.id");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    public String bootstrapServers() {
        return "localhost:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Creates topics that do not exist yet (one replica each). */
    public void createTopics(int partitions, String... names) {
        createTopics(bootstrapServers(), partitions, (short) 1, names);
    }

    /** Creates topics that do not exist yet on any cluster; existing ones are left as they are. */
    public static void createTopics(String bootstrap, int partitions, short replication, String... names) {
        io.engram.core.TopicAdmin.createTopics(bootstrap, java.util.Map.of(), partitions, replication, List.of(names));
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            if (temporary) {
                deleteRecursively(dataDir);
            }
            if (hooked && Thread.currentThread() != hook) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // the JVM is already shutting down
                }
            }
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException ignored) {
            // best effort at JVM exit
        }
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // temp dir; leftovers are harmless
        }
    }
}

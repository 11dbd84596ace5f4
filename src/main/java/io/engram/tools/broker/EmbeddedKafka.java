package io.engram.tools.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
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
    /** The client settings of the SASL_SSL listener, empty for a plaintext broker. */
    private final Map<String, String> clientProperties;

    private EmbeddedKafka(KafkaRaftServer server, Path dataDir, boolean temporary, int port, boolean hooked, Map<String, String> clientProperties) {
        this.clientProperties = clientProperties;
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
        return start(port, dataDir, shutdownHook, null);
    }

    /**
     * The credentials of a secured broker: its one listener is SASL_SSL (SASL/PLAIN over TLS, with a
     * self-signed certificate for localhost generated into {@code tlsDir} with the JDK's keytool),
     * used by the broker itself too; {@code user} logs in with {@code password}.
     */
    public record Secured(String user, String password, Path tlsDir) {}

    /**
     * A broker with one SASL_SSL listener ({@link Secured}); {@link #clientProperties()} are the
     * settings a client needs (write them to a file for {@code --command-config}).
     */
    public static EmbeddedKafka startSecured(int port, Path dataDir, boolean shutdownHook, Secured secured) {
        return start(port, dataDir, shutdownHook, secured);
    }

    private static EmbeddedKafka start(int port, Path dataDir, boolean shutdownHook, Secured secured) {
        boolean temporary = dataDir == null;
        quietExpectedWarnings(temporary);
        try {
            Path dir = temporary ? Files.createTempDirectory("engram-kafka-") : dataDir.toAbsolutePath();
            Files.createDirectories(dir);
            // Chosen together, and never the broker's own port: two free ports picked one after the other can be
            // the same one (the first socket is closed before the second is opened), and Kafka refuses two listeners
            // on one port.
            List<Integer> ports = freePorts(2, List.of(port));
            int brokerPort = port == 0 ? ports.get(0) : port;
            int controllerPort = ports.get(1);
            String listener = secured != null ? "SASL_SSL" : "PLAINTEXT";
            Properties p = nodeProperties(1, "1@localhost:" + controllerPort, listener, brokerPort, controllerPort, dir, 1);
            Map<String, String> client = Map.of();
            if (secured != null) {
                client = secure(p, secured);
            }
            String clusterId = existingClusterId(dir);
            format(dir, 1, clusterId != null ? clusterId : Uuid.randomUuid().toString());
            KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
            EmbeddedKafka kafka = new EmbeddedKafka(server, dir, temporary, brokerPort, shutdownHook, client);
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

    /**
     * The settings of one combined broker and controller node, shared by the single node and
     * {@link EmbeddedKafkaCluster}: its listeners on localhost, its log dir, and internal topics sized
     * for a cluster of {@code brokers} nodes (factor min(3, brokers); {@code min.insync.replicas} 2
     * from 3 brokers on, else 1).
     *
     * @param voters {@code controller.quorum.voters}: every node's {@code id@localhost:controllerPort}
     */
    static Properties nodeProperties(int nodeId, String voters, String listener, int brokerPort, int controllerPort, Path dir,
            int brokers) {
        String factor = String.valueOf(Math.min(3, brokers));
        String minIsr = brokers >= 3 ? "2" : "1";
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", voters);
        p.put("listeners", listener + "://localhost:" + brokerPort + ",CONTROLLER://localhost:" + controllerPort);
        p.put("advertised.listeners", listener + "://localhost:" + brokerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", listener);
        p.put("listener.security.protocol.map", listener + ":" + listener + ",CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.toString());
        // One node: every internal topic has one replica and needs one in sync; three or more: three and two.
        p.put("offsets.topic.replication.factor", factor);
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", factor);
        p.put("transaction.state.log.min.isr", minIsr);
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", factor);
        p.put("share.coordinator.state.topic.min.isr", minIsr);
        p.put("min.insync.replicas", minIsr);
        p.put("default.replication.factor", factor);
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
        if (brokers == 1) {
            // A process killed mid-transaction leaves it open, and read_committed readers of its
            // outputs wait, until the transaction times out (Kafka Streams: 10 s) and the
            // coordinator's next sweep aborts it. The sweep's default period is another 10 s; on a
            // one-node dev broker, 1 s. Not on a cluster: there, with the sweep at 1 s, a rolling
            // restart took over 2 minutes to give output again (SoakClusterIT), against about one.
            p.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
        }
        return p;
    }

    /** Formats {@code dir} as node {@code nodeId} of cluster {@code clusterId}; a dir already formatted is left as it is. */
    static void format(Path dir, int nodeId, String clusterId) throws Exception {
        new Formatter()
                .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
                .setNodeId(nodeId)
                .setClusterId(clusterId)
                .setDirectories(List.of(dir.toString()))
                .setControllerListenerName("CONTROLLER")
                .setReleaseVersion(MetadataVersion.latestProduction())
                .setHasDynamicQuorum(false)
                .setIgnoreFormatted(true)
                .run();
    }

    /**
     * Makes the broker's listener SASL_SSL (PLAIN): a keystore and truststore for localhost in the
     * TLS folder (made once, kept), the broker's own login and the user's. Returns the client settings.
     */
    private static Map<String, String> secure(Properties p, Secured s) throws IOException, InterruptedException {
        Files.createDirectories(s.tlsDir());
        Path keystore = s.tlsDir().resolve("broker.p12");
        Path truststore = s.tlsDir().resolve("truststore.p12");
        String storePass = "engram-test-store";
        if (!Files.isRegularFile(keystore) || !Files.isRegularFile(truststore)) {
            Path cert = s.tlsDir().resolve("broker.pem");
            Files.deleteIfExists(keystore);
            Files.deleteIfExists(truststore);
            keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
                    "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
                    "-keystore", keystore.toString(), "-storepass", storePass, "-keypass", storePass);
            keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", keystore.toString(), "-storepass", storePass,
                    "-file", cert.toString());
            keytool("-importcert", "-noprompt", "-alias", "broker", "-file", cert.toString(), "-storetype", "PKCS12",
                    "-keystore", truststore.toString(), "-storepass", storePass);
        }
        String brokerPass = Uuid.randomUuid().toString();
        String jaas = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"engram-broker\" password=\""
                + brokerPass + "\" user_engram-broker=\"" + brokerPass + "\" user_" + s.user() + "=\"" + s.password() + "\";";
        p.put("sasl.enabled.mechanisms", "PLAIN");
        p.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        p.put("listener.name.sasl_ssl.plain.sasl.jaas.config", jaas);
        p.put("ssl.keystore.location", keystore.toString());
        p.put("ssl.keystore.password", storePass);
        p.put("ssl.key.password", storePass);
        p.put("ssl.keystore.type", "PKCS12");
        p.put("ssl.truststore.location", truststore.toString());
        p.put("ssl.truststore.password", storePass);
        p.put("ssl.truststore.type", "PKCS12");
        Map<String, String> client = new java.util.LinkedHashMap<>();
        client.put("security.protocol", "SASL_SSL");
        client.put("sasl.mechanism", "PLAIN");
        client.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + s.user()
                + "\" password=\"" + s.password() + "\";");
        client.put("ssl.truststore.location", truststore.toString());
        client.put("ssl.truststore.password", storePass);
        client.put("ssl.truststore.type", "PKCS12");
        return java.util.Collections.unmodifiableMap(client);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (proc.waitFor() != 0) {
            throw new IOException("keytool " + args[0] + " failed: " + out.strip());
        }
    }

    /** What a client of this broker needs besides the bootstrap servers: empty for a plaintext broker. */
    public Map<String, String> clientProperties() {
        return clientProperties;
    }

    static String existingClusterId(Path dir) throws IOException {
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

    /**
     * {@code n} distinct free ports, none of them in {@code avoid}. Every socket stays bound until all {@code n} are
     * chosen, so the kernel cannot hand out one port twice; then all are closed for the nodes to bind. (Another
     * process may still take one in between; that is the usual free-port race, not a clash inside one plan.)
     */
    static List<Integer> freePorts(int n, Collection<Integer> avoid) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        try {
            while (ports.size() < n) {
                ServerSocket s = new ServerSocket(0);
                held.add(s);
                int p = s.getLocalPort();
                if (!avoid.contains(p) && !ports.contains(p)) {
                    ports.add(p);
                }
            }
            return List.copyOf(ports);
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
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
        io.engram.engine.kafka.TopicAdmin.createTopics(bootstrap, java.util.Map.of(), partitions, replication, List.of(names));
    }

    /**
     * Two WARN lines that an in-process broker always prints, though nothing is wrong: a new
     * temporary broker's controller finds its metadata log empty (it always is), and at shutdown the
     * broker closes its controller channel's client twice. slf4j-simple fixes a logger's level when
     * the logger is first made, so this runs before the broker makes them; a level the user set
     * (ENGRAM_KAFKA_LOG_LEVEL, a system property) wins.
     */
    static void quietExpectedWarnings(boolean temporary) {
        if (System.getenv("ENGRAM_KAFKA_LOG_LEVEL") != null) {
            return;
        }
        if (temporary) {
            System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.apache.kafka.controller.QuorumController", "error");
        }
        System.getProperties().putIfAbsent("org.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient", "error");
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
            if (hooked) {
                removeShutdownHook(hook);
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

    /** Removes {@code hook} unless it is the thread running (the JVM is shutting down through it). */
    static void removeShutdownHook(Thread hook) {
        if (Thread.currentThread() == hook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // the JVM is already shutting down
        }
    }

    static void deleteRecursively(Path dir) {
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

package io.engram.tools.cli;

import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.errors.ConfigException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code engram broker}: a single-node Kafka broker (KRaft, in this JVM) for development, until
 * Ctrl-C. The work is in {@link #start}, which tests call; {@link #call} only prints and waits.
 *
 * <p>Lifecycle: the broker is closed by this command's shutdown hook (Ctrl-C, SIGTERM), which waits
 * for a clean shutdown so that a {@code --data-dir} is reusable at the next start.
 */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = {"Run a single-node Kafka broker in this process until Ctrl-C.",
            "",
            "KRaft, no ZooKeeper, nothing to download. For development and demos:",
            "localhost only, one replica per topic, no automatic topic creation",
            "(engram run creates its pipeline's topics). Without --data-dir the data",
            "lives in a temporary directory deleted on exit; with it, topics and",
            "records are kept across restarts.",
            ""},
        footer = {"", "Example:", "  ./engram broker --port 9092 --data-dir ~/.engram/kafka",
            "  ./engram run --bootstrap-servers localhost:9092      # in another terminal"})
public final class BrokerCommand implements Callable<Integer> {
    @Option(names = {"--port", "-p"}, paramLabel = "PORT", defaultValue = "9092", description = "Port to listen on; 0 = a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Directory for the broker's data, kept across restarts (default: a temporary one, deleted on exit).")
    Path dataDir;

    @Option(names = "--sasl-ssl", paramLabel = "USER:PASSWORD",
            description = {"Secure the listener: SASL_SSL with SASL/PLAIN, this user and password, and a self-signed TLS",
                "certificate for localhost. Writes the client settings to a file for --command-config (printed)."})
    String saslSsl;

    @Override
    public Integer call() throws IOException {
        EmbeddedKafka kafka;
        Path clientConfig = null;
        if (saslSsl != null) {
            int colon = saslSsl.indexOf(':');
            if (colon <= 0 || colon == saslSsl.length() - 1) {
                throw new ConfigException("--sasl-ssl '" + saslSsl + "' is not USER:PASSWORD; e.g. --sasl-ssl alice:alice-secret");
            }
            Path tls = dataDir != null ? dataDir.resolve("tls") : Files.createTempDirectory("engram-broker-tls-");
            kafka = startSecured(port, dataDir, new EmbeddedKafka.Secured(saslSsl.substring(0, colon), saslSsl.substring(colon + 1), tls));
            clientConfig = tls.resolve("client.properties");
            writeClientConfig(clientConfig, kafka.clientProperties());
        } else {
            kafka = start(port, dataDir);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("engram: stopping the broker...");
            kafka.close();
            System.err.println("engram: broker stopped" + (dataDir != null ? "; data kept in " + kafka.dataDir() : ""));
            stopped.countDown();
        }, "engram-broker-shutdown"));
        printStarted(System.out, kafka, dataDir != null);
        if (clientConfig != null) {
            System.out.printf("  secured:  SASL_SSL; client settings in %s%n", clientConfig);
            System.out.printf("            ./engram run --bootstrap-servers %s --command-config %s%n", kafka.bootstrapServers(), clientConfig);
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * Starts the broker without a shutdown hook of its own: the caller closes it (the command does so
     * from its hook, a test with try-with-resources).
     *
     * @param port 0 for a free one
     * @param dataDir null for a temporary directory deleted on close
     * @throws ConfigException when the port is taken or the data directory cannot be used
     */
    public static EmbeddedKafka start(int port, Path dataDir) {
        checkPlace(port, dataDir);
        return EmbeddedKafka.start(port, dataDir, false);
    }

    /** The port is a free port number and the data dir a usable directory (created when missing). */
    private static void checkPlace(int port, Path dataDir) {
        if (port < 0 || port > 65535) {
            throw new ConfigException("--port " + port + " is not a port number; use 1-65535, or 0 for a free one");
        }
        if (port != 0) {
            checkPortFree(port);
        }
        if (dataDir != null) {
            if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
                throw new ConfigException("--data-dir " + dataDir + " is a file; give a directory (it is created if missing)");
            }
            try {
                Files.createDirectories(dataDir);
            } catch (IOException e) {
                throw new ConfigException("cannot create --data-dir " + dataDir + ": " + e.getMessage() + "; choose a writable directory", e);
            }
        }
    }

    /** As {@link #start}, with the listener secured ({@link EmbeddedKafka.Secured}). */
    public static EmbeddedKafka startSecured(int port, Path dataDir, EmbeddedKafka.Secured secured) {
        checkPlace(port, dataDir);
        return EmbeddedKafka.startSecured(port, dataDir, false, secured);
    }

    /** The client settings as a Java properties file, readable by the owner only (it holds the password). */
    static void writeClientConfig(Path file, java.util.Map<String, String> props) throws IOException {
        StringBuilder b = new StringBuilder("# Client settings for the secured engram broker: --command-config FILE\n");
        props.forEach((k, v) -> b.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(file, b.toString());
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
    }

    /** Kafka's own error for a taken port is a long stack trace; this is one line with the fix. */
    private static void checkPortFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("localhost"))) {
            s.setReuseAddress(true);
        } catch (IOException e) {
            throw new ConfigException("port " + port + " is already in use (another broker?); stop it or pick another with --port", e);
        }
    }

    static void printStarted(PrintStream out, EmbeddedKafka kafka, boolean kept) {
        out.printf("engram: Kafka broker at %s (data: %s%s)%n", kafka.bootstrapServers(), kafka.dataDir(),
                kept ? "" : ", deleted on exit");
        out.printf("  use it:   ./engram run --bootstrap-servers %s%n", kafka.bootstrapServers());
        out.println("  stop it:  Ctrl-C");
        out.flush();
    }
}

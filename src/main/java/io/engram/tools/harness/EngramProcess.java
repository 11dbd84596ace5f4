package io.engram.tools.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code engram run} in a child JVM ({@code java -jar target/engram.jar run ...}), as in production:
 * its own state directory, stdout and stderr to a log file, and {@link #kill()} = SIGKILL, so that
 * nothing in the process (shutdown hooks, Kafka Streams' close, RocksDB flushes, transaction aborts)
 * gets a chance to clean up. Needs the shaded jar: {@code mvn package} (the {@code verify} phase
 * builds it before the integration tests run).
 */
public final class EngramProcess implements AutoCloseable {
    /** The jar the children run: the one this code runs from, else the build's {@code target/engram.jar}. */
    public static final Path JAR = ownJar();
    private static final String RUNNING_LINE = "engram: pipeline ";
    private static final String RUNNING_MARK = " running on ";
    /** Kafka Streams' file with the instance's process id, in the application's state directory. */
    public static final String PROCESS_FILE = "kafka-streams-process-metadata";

    private final String name;
    private final Path log;
    private final Path stateDir;
    private final Process process;

    private EngramProcess(String name, Path log, Path stateDir, Process process) {
        this.name = name;
        this.log = log;
        this.stateDir = stateDir;
        this.process = process;
    }

    /**
     * Starts {@code engram run --config config --bootstrap-servers bootstrap --state-dir stateDir
     * --metrics-port 0} with each of {@code streamsProperties} as a {@code --streams-property}.
     */
    public static EngramProcess start(String name, Path config, String bootstrap, Path stateDir, Path log,
            Map<String, String> streamsProperties) {
        return start(name, config, bootstrap, stateDir, log, streamsProperties, List.of());
    }

    /** JVM options of the child processes of tests and the soak: small heap, quick start. */
    public static final List<String> TEST_JVM = List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            // Which tasks this instance was given, in its log (diagnostics for a failure).
            "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.streams.processor.internals.TaskManager=info");

    /** As {@link #start(String, Path, String, Path, Path, Map)}, with {@code extraArgs} added to {@code engram run}'s. */
    public static EngramProcess start(String name, Path config, String bootstrap, Path stateDir, Path log,
            Map<String, String> streamsProperties, List<String> extraArgs) {
        return start(name, TEST_JVM, config, bootstrap, stateDir, log, streamsProperties, extraArgs);
    }

    /** As {@link #start(String, Path, String, Path, Path, Map, List)}, with the JVM options {@code jvm}. */
    public static EngramProcess start(String name, List<String> jvm, Path config, String bootstrap, Path stateDir, Path log,
            Map<String, String> streamsProperties, List<String> extraArgs) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: build it with `mvn -B -o -q package -DskipTests`");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvm);
        cmd.addAll(List.of(
                "-jar", JAR.toString(), "run",
                "--config", config.toString(),
                "--bootstrap-servers", bootstrap,
                "--state-dir", stateDir.toString(),
                "--metrics-port", "0"));
        cmd.addAll(extraArgs);
        streamsProperties.forEach((k, v) -> {
            cmd.add("--streams-property");
            cmd.add(k + "=" + v);
        });
        try {
            Files.createDirectories(log.getParent());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new EngramProcess(name, log, stateDir, p);
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + name, e);
        }
    }

    private static Path ownJar() {
        try {
            Path self = Path.of(EngramProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(self) && self.toString().endsWith(".jar")) {
                return self;
            }
        } catch (java.net.URISyntaxException | SecurityException | NullPointerException e) {
            // no code source: fall back to the build's jar
        }
        return Path.of("target/engram.jar").toAbsolutePath();
    }

    public String name() {
        return name;
    }

    /** The operating system's process id. */
    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Waits for the line {@code engram run} prints once Kafka Streams is RUNNING; fails if the process exits first. */
    public void awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (log().lines().anyMatch(l -> l.startsWith(RUNNING_LINE) && l.contains(RUNNING_MARK))) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with status " + process.exitValue() + " before running:\n" + tail(60));
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + " not running after " + timeout + ":\n" + tail(60));
    }

    /** Waits for the process to end on its own and returns its exit status; fails after {@code timeout}. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + " still running after " + timeout + ":\n" + tail(60));
        }
        return process.exitValue();
    }

    /** SIGKILL: the JVM dies on the spot, in whatever it was doing (mid-transaction, mid-write). */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError(name + " still alive 30 s after SIGKILL");
        }
    }

    /** SIGTERM: {@code engram run}'s shutdown hook closes Kafka Streams, leaving the group. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            kill();
        }
    }

    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /**
     * The active tasks of each assignment this instance received, in order, from Kafka Streams'
     * TaskManager log lines (enabled at INFO in {@link #start}): e.g. {@code [[0_0, 0_2], [0_1]]}.
     */
    public List<String> assignments() {
        String label = "New active tasks:";
        List<String> out = new ArrayList<>();
        for (String line : log().lines().toList()) {
            int at = line.indexOf(label);
            if (at >= 0) {
                out.add(line.substring(at + label.length()).trim());
            }
        }
        return out;
    }

    /** The active tasks of the latest assignment, e.g. {@code [0_1, 0_3]}; empty before the first. */
    public List<String> activeTasks() {
        List<String> all = assignments();
        if (all.isEmpty()) {
            return List.of();
        }
        String last = all.get(all.size() - 1).replace("[", "").replace("]", "").trim();
        return last.isEmpty() ? List.of() : List.of(last.split(",\\s*"));
    }

    /** True once an assignment has given this instance an active task. */
    public boolean hadActiveTask() {
        return assignments().stream().anyMatch(a -> a.contains("_"));
    }

    /** Waits until the latest assignment gives this instance at least {@code n} active tasks. */
    public void awaitActiveTasks(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (activeTasks().size() < n) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError(name + " has not got " + n + " active tasks within " + timeout + " (assignments "
                        + assignments() + "):\n" + tail(60));
            }
            Thread.sleep(100);
        }
    }

    /**
     * Kafka Streams' process id for this instance, which it keeps in the state directory (file
     * {@value #PROCESS_FILE}) and which names its transactional producers (the test kit's {@code Transactions.ids}).
     * Waits for the file, which Kafka Streams writes before it joins the group.
     */
    public String processId(Duration timeout) throws InterruptedException {
        java.util.regex.Pattern uuid = java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (var files = Files.find(stateDir, 2, (p, a) -> p.getFileName().toString().equals(PROCESS_FILE))) {
                for (Path f : files.toList()) {
                    var m = uuid.matcher(Files.readString(f, StandardCharsets.UTF_8));
                    if (m.find()) {
                        return m.group();
                    }
                }
            } catch (IOException e) {
                // not written yet, or being written
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + ": no Kafka Streams process id in " + stateDir + " after " + timeout);
    }

    /** The state directory it was started with. */
    public Path stateDir() {
        return stateDir;
    }

    /** The log's last {@code lines} lines, for failure messages. */
    public String tail(int lines) {
        List<String> all = log().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}

package io.engram.tools.broker;

import io.engram.tools.harness.EngramProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A KRaft cluster of N nodes on localhost, each a {@link BrokerNode} in a child JVM, so that a
 * node can be killed as a machine dies ({@link #kill}: SIGKILL, no controlled shutdown, no flush),
 * stopped as an operator stops it ({@link #stop}: SIGTERM, a controlled shutdown), started again on
 * its ports and log dir, or {@linkplain #replace replaced} by a node with the same id on an empty
 * log dir (a lost disk). The layout is {@link ClusterPlan}'s: every node a combined broker and
 * controller, all voters, internal topics of factor min(3, N) and {@code min.insync.replicas} 2
 * from 3 nodes on. Node {@code i} (0-based index) has node id {@code i + 1}.
 *
 * <p>For the soak. Owns the child processes and, unless kept, {@code root}; {@link #close()} stops
 * every node (all at once, as a quorum shuts down), deletes the log dirs unless kept, and is
 * idempotent. A shutdown hook kills the children if this JVM exits without closing.
 */
public final class KafkaProcessCluster implements AutoCloseable {
    /** A node's JVM: a small heap is plenty for a test cluster; C1 only, for a quick start. */
    private static final List<String> NODE_JVM = List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    private static final Duration START = Duration.ofMinutes(2);
    private static final Duration STOP = Duration.ofMinutes(1);

    private final ClusterPlan plan;
    private final Path logs;
    private final boolean keep;
    private final Process[] nodes;
    /** Per node, how many lives it has been started for: its log holds one started line per life. */
    private final int[] lives;
    private final Thread hook;
    private boolean closed;

    private KafkaProcessCluster(ClusterPlan plan, Path logs, boolean keep) {
        this.plan = plan;
        this.logs = logs;
        this.keep = keep;
        this.nodes = new Process[plan.size()];
        this.lives = new int[plan.size()];
        java.util.Arrays.fill(lives, 1);
        this.hook = new Thread(this::killAll, "engram-kafka-process-cluster-shutdown");
    }

    /**
     * Starts {@code n} nodes, their log dirs and logs under {@code root}, and returns once every node
     * has started.
     *
     * @param keep keep {@code root} at {@link #close()}
     */
    public static KafkaProcessCluster start(int n, Path root, boolean keep) {
        KafkaProcessCluster cluster;
        try {
            Files.createDirectories(root);
            ClusterPlan plan = ClusterPlan.create(root.resolve("data"), n);
            cluster = new KafkaProcessCluster(plan, Files.createDirectories(root.resolve("logs")), keep);
            for (int i = 0; i < n; i++) {
                cluster.writeSettings(i);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("starting a Kafka cluster of " + n + " processes in " + root, e);
        } catch (Exception e) {
            throw new IllegalStateException("starting a Kafka cluster of " + n + " processes in " + root + ": " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(cluster.hook);
        try {
            // All before waiting on any: a node's startup waits for a controller quorum, a majority running.
            for (int i = 0; i < n; i++) {
                cluster.launch(i);
            }
            for (int i = 0; i < n; i++) {
                cluster.awaitStarted(i);
            }
        } catch (RuntimeException | InterruptedException e) {
            cluster.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
        return cluster;
    }

    private Path settings(int index) {
        return logs.resolve("node-" + (index + 1) + ".properties");
    }

    private Path log(int index) {
        return logs.resolve("node-" + (index + 1) + ".log");
    }

    private void writeSettings(int index) throws IOException {
        try (Writer w = Files.newBufferedWriter(settings(index))) {
            plan.configs().get(index).store(w, "node " + (index + 1) + " of a KafkaProcessCluster");
        }
    }

    private synchronized void launch(int index) {
        if (closed) {
            throw new IllegalStateException("the cluster is closed");
        }
        if (nodes[index] != null && nodes[index].isAlive()) {
            throw new IllegalStateException("node " + (index + 1) + " is running");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(NODE_JVM);
        cmd.addAll(List.of("-cp", EngramProcess.JAR.toString(), BrokerNode.class.getName(), settings(index).toString()));
        try {
            // Appended: a restarted node's log follows its earlier lives.
            nodes[index] = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log(index).toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting Kafka node " + (index + 1), e);
        }
    }

    /** Waits for the node's {@link BrokerNode#STARTED} line of its current life; fails if it exits first. */
    private void awaitStarted(int index) throws InterruptedException {
        Process p;
        int life;
        synchronized (this) {
            p = nodes[index];
            life = lives[index];
        }
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (startedLines(index) >= life) {
                return;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("Kafka node " + (index + 1) + " exited with status " + p.exitValue()
                        + " before it started; its log: " + log(index));
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("Kafka node " + (index + 1) + " not started after " + START + "; its log: " + log(index));
    }

    private long startedLines(int index) {
        try (var lines = Files.lines(log(index))) {
            return lines.filter(BrokerNode.STARTED::equals).count();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }

    /** Every node's broker listener, running or not. */
    public String bootstrapServers() {
        return plan.bootstrapServers();
    }

    /** The number of nodes, running or not. */
    public int size() {
        return plan.size();
    }

    /** The index of the node with id {@code nodeId}. */
    public int indexOf(int nodeId) {
        plan.checkIndex(nodeId - 1);
        return nodeId - 1;
    }

    /** The node id of the node at {@code index}: {@code index + 1}. */
    public int nodeId(int index) {
        plan.checkIndex(index);
        return index + 1;
    }

    /** The broker port of the node at {@code index}. */
    public int port(int index) {
        plan.checkIndex(index);
        return plan.brokerPorts().get(index);
    }

    /** The log dir of the node at {@code index}. */
    public Path dataDir(int index) {
        plan.checkIndex(index);
        return plan.dirs().get(index);
    }

    public synchronized boolean isRunning(int index) {
        plan.checkIndex(index);
        return nodes[index] != null && nodes[index].isAlive();
    }

    /** SIGKILL of the node at {@code index}: it dies mid-write, as a machine does; returns once it is gone. */
    public void kill(int index) throws InterruptedException {
        end(index, true);
    }

    /** SIGTERM of the node at {@code index}: a controlled shutdown; returns once the process has exited. */
    public void stop(int index) throws InterruptedException {
        end(index, false);
    }

    private void end(int index, boolean kill) throws InterruptedException {
        plan.checkIndex(index);
        Process p;
        synchronized (this) {
            p = nodes[index];
        }
        if (p == null || !p.isAlive()) {
            return;
        }
        if (kill) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
        if (!p.waitFor(STOP.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /** Starts the stopped node at {@code index} again, on its ports and log dir; returns once it has started. */
    public void restart(int index) throws InterruptedException {
        plan.checkIndex(index);
        synchronized (this) {
            lives[index]++;
        }
        launch(index);
        awaitStarted(index);
    }

    /**
     * Replaces the node at {@code index}, which must be down ({@link #kill}ed or {@link #stop}ped), by a
     * new one with its id on an empty log dir, as after a lost disk: empties and formats its log dir
     * and starts it. The new node fetches its replicas and the metadata from the others.
     */
    public void replace(int index) throws InterruptedException {
        if (isRunning(index)) {
            throw new IllegalStateException("node " + (index + 1) + " is running: kill or stop it before replacing it");
        }
        try {
            plan.reformat(index);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("formatting the log dir of Kafka node " + (index + 1) + ": " + e.getMessage(), e);
        }
        restart(index);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            // SIGTERM to all at once: a node stopped alone waits on a quorum that its peers' shutdown takes away.
            List<Process> running = new ArrayList<>();
            synchronized (this) {
                for (Process p : nodes) {
                    if (p != null && p.isAlive()) {
                        p.destroy();
                        running.add(p);
                    }
                }
            }
            for (Process p : running) {
                try {
                    if (!p.waitFor(STOP.toMillis(), TimeUnit.MILLISECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        } finally {
            if (!keep) {
                EmbeddedKafka.deleteRecursively(plan.root());
            }
            EmbeddedKafka.removeShutdownHook(hook);
        }
    }

    private synchronized void killAll() {
        for (Process p : nodes) {
            if (p != null) {
                p.destroyForcibly();
            }
        }
    }
}

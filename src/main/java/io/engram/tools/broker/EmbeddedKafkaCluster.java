package io.engram.tools.broker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.IntConsumer;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;

/**
 * A KRaft cluster of N nodes inside this JVM, each a combined broker and controller with its own
 * temporary log dir, all formatted with one cluster id; {@code controller.quorum.voters} lists all N.
 * Internal topics get factor min(3, N), and from 3 nodes on {@code min.insync.replicas} 2 (the
 * settings are {@link EmbeddedKafka}'s, sized for N). For tests and the soak: a node can be
 * {@linkplain #stop stopped} (its server shut down) and {@linkplain #restart restarted} on the same
 * ports and log dir. Node {@code i} (0-based index) has node id {@code i + 1}.
 *
 * <p>{@link #close()} shuts every node down, deletes the log dirs, and is idempotent; a shutdown hook
 * also closes it, since Kafka's threads are not daemons.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {
    private final List<Path> dirs;
    private final List<Properties> configs;
    private final List<Integer> brokerPorts;
    private final KafkaRaftServer[] servers;
    private final Path root;
    private final Thread hook;
    private boolean closed;

    private EmbeddedKafkaCluster(Path root, List<Path> dirs, List<Properties> configs, List<Integer> brokerPorts) {
        this.root = root;
        this.dirs = dirs;
        this.configs = configs;
        this.brokerPorts = brokerPorts;
        this.servers = new KafkaRaftServer[dirs.size()];
        this.hook = new Thread(this::closeQuietly, "engram-embedded-kafka-cluster-shutdown");
    }

    /** A cluster of {@code n} nodes on free ports, started; returns once every node has started. */
    public static EmbeddedKafkaCluster start(int n) {
        EmbeddedKafka.quietExpectedWarnings(true);
        EmbeddedKafkaCluster cluster;
        try {
            ClusterPlan plan = ClusterPlan.create(ClusterPlan.tempRoot("engram-kafka-cluster-"), n);
            cluster = new EmbeddedKafkaCluster(plan.root(), plan.dirs(), plan.configs(), plan.brokerPorts());
        } catch (IOException e) {
            throw new UncheckedIOException("starting the embedded Kafka cluster", e);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("starting the embedded Kafka cluster: " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(cluster.hook);
        try {
            // In parallel: a node's startup waits for a controller quorum, which needs a majority running.
            cluster.onEachNode(cluster::startNode);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void onEachNode(IntConsumer action) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < servers.length; i++) {
            int index = i;
            all.add(CompletableFuture.runAsync(() -> action.accept(index), runnable -> {
                Thread t = new Thread(runnable, "engram-kafka-cluster-node-" + (index + 1));
                t.setDaemon(true);
                t.start();
            }));
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void startNode(int index) {
        KafkaRaftServer server;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the cluster is closed");
            }
            if (servers[index] != null) {
                throw new IllegalStateException("node " + (index + 1) + " is running");
            }
            server = new KafkaRaftServer(KafkaConfig.fromProps(configs.get(index), false), Time.SYSTEM);
            servers[index] = server;
        }
        server.startup();
    }

    private void stopNode(int index) {
        KafkaRaftServer server;
        synchronized (this) {
            server = servers[index];
            servers[index] = null;
        }
        if (server != null) {
            server.shutdown();
            server.awaitShutdown();
        }
    }

    /** Every node's broker listener, running or not. */
    public String bootstrapServers() {
        StringJoiner j = new StringJoiner(",");
        brokerPorts.forEach(p -> j.add("localhost:" + p));
        return j.toString();
    }

    /** The number of nodes, running or not. */
    public int size() {
        return servers.length;
    }

    /** The node id of the node at {@code index}: {@code index + 1}. */
    public int nodeId(int index) {
        checkIndex(index);
        return index + 1;
    }

    /** The index of the node with id {@code nodeId}. */
    public int indexOf(int nodeId) {
        checkIndex(nodeId - 1);
        return nodeId - 1;
    }

    /** The broker port of the node at {@code index}. */
    public int port(int index) {
        checkIndex(index);
        return brokerPorts.get(index);
    }

    /** The log dir of the node at {@code index}. */
    public Path dataDir(int index) {
        checkIndex(index);
        return dirs.get(index);
    }

    public synchronized boolean isRunning(int index) {
        checkIndex(index);
        return servers[index] != null;
    }

    /** Stops the node at {@code index}: shuts its server down and waits for it. A stopped node stays stopped. */
    public void stop(int index) {
        checkIndex(index);
        stopNode(index);
    }

    /** Starts the stopped node at {@code index} again, on its ports, with its log dir. */
    public void restart(int index) {
        checkIndex(index);
        startNode(index);
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= servers.length) {
            throw new IndexOutOfBoundsException("node index " + index + " of a cluster of " + servers.length);
        }
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
            // All at once: a node shut down alone waits on a quorum that its peers' shutdown takes away.
            onEachNode(this::stopNode);
        } finally {
            EmbeddedKafka.deleteRecursively(root);
            EmbeddedKafka.removeShutdownHook(hook);
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException ignored) {
            // best effort at JVM exit
        }
    }
}

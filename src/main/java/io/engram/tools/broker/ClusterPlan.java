package io.engram.tools.broker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.StringJoiner;
import org.apache.kafka.common.Uuid;

/**
 * The layout of an N-node KRaft cluster on localhost, shared by the in-process cluster
 * ({@link EmbeddedKafkaCluster}) and the one of child processes ({@link KafkaProcessCluster}):
 * free ports, one cluster id, a log dir per node under {@code root}, formatted, and each node's
 * settings ({@link EmbeddedKafka#nodeProperties}: every node a combined broker and controller, all
 * of them voters). Node {@code i} (0-based index) has node id {@code i + 1}. Holds no resources;
 * the cluster that uses it owns the directories.
 */
record ClusterPlan(Path root, String clusterId, List<Path> dirs, List<Properties> configs, List<Integer> brokerPorts) {

    /** Picks the ports and the cluster id, and formats a log dir per node under {@code root}. */
    static ClusterPlan create(Path root, int n) throws Exception {
        if (n < 1) {
            throw new IllegalArgumentException("a cluster needs at least one node, not " + n);
        }
        // All 2n ports chosen at once, so no two listeners of the cluster can be given the same port.
        List<Integer> ports = EmbeddedKafka.freePorts(2 * n, List.of());
        List<Integer> brokerPorts = ports.subList(0, n);
        List<Integer> controllerPorts = ports.subList(n, 2 * n);
        StringJoiner voters = new StringJoiner(",");
        for (int i = 0; i < n; i++) {
            voters.add((i + 1) + "@localhost:" + controllerPorts.get(i));
        }
        String clusterId = Uuid.randomUuid().toString();
        List<Path> dirs = new ArrayList<>();
        List<Properties> configs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path dir = Files.createDirectories(root.resolve("node-" + (i + 1)));
            EmbeddedKafka.format(dir, i + 1, clusterId);
            dirs.add(dir);
            configs.add(EmbeddedKafka.nodeProperties(i + 1, voters.toString(), "PLAINTEXT", brokerPorts.get(i),
                    controllerPorts.get(i), dir, n));
        }
        return new ClusterPlan(root, clusterId, List.copyOf(dirs), List.copyOf(configs), List.copyOf(brokerPorts));
    }

    int size() {
        return dirs.size();
    }

    /** Every node's broker listener. */
    String bootstrapServers() {
        StringJoiner j = new StringJoiner(",");
        brokerPorts.forEach(p -> j.add("localhost:" + p));
        return j.toString();
    }

    /**
     * Empties the log dir of the node at {@code index} and formats it again as the same node of the
     * same cluster: a lost disk replaced by a new one. The node must be down.
     */
    void reformat(int index) throws Exception {
        Path dir = dirs.get(index);
        EmbeddedKafka.deleteRecursively(dir);
        Files.createDirectories(dir);
        EmbeddedKafka.format(dir, index + 1, clusterId);
    }

    void checkIndex(int index) {
        if (index < 0 || index >= size()) {
            throw new IndexOutOfBoundsException("node index " + index + " of a cluster of " + size());
        }
    }

    /** Creates {@code root} as a fresh temporary directory named with {@code prefix}. */
    static Path tempRoot(String prefix) throws IOException {
        return Files.createTempDirectory(prefix);
    }
}

package io.engram.tools.soak;

import io.engram.engine.config.PipelineSpec;
import io.engram.tools.broker.KafkaProcessCluster;
import io.engram.tools.kafka.KafkaClients;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * The soak's Kafka for {@code --brokers N} (N of 3 or more): a {@link KafkaProcessCluster}, every
 * topic replicated 3 times with {@code min.insync.replicas} 2, and the broker faults of a real
 * cluster: kill -9 of the broker that leads a given partition, a rolling restart, a broker replaced
 * on an empty log dir. After each, {@link #awaitInSync} tells when every partition has all its
 * replicas in sync again; the soak waits for it before the next fault, since a second broker lost
 * before then would leave some partition below {@code min.insync.replicas}, which is an outage by
 * design, not a fault to recover from.
 *
 * <p>Owns the cluster and an admin client; {@link #close()} closes both. The log dirs live under
 * the soak's work directory, which the soak deletes.
 */
final class ClusterSoakBroker implements SoakBroker {
    static final short REPLICATION = 3;
    static final int MIN_IN_SYNC = 2;

    private final KafkaProcessCluster cluster;
    private final Admin admin;

    private ClusterSoakBroker(KafkaProcessCluster cluster) {
        this.cluster = cluster;
        this.admin = KafkaClients.admin(cluster.bootstrapServers());
    }

    static ClusterSoakBroker start(Path data, int brokers) {
        if (brokers < REPLICATION) {
            throw new IllegalArgumentException("--brokers " + brokers + ": a cluster soak needs at least " + REPLICATION
                    + " brokers (replication factor 3, min.insync.replicas 2); use 1 for the single broker");
        }
        return new ClusterSoakBroker(KafkaProcessCluster.start(brokers, data, true));
    }

    @Override
    public String bootstrap() {
        return cluster.bootstrapServers();
    }

    @Override
    public int brokers() {
        return cluster.size();
    }

    @Override
    public void createTopics(PipelineSpec spec) {
        List<NewTopic> topics = spec.usedTopics().stream()
                .map(t -> new NewTopic(t, spec.topics().partitions(), REPLICATION)
                        .configs(Map.of("min.insync.replicas", String.valueOf(MIN_IN_SYNC))))
                .toList();
        try {
            admin.createTopics(topics).all().get(1, TimeUnit.MINUTES);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("creating the topics of " + spec.name() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String restart(Duration down, Random random) throws InterruptedException {
        int i = random.nextInt(cluster.size());
        cluster.stop(i);
        Thread.sleep(down.toMillis());
        cluster.restart(i);
        return "broker " + cluster.nodeId(i);
    }

    /**
     * kill -9 of the broker that leads a partition of {@code topics} (one chosen with {@code random}),
     * then {@code killed} (the fault has struck: recovery counts from here), down for {@code down},
     * then started again on its log dir.
     */
    String killLeader(Collection<String> topics, Duration down, Random random, Runnable killed) throws InterruptedException {
        List<String> names = new ArrayList<>(topics);
        String topic = names.get(random.nextInt(names.size()));
        List<TopicPartitionInfo> partitions = describe(List.of(topic)).get(topic).partitions();
        TopicPartitionInfo p = partitions.get(random.nextInt(partitions.size()));
        if (p.leader() == null || p.leader().isEmpty()) {
            throw new IllegalStateException(topic + "-" + p.partition() + " has no leader");
        }
        int index = cluster.indexOf(p.leader().id());
        cluster.kill(index);
        killed.run();
        Thread.sleep(down.toMillis());
        cluster.restart(index);
        return "broker " + p.leader().id() + " (leader of " + topic + "-" + p.partition() + ")";
    }

    /** Each broker in turn: a controlled stop, a start, and its replicas in sync again before the next. */
    String rollingRestart(Duration limit) throws InterruptedException {
        for (int i = 0; i < cluster.size(); i++) {
            cluster.stop(i);
            cluster.restart(i);
            if (awaitInSync(limit) < 0) {
                throw new IllegalStateException("rolling restart: replicas not in sync " + limit + " after broker " + cluster.nodeId(i)
                        + " came back");
            }
        }
        return "brokers 1.." + cluster.size() + " in turn";
    }

    /**
     * kill -9 of a broker chosen with {@code random}, then {@code killed}; its log dir lost, a new
     * broker with its id on an empty one.
     */
    String replace(Random random, Runnable killed) throws InterruptedException {
        int i = random.nextInt(cluster.size());
        cluster.kill(i);
        killed.run();
        cluster.replace(i);
        return "broker " + cluster.nodeId(i) + " on an empty log dir";
    }

    /** The changelog topics of {@code applicationId} that exist now. */
    List<String> changelogs(String applicationId) {
        try {
            return admin.listTopics().names().get(1, TimeUnit.MINUTES).stream()
                    .filter(t -> t.startsWith(applicationId + "-") && t.endsWith("-changelog")).sorted().toList();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("listing topics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Waits until every partition of every topic, internal ones included, has all its replicas in
     * sync; returns the seconds waited, or -1 if not within {@code limit}.
     */
    double awaitInSync(Duration limit) throws InterruptedException {
        long start = System.nanoTime();
        long deadline = start + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (allInSync()) {
                return (System.nanoTime() - start) / 1e9;
            }
            Thread.sleep(200);
        }
        return -1;
    }

    private boolean allInSync() throws InterruptedException {
        try {
            Collection<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(10, TimeUnit.SECONDS);
            for (TopicDescription d : describe(names).values()) {
                for (TopicPartitionInfo p : d.partitions()) {
                    if (p.leader() == null || p.leader().isEmpty() || p.isr().size() < p.replicas().size()) {
                        return false;
                    }
                }
            }
            return true;
        } catch (ExecutionException | TimeoutException | IllegalStateException e) {
            return false; // a broker is still coming back: ask again
        }
    }

    private Map<String, TopicDescription> describe(Collection<String> topics) throws InterruptedException {
        try {
            return admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("describing " + topics + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            admin.close(Duration.ofSeconds(5));
        } finally {
            cluster.close();
        }
    }
}

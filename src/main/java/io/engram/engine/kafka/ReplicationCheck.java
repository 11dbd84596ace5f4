package io.engram.engine.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Is a pipeline's written state durable on this cluster? A topic survives the loss of one broker
 * without losing or refusing a committed write only with at least {@code min.insync.replicas} + 1
 * replicas, and on a cluster of 3 or more brokers Engram expects a factor of at least 3. The rule
 * ({@link #problem}) is a pure function; {@link #describe} asks the cluster for the facts. Advisory
 * only: it never stops a start. Stateless.
 *
 * <p>On a cluster of one broker (a development broker: the demo's, the tests') no factor above 1 is
 * possible and one copy is all there is, so only a factor below {@code min.insync.replicas} is
 * reported there (every write under {@code acks=all} would be refused); a clean one-broker start
 * warns about nothing.
 */
public final class ReplicationCheck {
    /** The factor Engram expects on a cluster of at least as many brokers. */
    public static final int EXPECTED_FACTOR = 3;
    static final String MIN_INSYNC = "min.insync.replicas";
    static final String DEFAULT_FACTOR = "default.replication.factor";

    private ReplicationCheck() {}

    /**
     * One topic's replication.
     *
     * @param factor its replicas (the fewest of any partition), or, for a topic not created yet, the
     *     factor it will be created with
     * @param minInsync its {@code min.insync.replicas}
     * @param exists false: not created yet, the facts are what it will be created with
     */
    public record TopicReplication(String topic, int factor, int minInsync, boolean exists) {}

    /** What the cluster says: its brokers, and each topic asked about. */
    public record Facts(int brokers, List<TopicReplication> topics) {}

    /**
     * Why {@code t} is not durable on a cluster of {@code brokers}, or null when it is (see the class
     * comment for one broker).
     */
    public static String problem(int brokers, TopicReplication t) {
        int f = t.factor();
        int m = t.minInsync();
        List<String> why = new ArrayList<>();
        if (brokers >= EXPECTED_FACTOR && f < EXPECTED_FACTOR) {
            why.add("factor " + f + " < " + EXPECTED_FACTOR + " on " + brokers + " brokers");
        }
        if (f < m) {
            why.add("factor " + f + " < min.insync.replicas " + m + ": every acks=all write is refused");
        } else if (brokers > 1 && f < m + 1) {
            why.add("factor " + f + " < min.insync.replicas " + m + " + 1: one broker lost " + (f == 1 ? "loses its data" : "stops its writes"));
        }
        return why.isEmpty() ? null : t.topic() + " (" + String.join("; ", why) + (t.exists() ? "" : "; when created") + ")";
    }

    /**
     * One line for a group of topics ({@code "outputs"}, {@code "changelogs"}) naming each that is not
     * durable and why, with the fix; null when all are.
     */
    public static String warning(String pipeline, String group, Facts facts) {
        List<String> bad = new ArrayList<>();
        for (TopicReplication t : facts.topics()) {
            String p = problem(facts.brokers(), t);
            if (p != null) {
                bad.add(p);
            }
        }
        if (bad.isEmpty()) {
            return null;
        }
        return "pipeline " + pipeline + ": " + group + " not durable on this cluster of " + facts.brokers() + " broker"
                + (facts.brokers() == 1 ? "" : "s") + ": " + String.join(", ", bad) + (facts.brokers() == 1
                ? ". Fix: min.insync.replicas at most 1 on a one-broker cluster, which holds one copy of each topic."
                + " See docs/deploy.md, \"Durability\"" : fix());
    }

    private static String fix() {
        return ". Fix: topics.replication_factor "
                + EXPECTED_FACTOR + " (or -1 with the cluster's default.replication.factor " + EXPECTED_FACTOR
                + ") and min.insync.replicas 2; a topic that exists keeps its factor until reassigned"
                + " (kafka-reassign-partitions). See docs/deploy.md, \"Durability\"";
    }

    /**
     * Asks the cluster for its brokers and each topic's factor and {@code min.insync.replicas}. A
     * topic that does not exist yet (a changelog before Kafka Streams' first rebalance) is described
     * as it will be created: {@code factor}, or the broker's {@code default.replication.factor} when
     * it is -1, and {@code minInsync}, or the broker's {@code min.insync.replicas} when null.
     */
    public static Facts describe(String bootstrap, Map<String, String> clientProperties, Collection<String> topics, int factor,
            Integer minInsync) {
        try (Admin admin = Admin.create(TopicAdmin.props(bootstrap, clientProperties))) {
            Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> there = topics.stream().filter(existing::contains).distinct().toList();
            Map<String, TopicDescription> described = there.isEmpty() ? Map.of()
                    : admin.describeTopics(there).allTopicNames().get(30, TimeUnit.SECONDS);
            List<ConfigResource> resources = new ArrayList<>();
            there.forEach(t -> resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t)));
            ConfigResource broker = nodes.isEmpty() ? null : new ConfigResource(ConfigResource.Type.BROKER,
                    String.valueOf(nodes.iterator().next().id()));
            boolean someMissing = topics.stream().anyMatch(t -> !existing.contains(t));
            if (someMissing && broker != null) {
                resources.add(broker);
            }
            Map<ConfigResource, Config> configs = resources.isEmpty() ? Map.of()
                    : admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
            Map<String, TopicReplication> out = new TreeMap<>();
            for (String t : topics) {
                TopicDescription d = described.get(t);
                if (d != null) {
                    int f = d.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
                    int m = intValue(configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t)), MIN_INSYNC, 1);
                    out.put(t, new TopicReplication(t, f, m, true));
                } else {
                    Config b = broker == null ? null : configs.get(broker);
                    int f = factor > 0 ? factor : intValue(b, DEFAULT_FACTOR, 1);
                    int m = minInsync != null ? minInsync : intValue(b, MIN_INSYNC, 1);
                    out.put(t, new TopicReplication(t, f, m, false));
                }
            }
            return new Facts(nodes.size(), List.copyOf(out.values()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing the topics' replication", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable why = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("describing the topics' replication at " + bootstrap + ": " + why.getMessage(), why);
        }
    }

    private static int intValue(Config c, String key, int dflt) {
        ConfigEntry e = c == null ? null : c.get(key);
        if (e == null || e.value() == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(e.value().trim());
        } catch (NumberFormatException ex) {
            return dflt;
        }
    }
}

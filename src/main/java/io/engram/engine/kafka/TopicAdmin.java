package io.engram.engine.kafka;

import io.engram.engine.errors.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * What a pipeline asks of a cluster's admin API before it starts: that a broker answers, and that
 * its topics exist. Works with any cluster; the admin client gets {@code clientProperties} (e.g.
 * security settings) beside the bootstrap address. Stateless.
 */
public final class TopicAdmin {
    private TopicAdmin() {}

    /** The properties of a client of the user's cluster: the user's client settings, then the bootstrap servers. */
    public static Properties props(String bootstrap, Map<String, String> clientProperties) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return p;
    }

    /** Fails fast, with the fix, when no broker answers at {@code bootstrap}. */
    public static void checkReachable(String bootstrap, Map<String, String> clientProperties) {
        Properties p = props(bootstrap, clientProperties);
        p.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            ConfigException auth = KafkaProperties.authenticationFailed(bootstrap, e);
            if (auth != null) {
                throw auth;
            }
            // The future's ExecutionException says nothing; its cause (a TimeoutException when no broker answers) does.
            Throwable why = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new ConfigException("Cannot reach a Kafka broker at " + bootstrap + " (" + why.getClass().getSimpleName()
                    + "). Fix: check --bootstrap-servers and that the cluster is up (or run `./engram broker`).", e);
        } catch (Throwable t) {
            throw new ConfigException("Bad --bootstrap-servers '" + bootstrap + "': " + t.getMessage(), t);
        }
    }

    /**
     * Creates the topics that do not exist yet; existing ones are left as they are. The cluster is
     * asked which exist first, so that a principal without CREATE rights starts when every topic
     * exists (a create request for an existing topic is refused for lack of rights before its
     * existence is checked). With {@code create} false nothing is created, and a missing topic is a
     * {@link ConfigException} naming it and the fix.
     */
    public static void createTopics(String bootstrap, Map<String, String> clientProperties, int partitions, short replication,
            List<String> names, boolean create) {
        try (Admin admin = Admin.create(props(bootstrap, clientProperties))) {
            java.util.Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<String> missing = names.stream().filter(n -> !existing.contains(n)).distinct().toList();
            if (missing.isEmpty()) {
                return;
            }
            if (!create) {
                throw new ConfigException("Topic" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                        + " missing on the cluster at " + bootstrap + ", and topic creation is off (--no-create-topics)."
                        + " Fix: create " + (missing.size() > 1 ? "them" : "it") + " (" + partitions + " partitions), or drop --no-create-topics.");
            }
            List<NewTopic> topics = new ArrayList<>();
            for (String n : missing) {
                topics.add(new NewTopic(n, Optional.of(partitions), replication > 0 ? Optional.of(replication) : Optional.empty()));
            }
            var result = admin.createTopics(topics);
            for (var e : result.values().entrySet()) {
                try {
                    e.getValue().get();
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("creating topic " + e.getKey() + ": " + ex.getCause().getMessage(), ex.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("listing the topics at " + bootstrap + ": " + e.getMessage(), e);
        }
    }

    /** {@link #createTopics(String, Map, int, short, List, boolean)} with creation on. */
    public static void createTopics(String bootstrap, Map<String, String> clientProperties, int partitions, short replication,
            List<String> names) {
        createTopics(bootstrap, clientProperties, partitions, replication, names, true);
    }

    /**
     * Who a cluster and its topics are: the cluster id, and the id (Kafka's topic UUID, new each time a
     * topic is created) of each of the named topics that exists (an application's inputs and its
     * changelogs, named exactly, never matched by prefix). Absent topics are left out.
     */
    public record Identity(String clusterId, java.util.SortedMap<String, String> topicIds) {}

    public static Identity identify(String bootstrap, Map<String, String> clientProperties, java.util.Collection<String> names) {
        try (Admin admin = Admin.create(props(bootstrap, clientProperties))) {
            String cluster = admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS);
            java.util.Set<String> wanted = new java.util.TreeSet<>();
            for (String t : admin.listTopics().names().get(30, TimeUnit.SECONDS)) {
                if (names.contains(t)) {
                    wanted.add(t);
                }
            }
            java.util.SortedMap<String, String> ids = new java.util.TreeMap<>();
            if (!wanted.isEmpty()) {
                for (var e : admin.describeTopics(wanted).allTopicNames().get(30, TimeUnit.SECONDS).entrySet()) {
                    ids.put(e.getKey(), e.getValue().topicId().toString());
                }
            }
            return new Identity(cluster, ids);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing the cluster", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("describing the cluster and its topics at " + bootstrap + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the named topics and waits until the cluster no longer lists them (a topic marked for
     * deletion cannot be created again).
     */
    public static void deleteTopics(String bootstrap, Map<String, String> clientProperties, java.util.Collection<String> names) {
        if (names.isEmpty()) {
            return;
        }
        try (Admin admin = Admin.create(props(bootstrap, clientProperties))) {
            admin.deleteTopics(names).all().get(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                java.util.Set<String> left = new java.util.HashSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
                left.retainAll(names);
                if (left.isEmpty()) {
                    return;
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("topics " + names + " still listed 60 s after their deletion");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while deleting topics", e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("deleting topics " + names + ": " + e.getMessage(), e);
        }
    }
}

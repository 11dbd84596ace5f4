package io.engram.core;

import io.engram.errors.ConfigException;
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

    private static Properties props(String bootstrap, Map<String, String> clientProperties) {
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
            throw new ConfigException("Cannot reach a Kafka broker at " + bootstrap + " (" + e.getClass().getSimpleName()
                    + "). Fix: check --bootstrap-servers and that the cluster is up (or run `./engram broker`).", e);
        } catch (Throwable t) {
            throw new ConfigException("Bad --bootstrap-servers '" + bootstrap + "': " + t.getMessage(), t);
        }
    }

    /** Creates the topics that do not exist yet; existing ones are left as they are. */
    public static void createTopics(String bootstrap, Map<String, String> clientProperties, int partitions, short replication,
            List<String> names) {
        try (Admin admin = Admin.create(props(bootstrap, clientProperties))) {
            List<NewTopic> topics = new ArrayList<>();
            for (String n : names) {
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
        }
    }
}

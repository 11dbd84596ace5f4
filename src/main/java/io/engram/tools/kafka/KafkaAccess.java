package io.engram.tools.kafka;

import io.engram.engine.kafka.KafkaProperties;
import io.engram.engine.errors.ConfigException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Up-front checks that the command-line clients ({@code tail}, {@code ingest}) run before they
 * create a consumer or producer. Without them, a wrong topic or a broker that is down shows up as a
 * client that silently retries for a minute; with them, it is one line naming the problem and the
 * fix. Stateless; each call opens and closes its own {@link Admin}.
 */
public final class KafkaAccess {
    /** How long to wait for the cluster before saying it is unreachable. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private KafkaAccess() {}

    /**
     * Describes {@code topic} on the cluster at {@code bootstrap}.
     *
     * @return the topic's description (partitions)
     * @throws ConfigException when the broker cannot be reached within {@code timeout} or the topic does not exist
     */
    public static TopicDescription describeTopic(String bootstrap, String topic, Duration timeout) {
        return describeTopic(bootstrap, Map.of(), topic, timeout);
    }

    /** As {@link #describeTopic(String, String, Duration)}, with the user's client properties (security settings). */
    public static TopicDescription describeTopic(String bootstrap, Map<String, String> client, String topic, Duration timeout) {
        try (Admin admin = admin(bootstrap, client, timeout)) {
            try {
                return admin.describeTopics(List.of(topic)).allTopicNames()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            } catch (ExecutionException e) {
                refusedLogin(bootstrap, e);
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    throw new ConfigException("topic '" + topic + "' does not exist on " + bootstrap + "; " + existing(admin, timeout));
                }
                if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                    throw unreachable(bootstrap, timeout, e.getCause());
                }
                throw new ConfigException("cannot describe topic '" + topic + "' on " + bootstrap + ": "
                        + e.getCause().getMessage() + "; check the broker and its access rights", e.getCause());
            } catch (TimeoutException e) {
                throw unreachable(bootstrap, timeout, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConfigException("interrupted while contacting Kafka at " + bootstrap, e);
            }
        }
    }

    /** Whether {@code topic} exists; a {@link ConfigException} when the broker cannot be reached. */
    public static boolean topicExists(String bootstrap, String topic, Duration timeout) {
        return topicExists(bootstrap, Map.of(), topic, timeout);
    }

    /** As {@link #topicExists(String, String, Duration)}, with the user's client properties (security settings). */
    public static boolean topicExists(String bootstrap, Map<String, String> client, String topic, Duration timeout) {
        try (Admin admin = admin(bootstrap, client, timeout)) {
            return admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS).contains(topic);
        } catch (ExecutionException | TimeoutException e) {
            refusedLogin(bootstrap, e);
            throw unreachable(bootstrap, timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigException("interrupted while contacting Kafka at " + bootstrap, e);
        }
    }

    /**
     * Makes sure {@code topic} exists before a command writes to it: when it does not, creates it
     * with 4 partitions (and says so on {@code err}) if {@code create} ({@code --create-topic}), else
     * stops with a {@link ConfigException} that names {@code fix} and {@code --create-topic}.
     */
    public static void ensureTopic(String bootstrap, Map<String, String> client, String topic, boolean create, String fix,
            java.io.PrintStream err) {
        if (topicExists(bootstrap, client, topic, DEFAULT_TIMEOUT)) {
            return;
        }
        if (!create) {
            throw new ConfigException("topic '" + topic + "' does not exist on " + bootstrap + "; " + fix + " or add --create-topic");
        }
        io.engram.engine.kafka.TopicAdmin.createTopics(bootstrap, client, 4, (short) -1, List.of(topic));
        err.printf("engram: created topic %s (4 partitions)%n", topic);
    }

    /** The existing topics as a hint, or where to look when listing fails too. */
    private static String existing(Admin admin, Duration timeout) {
        try {
            Set<String> names = new TreeSet<>(admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            if (names.isEmpty()) {
                return "the cluster has no topics yet (engram run creates its pipeline's topics)";
            }
            String list = String.join(", ", names.stream().limit(20).toList());
            return "existing topics: " + list + (names.size() > 20 ? ", ..." : "");
        } catch (ExecutionException | TimeoutException e) {
            return "check the topic name";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "check the topic name";
        }
    }

    private static ConfigException unreachable(String bootstrap, Duration timeout, Throwable cause) {
        return new ConfigException("cannot reach Kafka at " + bootstrap + " within " + timeout.toSeconds()
                + " s; check --bootstrap-servers and that the broker is running (./engram broker starts one)", cause);
    }

    /** A refused login is said at once, as itself, rather than as an unreachable broker. */
    private static void refusedLogin(String bootstrap, Exception e) {
        ConfigException auth = KafkaProperties.authenticationFailed(bootstrap, e);
        if (auth != null) {
            throw auth;
        }
    }

    private static Admin admin(String bootstrap, Map<String, String> client, Duration timeout) {
        int ms = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        return KafkaClients.admin(bootstrap, client,
                Map.of(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms));
    }

    /** A client could not even be created: almost always a malformed or unresolvable bootstrap address. */
    public static ConfigException badBootstrap(String bootstrap, KafkaException e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return new ConfigException("cannot use bootstrap servers '" + bootstrap + "': " + root.getMessage()
                + "; give --bootstrap-servers as HOST:PORT[,HOST:PORT...]", e);
    }
}

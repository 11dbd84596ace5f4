package io.engram.tools.kafka;

import io.engram.engine.kafka.TopicAdmin;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Every Kafka client the tools create (commands, demo, benchmarks, soak, test harness), in one place;
 * the engine creates its own. The presets ({@link #producer(String)}, {@link #consumer}, {@link #admin})
 * are the integration tests' clients, on raw bytes; the other factories take each caller's own
 * settings, so that a caller's choices (idempotence, linger, group) stay visible where it makes them.
 * Variants with a {@code client} map add the user's client properties (security settings from
 * {@code --command-config} or {@code -X}) last, over the caller's settings, and report a malformed
 * bootstrap address as a {@link io.engram.engine.errors.ConfigException} naming the fix.
 *
 * <p>Stateless. The caller owns each client it gets and closes it.
 */
public final class KafkaClients {
    private KafkaClients() {}

    /** A producer of raw bytes with {@code settings}, then the user's {@code client} properties over them. */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap, Map<String, ?> settings, Map<String, String> client) {
        Properties p = props(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, settings);
        p.putAll(client);
        try {
            return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        } catch (KafkaException e) {
            throw KafkaAccess.badBootstrap(bootstrap, e);
        }
    }

    /**
     * The producer of the ingest commands ({@code engram ingest sensors|video}) and the demo's cameras:
     * idempotent with {@code acks=all}, so that ordinary retries neither duplicate nor reorder a
     * stream's records (the pipelines step their recurrent state once per record, so a duplicate is a
     * wrong step, not just a repeated line); {@code linger.ms=5} to batch fast replays. A batch in
     * flight when a broker goes down can still, rarely, be written twice (docs/deploy.md, "Durability").
     *
     * @param clientId names the command in the broker's logs and quotas
     * @param extra settings of the caller's own, e.g. compression
     */
    public static KafkaProducer<byte[], byte[]> ingestProducer(String bootstrap, String clientId, Map<String, ?> extra,
            Map<String, String> client) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        settings.put(ProducerConfig.ACKS_CONFIG, "all");
        settings.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        settings.putAll(extra);
        settings.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        return producer(bootstrap, settings, client);
    }

    /** A consumer of raw bytes with {@code settings}, then the user's {@code client} properties over them. */
    public static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, Map<String, ?> settings, Map<String, String> client) {
        Properties p = props(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, settings);
        p.putAll(client);
        try {
            return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        } catch (KafkaException e) {
            throw KafkaAccess.badBootstrap(bootstrap, e);
        }
    }

    /** A producer of JSON-ish records keyed by a string (a stream or camera id), for the demo and benchmarks' own input. */
    public static KafkaProducer<String, byte[]> keyedProducer(String bootstrap, Map<String, ?> settings) {
        return new KafkaProducer<>(props(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, settings),
                new StringSerializer(), new ByteArraySerializer());
    }

    /** A consumer of records keyed by a string, for the demo's and benchmarks' readers of a pipeline's output. */
    public static KafkaConsumer<String, byte[]> keyedConsumer(String bootstrap, Map<String, ?> settings) {
        return new KafkaConsumer<>(props(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, settings),
                new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * A consumer in group {@code group} that reads committed records from the earliest offset, the way
     * the demo and the benchmarks read a pipeline's output; {@code extra} adds to it (e.g. max.poll.records).
     */
    public static KafkaConsumer<String, byte[]> outputReader(String bootstrap, String group, Map<String, ?> extra) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        settings.putAll(extra);
        return keyedConsumer(bootstrap, settings);
    }

    /** An admin client with {@code settings} over the engine's admin properties for {@code bootstrap} and the user's {@code client}. */
    public static Admin admin(String bootstrap, Map<String, String> client, Map<String, ?> settings) {
        Properties p = TopicAdmin.props(bootstrap, client);
        p.putAll(settings);
        try {
            return Admin.create(p);
        } catch (KafkaException e) {
            throw KafkaAccess.badBootstrap(bootstrap, e);
        }
    }

    private static Properties props(String bootstrapKey, String bootstrap, Map<String, ?> settings) {
        Properties p = new Properties();
        p.put(bootstrapKey, bootstrap);
        p.putAll(settings);
        return p;
    }

    /**
     * An idempotent producer with {@code acks=all} that keeps retrying through a broker outage of a
     * few minutes. Idempotence keeps ordinary retries free of duplicates, but not every one: a batch
     * the broker wrote and never acknowledged, before it went down, can be written again under a
     * bumped producer epoch. Where every record must be in the log once, use
     * {@link #transactionalProducer}.
     */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return new KafkaProducer<>(outageProof(bootstrap), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * {@link #producer(String)} with {@code transactionalId}: what it sends between
     * {@code beginTransaction} and {@code commitTransaction} is in the log once, or, aborted, is
     * skipped by read_committed readers. The caller calls {@code initTransactions} first.
     */
    public static KafkaProducer<byte[], byte[]> transactionalProducer(String bootstrap, String transactionalId) {
        Properties p = outageProof(bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static Properties outageProof(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 300_000);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return p;
    }

    /** A consumer without a group (partitions are assigned by hand), from the earliest offset, without commits. */
    public static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, IsolationLevel isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.toString().toLowerCase(Locale.ROOT));
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** An admin client for {@code bootstrap} with the defaults. */
    public static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }
}

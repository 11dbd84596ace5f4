package io.engram.testkit;

import io.engram.tools.harness.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Plain producer/consumer helpers for integration tests. */
public final class KafkaTestClient {
    private KafkaTestClient() {}

    public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public static ProducerRecord<byte[], byte[]> reading(String topic, String key, long ts, double value) {
        String json = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", ts, Double.toString(value));
        return new ProducerRecord<>(topic, null, ts, key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                json.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads {@code topic} from the start with read_committed: waits for at least {@code count}
     * records, then reads on past them, up to the end offsets once the topic has settled (no
     * transaction open, end offsets unchanged for a quiet period), so that a caller asserting
     * exactly {@code count} sees a duplicate or any other extra record ({@link TopicReader#readCommitted}).
     */
    public static List<ConsumerRecord<byte[], byte[]>> readCommitted(String bootstrap, String topic, int count, Duration timeout) {
        return TopicReader.readCommitted(bootstrap, topic, count, timeout);
    }
}

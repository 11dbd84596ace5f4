package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.kafka.KafkaAccess;
import io.engram.tools.ingest.SensorCsv;
import io.engram.tools.ingest.SensorReplay;
import io.engram.tools.tail.TopicTail;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code engram broker}'s start function: a usable broker, and a --data-dir that survives restarts. */
class BrokerCommandIT {
    @TempDir
    Path dataDir;

    @Test
    void brokerWithDataDirKeepsTopicsAndRecordsAcrossARestart() throws Exception {
        try (EmbeddedKafka first = BrokerCommand.start(0, dataDir)) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            BrokerCommand.printStarted(new PrintStream(buf, true, StandardCharsets.UTF_8), first, true);
            assertTrue(buf.toString(StandardCharsets.UTF_8).startsWith(
                    "engram: Kafka broker at localhost:" + first.port() + " (data: " + dataDir.toAbsolutePath() + ")"), buf.toString());
            first.createTopics(1, "kept");
            try (KafkaProducer<byte[], byte[]> p = SensorReplay.producer(first.bootstrapServers())) {
                SensorReplay.send(List.of(new SensorCsv.Row(1, 5L, new double[] {7}, "5")), "s", "s.csv", "kept", p, 0, n -> {}, () -> true);
            }
        }
        try (EmbeddedKafka second = BrokerCommand.start(0, dataDir)) {
            assertTrue(KafkaAccess.topicExists(second.bootstrapServers(), "kept", Duration.ofSeconds(15)));
            List<String> lines = new ArrayList<>();
            try (TopicTail t = TopicTail.open(new TopicTail.Options(second.bootstrapServers(), "kept", true, 1L, Duration.ofSeconds(15), null),
                    Duration.ofSeconds(15))) {
                t.run(lines::add, () -> true);
            }
            assertEquals(1, lines.size());
            assertTrue(lines.get(0).contains("\"value\":{\"ts\":5,\"values\":[7.0]}"), lines.get(0));
        }
    }
}

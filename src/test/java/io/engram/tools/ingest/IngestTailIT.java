package io.engram.tools.ingest;

import io.engram.tools.tail.TopicTail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.tools.cli.EngramCli;
import io.engram.engine.errors.ConfigException;
import io.engram.testkit.KafkaBroker;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** `engram ingest sensors` and `engram tail` logic against a real in-process KRaft broker. */
class IngestTailIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();
    static final ObjectMapper M = new ObjectMapper();
    static final Duration CHECK = Duration.ofSeconds(15);
    /**
     * A tail that checks a count reads without --max until the topic has been quiet this long, so
     * that a record beyond the expected ones (a duplicate) is seen.
     */
    static final Duration QUIET = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    private static long utc(String iso) {
        return Instant.parse(iso).toEpochMilli();
    }

    private static List<JsonNode> tail(TopicTail.Options o) throws Exception {
        List<String> lines = new ArrayList<>();
        try (TopicTail t = TopicTail.open(o, CHECK)) {
            t.run(lines::add, () -> true);
        }
        List<JsonNode> out = new ArrayList<>();
        for (String l : lines) {
            out.add(M.readTree(l));
        }
        return out;
    }

    @Test
    void ingestedCsvRowsComeBackInOrderWithKeyTimestampValuesAndSourceHeader() throws Exception {
        String topic = "ingest-tail-1";
        kafka.createTopics(2, topic);
        Path csv = dir.resolve("nyc_taxi.csv");
        Files.writeString(csv, "timestamp,value\n"
                + "2015-07-10 14:24:00,10844\n"
                + "2015-07-10 14:29:00,8127\n"
                + "bad,1\n"
                + "2015-07-10 14:29:00,6210.5\n"); // repeated time: kept, in order
        SensorCsv.Result rows = SensorCsv.read(csv);
        assertEquals(1, rows.skipped());

        SensorReplay.Summary s;
        try (KafkaProducer<byte[], byte[]> p = SensorReplay.producer(kafka.bootstrap())) {
            s = SensorReplay.send(rows.rows(), "nyc_taxi", "nyc_taxi.csv", topic, p, 0, n -> {}, () -> true);
        }
        assertEquals(3, s.sent());
        assertFalse(s.stopped());

        List<JsonNode> got = tail(new TopicTail.Options(kafka.bootstrap(), topic, true, null, QUIET, null));
        assertEquals(3, got.size(), "each row once");
        // One key: one partition, so the offsets give the file order.
        assertEquals(1, got.stream().map(n -> n.get("partition").asInt()).distinct().count());
        long[] ts = {utc("2015-07-10T14:24:00Z"), utc("2015-07-10T14:29:00Z"), utc("2015-07-10T14:29:00Z")};
        double[] values = {10844, 8127, 6210.5};
        int[] lines = {2, 3, 5};
        for (int i = 0; i < 3; i++) {
            JsonNode n = got.get(i);
            assertEquals(topic, n.get("topic").asText());
            assertEquals(i, n.get("offset").asLong());
            assertEquals("nyc_taxi", n.get("key").asText());
            assertEquals(ts[i], n.get("timestamp").asLong());
            assertEquals("nyc_taxi.csv:" + lines[i], n.get("headers").get(SensorReplay.SOURCE_HEADER).asText());
            assertEquals(ts[i], n.get("value").get("ts").asLong());
            assertEquals(1, n.get("value").get("values").size());
            assertEquals(values[i], n.get("value").get("values").get(0).asDouble());
        }
    }

    @Test
    void tailWithoutFromBeginningSeesOnlyRecordsSentAfterItOpened() throws Exception {
        String topic = "ingest-tail-2";
        kafka.createTopics(2, topic);
        SensorCsv.Row old = new SensorCsv.Row(2, 1_000L, new double[] {1, 2}, "1000");
        SensorCsv.Row fresh = new SensorCsv.Row(3, 2_000L, new double[] {3, 4}, "2000");
        try (KafkaProducer<byte[], byte[]> p = SensorReplay.producer(kafka.bootstrap())) {
            SensorReplay.send(List.of(old), "m1", "m.csv", topic, p, 0, n -> {}, () -> true);
            List<String> lines = new ArrayList<>();
            try (TopicTail t = TopicTail.open(new TopicTail.Options(kafka.bootstrap(), topic, false, null, QUIET, null), CHECK)) {
                assertEquals(2, t.partitions());
                SensorReplay.send(List.of(fresh), "m1", "m.csv", topic, p, 0, n -> {}, () -> true);
                t.run(lines::add, () -> true);
            }
            assertEquals(1, lines.size(), "only the record sent after the tail opened, once");
            JsonNode n = M.readTree(lines.get(0));
            assertEquals(2_000L, n.get("timestamp").asLong());
            assertEquals("[3.0,4.0]", n.get("value").get("values").toString());
            assertEquals("m.csv:3", n.get("headers").get(SensorReplay.SOURCE_HEADER).asText());
        }
    }

    @Test
    void groupTailResumesAfterWhatItPrinted() throws Exception {
        String topic = "ingest-tail-3";
        kafka.createTopics(1, topic);
        List<SensorCsv.Row> rows = List.of(new SensorCsv.Row(1, 1L, new double[] {1}, "1"),
                new SensorCsv.Row(2, 2L, new double[] {2}, "2"), new SensorCsv.Row(3, 3L, new double[] {3}, "3"));
        try (KafkaProducer<byte[], byte[]> p = SensorReplay.producer(kafka.bootstrap())) {
            SensorReplay.send(rows, "g", "g.csv", topic, p, 0, n -> {}, () -> true);
        }
        var first = tail(new TopicTail.Options(kafka.bootstrap(), topic, true, 2L, Duration.ofSeconds(10), "it-group"));
        var second = tail(new TopicTail.Options(kafka.bootstrap(), topic, true, null, Duration.ofSeconds(2), "it-group"));
        assertEquals(List.of(0L, 1L), first.stream().map(n -> n.get("offset").asLong()).toList());
        assertEquals(List.of(2L), second.stream().map(n -> n.get("offset").asLong()).toList());
    }

    @Test
    void pacedReplayWaitsForTheScaledTimeBetweenRows() throws Exception {
        String topic = "ingest-tail-4";
        kafka.createTopics(1, topic);
        // 3 rows a minute apart at --speed 120 = 0.5 s apart: about 1 s in all.
        List<SensorCsv.Row> rows = List.of(new SensorCsv.Row(1, 0L, new double[] {1}, "0"),
                new SensorCsv.Row(2, 60_000L, new double[] {2}, "60000"), new SensorCsv.Row(3, 120_000L, new double[] {3}, "120000"));
        try (KafkaProducer<byte[], byte[]> p = SensorReplay.producer(kafka.bootstrap())) {
            SensorReplay.Summary s = SensorReplay.send(rows, "p", "p.csv", topic, p, 120, n -> {}, () -> true);
            assertEquals(3, s.sent());
            // At least the scaled time between the first and the last row; no upper bound, which would
            // only measure how loaded the machine is.
            assertTrue(s.elapsed().toMillis() >= 950, "elapsed " + s.elapsed());
        }
    }

    @Test
    void tailOfAMissingTopicIsAConfigExceptionListingTheExistingOnes() {
        ConfigException e = assertThrows(ConfigException.class, () -> TopicTail.open(
                new TopicTail.Options(kafka.bootstrap(), "no-such-topic", true, null, null, null), CHECK));
        assertTrue(e.getMessage().startsWith("topic 'no-such-topic' does not exist on " + kafka.bootstrap()), e.getMessage());
    }

    /** The same, through the command line: wiring, exit codes, summary and JSON lines on stdout. */
    @Test
    void ingestAndTailCommandsRoundTripAMultiColumnFile() throws Exception {
        String topic = "ingest-tail-cli";
        Path csv = dir.resolve("machine-7.csv");
        Files.writeString(csv, "timestamp,temp,rpm\n2024-01-01T00:00:00Z,20.5,1500\n2024-01-01T00:00:01Z,oops,1500\n2024-01-01T00:00:02Z,21,1490\n");
        String b = kafka.bootstrap();

        PrintStream stdout = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int ingestCode;
        int missingTopicCode;
        int tailCode;
        String ingestOut;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            missingTopicCode = EngramCli.commandLine().execute("ingest", "sensors", "--file", csv.toString(), "--topic", topic, "-b", b);
            ingestCode = EngramCli.commandLine().execute("ingest", "sensors", "--file", csv.toString(), "--topic", topic, "-b", b,
                    "--create-topic", "--no-progress");
            ingestOut = buf.toString(StandardCharsets.UTF_8);
            buf.reset();
            tailCode = EngramCli.commandLine().execute("tail", "--topic", topic, "-b", b, "--from-beginning", "--timeout",
                    Long.toString(QUIET.toSeconds()));
        } finally {
            System.setOut(stdout);
        }
        assertEquals(2, missingTopicCode);
        assertEquals(0, ingestCode);
        assertTrue(ingestOut.contains("sent 2 rows of stream 'machine-7' to topic '" + topic + "'"), ingestOut);
        assertTrue(ingestOut.contains("skipped 1 row (1 bad number)"), ingestOut);
        assertEquals(0, tailCode);
        String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(2, lines.length, "each good row once");
        List<String> values = new ArrayList<>();
        for (String l : lines) {
            JsonNode n = M.readTree(l);
            assertEquals("machine-7", n.get("key").asText());
            values.add(n.get("value").get("values").toString());
        }
        assertEquals(List.of("[20.5,1500.0]", "[21.0,1490.0]"), values);
    }
}

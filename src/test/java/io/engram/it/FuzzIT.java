package io.engram.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.engram.runtime.PipelineRunner;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.embedded.EmbeddedKafka;
import io.engram.errors.BadInputException;
import io.engram.core.DeadLetterHandler;
import io.engram.model.ModelManifest;
import io.engram.model.StepModel;
import io.engram.monitoring.EngramMetrics;
import io.engram.core.InputKeyDeserializer;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import io.engram.pipeline.forecast.SensorReading;
import io.engram.pipeline.forecast.SensorReadingSerde;
import io.engram.core.PipelineTopics;
import io.engram.pipeline.video.FeatureRecord;
import io.engram.pipeline.video.FeatureRecordSerde;
import io.engram.pipeline.video.FramePreprocessor;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import io.engram.pipeline.activity.VideoActivityPipeline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input on every input topic, on a real in-process broker with exactly-once processing: random
 * and mutated values (bit flips, truncation, inserted bytes, JSON fields deleted or of the wrong
 * type, NaN/Infinity, huge numbers, wrong value counts, deep nesting, invalid UTF-8), null, empty,
 * long and non-UTF-8 keys, random and malformed headers, oversized values, interleaved with good
 * records on the same keys. Asserts that Kafka Streams stays RUNNING throughout; that every good
 * record gives exactly its prediction, with the values of a run of the good records alone; that every
 * bad record gives exactly one dead letter with its documented reason and its original bytes (or the
 * documented dropped-bytes header); and that the dead-letter metric counts the same.
 *
 * <p>Deterministic for a seed, which is printed: {@code -Dengram.fuzz.seed=N} replays a run. What a
 * record must give comes from an oracle that applies the rules of docs/topics.md in the pipeline's
 * order (key and headers, value, content, then the stream's state). The key rules are written out
 * here; the value rules use the pipeline's own parsers (SensorReadingSerde, FramePreprocessor,
 * FeatureRecordSerde), and the hand-made mutations (deleted fields, wrong types, ...) also state
 * their reason, which must agree. A random mutation that happens to be valid is not sent as a bad
 * record, so that the good streams' predictions stay comparable with a run of the good records alone.
 */
class FuzzIT {
    static final long SEED = Long.getLong("engram.fuzz.seed", 20_261_123L);
    static final ObjectMapper JSON = new ObjectMapper();
    /** docs/topics.md: a dead letter never copies a value over this; it names its size instead. */
    static final int MAX_COPIED = 900_000;
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    static final Set<String> SENSOR_REASONS = Set.of("not-json", "missing-field", "bad-field", "non-finite-value",
            "wrong-value-count", "null-key", "bad-key", "null-value", "out-of-order", "too-large");
    static final Set<String> VIDEO_REASONS = Set.of("null-key", "bad-key", "empty-frame", "too-large", "unsupported-content-type",
            "corrupt-image", "frame-size-changed", "bad-field", "null-value", "bad-features", "out-of-order");

    static EmbeddedKafka kafka;

    @TempDir
    Path stateDir;

    @BeforeAll
    static void startBroker() {
        System.out.println("FuzzIT seed " + SEED + " (replay with -Dengram.fuzz.seed=" + SEED + ")");
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    // ---------------------------------------------------------------- sensor pipeline

    @Test
    void sensorReadingsFuzzedKeepThePipelineRunningAndEveryBadRecordIsDeadLetteredOnceWithItsReason() throws Exception {
        PipelineSpec cfg = Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).withApplicationId("fuzz-sensor")
                .withMetricsPort(0).withTopics(Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).topics().withPrefix("fuzz-").withPartitions(2));
        // Event times end a few hours before now: the broker refuses records more than an hour ahead of its clock.
        long t0 = (System.currentTimeMillis() / 60_000 - 6 * 60) * 60_000;
        SensorFuzz fuzz = new SensorFuzz(new SplittableRandom(SEED), cfg.topics().name("input"), t0);
        List<Sent> sent = fuzz.generate();
        List<Sent> good = sent.stream().filter(s -> s.reason == null).toList();
        List<Sent> bad = sent.stream().filter(s -> s.reason != null).toList();
        System.out.printf("FuzzIT sensor: %d good, %d bad records: %s%n", good.size(), bad.size(), byReason(bad));

        long start = System.nanoTime();
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrapServers(), stateDir.resolve("sensor"),
                new SimpleMeterRegistry(), true)) {
            assertTrue(runner.awaitRunning(TIMEOUT), "pipeline running");
            try (StateWatch watch = new StateWatch(runner.streams())) {
                send(sent);
                List<ConsumerRecord<byte[], byte[]>> preds = read(cfg.topics().name("predictions"), good.size(), watch);
                List<ConsumerRecord<byte[], byte[]>> dead = read(cfg.topics().deadLetter(), bad.size(), watch);
                watch.assertStayedRunning();

                // Each good record: exactly its prediction, steps 0..n-1 per stream, equal to a run of the good records alone.
                Map<String, List<byte[]>> expected = sensorBaseline(cfg, good);
                Map<String, List<byte[]>> got = new LinkedHashMap<>();
                for (ConsumerRecord<byte[], byte[]> p : preds) {
                    got.computeIfAbsent(utf8(p.key()), k -> new ArrayList<>()).add(p.value());
                }
                assertEquals(expected.keySet(), got.keySet(), seed("streams with predictions"));
                for (Map.Entry<String, List<byte[]>> e : expected.entrySet()) {
                    List<byte[]> g = got.get(e.getKey());
                    assertEquals(e.getValue().size(), g.size(), seed("predictions of stream '" + e.getKey() + "'"));
                    for (int i = 0; i < g.size(); i++) {
                        assertEquals(i, JSON.readTree(g.get(i)).get("step").asLong(), seed("stream '" + e.getKey() + "' steps 0..n-1"));
                        assertEquals(utf8(e.getValue().get(i)), utf8(g.get(i)),
                                seed("stream '" + e.getKey() + "' step " + i + " equals the run of the good records alone"));
                    }
                }
                checkDeadLetters(bad, dead, runner.metrics(), SENSOR_REASONS);
                assertEquals(good.size(), runner.metrics().processedCount(), seed("engram.records.processed"));
            }
        }
        System.out.printf("FuzzIT sensor: %.1f s from pipeline start to checked%n", (System.nanoTime() - start) / 1e9);
    }

    /** The predictions of the good records alone, per stream, from the same topology in a TopologyTestDriver. */
    private Map<String, List<byte[]>> sensorBaseline(PipelineSpec cfg, List<Sent> good) throws Exception {
        ModelManifest m = ModelManifest.load(cfg.modelManifest());
        Map<String, List<byte[]>> out = new LinkedHashMap<>();
        try (StepModel model = StepModel.load(m)) {
            EngramMetrics metrics = EngramMetrics.unbound(cfg.name());
            try (TopologyTestDriver d = new TopologyTestDriver(cfg.kind().build(cfg, m, model, metrics, new ArrayList<>()),
                    PipelineRunner.streamsProperties(cfg, "baseline:9092", stateDir.resolve("baseline"), metrics))) {
                TestInputTopic<byte[], byte[]> in = d.createInputTopic(cfg.topics().name("input"), new ByteArraySerializer(), new ByteArraySerializer());
                TestOutputTopic<String, byte[]> preds = d.createOutputTopic(cfg.topics().name("predictions"), new StringDeserializer(),
                        new ByteArrayDeserializer());
                for (Sent s : good) {
                    in.pipeInput(s.key, s.value, s.timestamp);
                }
                preds.readRecordsToList().forEach(r -> out.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
            }
        }
        return out;
    }

    /** Makes the sensor records: good readings of a few streams, bad records between them. */
    static final class SensorFuzz extends Fuzz {
        final String topic;
        final long t0;
        /** The oracle's view of each stream: the event time of its last stepped reading. */
        final Map<String, Long> lastStepped = new HashMap<>();
        final Map<String, Integer> stepped = new HashMap<>();

        SensorFuzz(SplittableRandom r, String topic, long t0) {
            super(r);
            this.topic = topic;
            this.t0 = t0;
        }

        List<Sent> generate() {
            // Good streams: four plain ids, and valid but odd ones (non-ASCII, whitespace, a key of the maximal length).
            Map<String, Integer> todo = new LinkedHashMap<>();
            for (int i = 0; i < 4; i++) {
                todo.put("s-" + i, 50);
            }
            todo.put("датчик-✓", 5);
            todo.put("tab\there and space", 5);
            todo.put("k".repeat(InputKeyDeserializer.MAX_KEY_BYTES), 5);
            int badTarget = 230;
            List<Runnable> fixed = new ArrayList<>(List.of(
                    // A good reading of 1,000,000 bytes (padded): large is not bad.
                    () -> good("s-0", padded(goodJson("s-0"), 1_000_000), noHeaders(), "1 MB valid reading"),
                    // A good reading with 60 KB of headers, under the limit.
                    () -> good("s-1", goodJson("s-1"), new Header[] {header("big", new byte[60_000])}, "60 KB header"),
                    () -> bad("fz-big-1", randomBytes(899_000), noHeaders(), ts(null), "899,000 random bytes (copied)", null),
                    () -> bad("s-2", randomBytes(950_000), noHeaders(), ts("s-2"), "950,000 random bytes (dropped)", null),
                    () -> bad("s-3", padded("{\"ts\":1,\"values\":[1,2]}", 1_040_000), noHeaders(), ts("s-3"),
                            "1,040,000-byte reading with two values", "wrong-value-count"),
                    () -> bad(new byte[1_000_000], goodJson("s-0").getBytes(StandardCharsets.UTF_8), noHeaders(), ts(null),
                            "1,000,000-byte key", "too-large"),
                    () -> bad("s-1", goodJson("s-1"), new Header[] {header("x", randomBytes(200_000))}, ts("s-1"),
                            "200 KB header", "too-large"),
                    () -> bad("s-2", goodJson("s-2"), manyHeaders(InputKeyDeserializer.MAX_HEADER_BYTES / 6 + 1), ts("s-2"),
                            "thousands of small headers", "too-large")));
            int total = todo.values().stream().mapToInt(Integer::intValue).sum();
            while (!todo.isEmpty() || bads < badTarget) {
                int slot = r.nextInt(total + badTarget + fixed.size());
                if (!fixed.isEmpty() && slot < fixed.size()) {
                    fixed.remove(r.nextInt(fixed.size())).run();
                } else if (!todo.isEmpty() && (bads >= badTarget || r.nextBoolean())) {
                    List<String> keys = new ArrayList<>(todo.keySet());
                    String k = keys.get(r.nextInt(keys.size()));
                    good(k, goodJson(k), r.nextInt(3) == 0 ? randomHeaders() : noHeaders(), "reading");
                    if (todo.merge(k, -1, Integer::sum) == 0) {
                        todo.remove(k);
                    }
                } else {
                    badOne();
                }
            }
            fixed.forEach(Runnable::run);
            return out;
        }

        /** A valid reading of stream k, one minute after its last one, in one of the documented forms. */
        String goodJson(String k) {
            long ts = nextTs(k);
            double v = 10 * (Math.abs(k.hashCode()) % 5) + Math.sin(stepped.getOrDefault(k, 0) / 7.0) + 0.1 * r.nextGaussian();
            String num = Double.toString(v);
            return switch (r.nextInt(5)) {
                case 0 -> String.format(Locale.ROOT, "{\"ts\":\"%s\",\"value\":%s}", Instant.ofEpochMilli(ts), num);
                case 1 -> String.format(Locale.ROOT, "{ \"values\" : [ %s ] , \"ts\" : %d , \"note\" : {\"a\": [1, \"x\", null]} }", num, ts);
                default -> String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", ts, num);
            };
        }

        long nextTs(String k) {
            Long last = lastStepped.get(k);
            return last == null ? t0 : last + 60_000;
        }

        /** Record timestamp of a bad record on stream k: that of its last stepped reading. */
        long ts(String k) {
            Long last = k == null ? null : lastStepped.get(k);
            return last == null ? t0 : last;
        }

        void good(String k, String json, Header[] headers, String what) {
            byte[] key = k.getBytes(StandardCharsets.UTF_8);
            byte[] value = json.getBytes(StandardCharsets.UTF_8);
            long ts = nextTs(k);
            String outcome = outcome(key, value, headers, ts);
            assertNull(outcome, seed("a good record must be valid: " + what + " " + abbreviate(json)));
            out.add(new Sent(what, topic, key, value, headers, ts, null, k, topic));
        }

        boolean bad(String k, String json, Header[] headers, long ts, String what, String reason) {
            return bad(k == null ? null : k.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8), headers, ts, what, reason);
        }

        boolean bad(String k, byte[] value, Header[] headers, long ts, String what, String reason) {
            return bad(k == null ? null : k.getBytes(StandardCharsets.UTF_8), value, headers, ts, what, reason);
        }

        /**
         * Adds a bad record if the oracle finds it bad; {@code reason}, when not null, is the reason it
         * was made for, which the oracle must agree with.
         */
        boolean bad(byte[] key, byte[] value, Header[] headers, long ts, String what, String reason) {
            String outcome = outcome(key, value, headers, ts);
            if (reason != null) {
                assertEquals(reason, outcome, seed("oracle for " + what + ": " + abbreviate(value)));
            }
            if (outcome == null) {
                // A random mutation that is still a valid reading: not a bad record, and sending it
                // would step a good stream. Undo the oracle's bookkeeping and make another.
                return false;
            }
            out.add(new Sent(what, topic, key, value, headers, ts, outcome, null, topic));
            bads++;
            return true;
        }

        /** The sensor pipeline's rules in its order; null when the record is stepped (and then counted as such). */
        String outcome(byte[] key, byte[] value, Header[] headers, long recordTs) {
            String k = keyProblem(key, headers);
            if (k != null) {
                return k;
            }
            if (value == null) {
                return "null-value";
            }
            SensorReading reading;
            try {
                reading = SensorReadingSerde.parse(value);
            } catch (BadInputException e) {
                return e.reason().code();
            }
            if (reading.values().length != 1) {
                return "wrong-value-count";
            }
            long eventTime = reading.ts() != null ? reading.ts() : recordTs;
            if (eventTime - Math.min(recordTs, System.currentTimeMillis()) > io.engram.core.StepProcessor.MAX_TS_AHEAD_MS) {
                return "bad-field";
            }
            String id = utf8(key);
            Long last = lastStepped.get(id);
            if (last != null && eventTime < last) {
                return "out-of-order";
            }
            return null;
        }

        /** One random bad record, of a random kind. */
        void badOne() {
            for (int attempt = 0; attempt < 20; attempt++) {
                String k = r.nextInt(4) == 0 ? "fz-" + r.nextInt(1000) : "s-" + r.nextInt(4);
                long ts = ts(k);
                String good = template(k);
                Header[] h = r.nextInt(4) == 0 ? randomHeaders() : noHeaders();
                boolean added = switch (r.nextInt(22)) {
                    case 0 -> bad(k, randomBytes(r.nextInt(200)), h, ts, "random bytes", null);
                    case 1 -> bad(k, flipBits(utf8bytes(good)), h, ts, "bit flips", null);
                    case 2 -> bad(k, truncate(utf8bytes(good)), h, ts, "truncated", null);
                    case 3 -> bad(k, insertBytes(utf8bytes(good)), h, ts, "inserted bytes", null);
                    case 4 -> bad(k, "{\"ts\":" + ts + "}", h, ts, "values deleted", "missing-field");
                    case 5 -> typeChange(k, ts, h);
                    case 6 -> nonFinite(k, ts, h);
                    case 7 -> hugeNumber(k, ts, h);
                    case 8 -> bad(k, "{\"ts\":" + ts + ",\"values\":[" + "1.5,".repeat(1 + r.nextInt(20)) + "2]}", h, ts,
                            "wrong value count", "wrong-value-count");
                    case 9 -> bad(k, "{\"ts\":" + ts + ",\"values\":[1],\"deep\":" + "[".repeat(5000) + "]".repeat(5000) + "}", h, ts,
                            "deep nesting", "not-json");
                    case 10 -> bad(k, invalidUtf8(good), h, ts, "invalid UTF-8 in a string", "not-json");
                    case 11 -> lastStepped.containsKey(k) && bad(k, "{\"ts\":" + (ts - 1 - r.nextInt(100_000)) + ",\"values\":[1]}", h, ts,
                            "older than the stream's last reading", "out-of-order");
                    case 12 -> bad(k, "{\"ts\":" + (-1 - r.nextInt(1_000_000)) + ",\"values\":[1]}", h, ts, "negative ts", "bad-field");
                    case 13 -> bad(k, "{\"ts\":" + (ts + 7_200_000L + r.nextInt(1_000_000_000)) + ",\"values\":[1]}", h, ts,
                            "ts hours after the record's timestamp", "bad-field");
                    case 14 -> bad(k, "{\"ts\":" + pick("\"+999999999-12-31T23:59:59Z\"", "\"1969-12-31T23:59:59Z\"", "99999999999999999999999",
                            "\"yesterday\"", "1.5e3", "true", "[1]") + ",\"values\":[1]}", h, ts, "bad ts", "bad-field");
                    case 15 -> bad(k, (byte[]) null, h, ts, "null value (tombstone)", "null-value");
                    case 16 -> bad((byte[]) null, utf8bytes(good), h, ts, "null key", "null-key");
                    case 17 -> bad(new byte[0], utf8bytes(good), h, ts, "empty key", "null-key");
                    case 18 -> bad(invalidUtf8Key(), utf8bytes(good), h, ts, "key not UTF-8", "bad-key");
                    case 19 -> bad(("L" + "o".repeat(InputKeyDeserializer.MAX_KEY_BYTES + r.nextInt(10_000))).getBytes(StandardCharsets.UTF_8),
                            utf8bytes(good), h, ts, "key over the limit", "too-large");
                    case 20 -> bad(k, good, new Header[] {header("h", randomBytes(InputKeyDeserializer.MAX_HEADER_BYTES + 1))}, ts,
                            "header over the limit", "too-large");
                    default -> bad(k, pick("", " ", "null", "[]", "{}", "\"text\"", "42", "{\"values\":[1]} trailing", "{\"values\":[1],}",
                            "{'values':[1]}", "\u00ef\u00bb\u00bf{\"values\":[1]}"), h, ts, "malformed JSON", null);
                };
                if (added) {
                    return;
                }
            }
        }

        /** A good-looking reading for stream k at its current time, to mutate. */
        String template(String k) {
            return String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", nextTs(k), Double.toString(r.nextDouble() * 100));
        }

        boolean typeChange(String k, long ts, Header[] h) {
            String[][] cases = {
                {"\"values\":\"abc\"", "bad-field"}, {"\"values\":[\"1.5\"]", "bad-field"}, {"\"values\":{}", "bad-field"},
                {"\"values\":[]", "bad-field"}, {"\"values\":[null]", "bad-field"}, {"\"values\":[[1]]", "bad-field"},
                {"\"value\":true", "bad-field"}, {"\"value\":\"1\"", "bad-field"}, {"\"values\":[true]", "bad-field"},
                {"\"values\":null", "missing-field"}, {"\"value\":null", "missing-field"}};
            String[] c = cases[r.nextInt(cases.length)];
            return bad(k, "{\"ts\":" + ts + "," + c[0] + "}", h, ts, "type change " + c[0], c[1]);
        }

        boolean nonFinite(String k, long ts, Header[] h) {
            String[][] cases = {{"NaN", "not-json"}, {"Infinity", "not-json"}, {"-Infinity", "not-json"}, {"\"NaN\"", "bad-field"},
                {"1e400", "non-finite-value"}, {"-1e999", "non-finite-value"}};
            String[] c = cases[r.nextInt(cases.length)];
            return bad(k, "{\"ts\":" + ts + ",\"values\":[" + c[0] + "]}", h, ts, "non-finite " + c[0], c[1]);
        }

        boolean hugeNumber(String k, long ts, Header[] h) {
            String[][] cases = {{"1e39", "non-finite-value"}, {"-3.5e38", "non-finite-value"}, {"1e300", "non-finite-value"},
                {"-1.7976931348623157e308", "non-finite-value"}, {"1" + "0".repeat(60), "non-finite-value"},
                {"9".repeat(5000), "not-json"}};
            String[] c = cases[r.nextInt(cases.length)];
            return bad(k, "{\"ts\":" + ts + ",\"values\":[" + c[0] + "]}", h, ts, "huge number " + abbreviate(c[0]), c[1]);
        }

        @Override
        void onAdded(Sent s) {
            if (s.reason == null) {
                SensorReading reading = SensorReadingSerde.parse(s.value);
                long eventTime = reading.ts() != null ? reading.ts() : s.timestamp;
                lastStepped.merge(s.stream, eventTime, Math::max);
                stepped.merge(s.stream, 1, Integer::sum);
            }
        }
    }

    // ---------------------------------------------------------------- video pipeline

    @Test
    void videoFramesAndFeatureRecordsFuzzedKeepThePipelineRunningAndEveryBadRecordIsDeadLetteredOnceWithItsReason() throws Exception {
        PipelineSpec base = Pipelines.load(Path.of("topology/video-activity.yaml"));
        PipelineSpec cfg = base.withApplicationId("fuzz-video").withMetricsPort(0)
                .withTopics(base.topics().withPrefix("fuzz-").withPartitions(2));
        ModelManifest encoder = ModelManifest.load(cfg.settings(VideoActivityPipeline.Settings.class).encoderManifest());
        JsonNode golden = JSON.readTree(Path.of("models/activity/golden/activity-clip.json").toFile());
        VideoFuzz fuzz = new VideoFuzz(new SplittableRandom(SEED ^ 0x5DEECE66DL), cfg, new FramePreprocessor(encoder.image(), cfg.settings(VideoActivityPipeline.Settings.class).maxPixels()),
                encoder.id() + "@" + encoder.version(), golden);
        List<Sent> sent = fuzz.generate();
        List<Sent> good = sent.stream().filter(s -> s.reason == null).toList();
        List<Sent> bad = sent.stream().filter(s -> s.reason != null).toList();
        System.out.printf("FuzzIT video: %d good, %d bad records: %s%n", good.size(), bad.size(), byReason(bad));

        long start = System.nanoTime();
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrapServers(), stateDir.resolve("video"),
                new SimpleMeterRegistry(), true)) {
            assertTrue(runner.awaitRunning(TIMEOUT), "pipeline running");
            try (StateWatch watch = new StateWatch(runner.streams())) {
                send(sent);
                List<ConsumerRecord<byte[], byte[]>> preds = read(cfg.topics().name("predictions"), good.size(), watch);
                List<ConsumerRecord<byte[], byte[]>> dead = read(cfg.topics().deadLetter(), bad.size(), watch);
                watch.assertStayedRunning();

                // Each good frame or feature record: exactly its prediction, in order, with PyTorch's probabilities.
                Map<String, List<Sent>> goodByCamera = new LinkedHashMap<>();
                good.forEach(s -> goodByCamera.computeIfAbsent(s.stream, k -> new ArrayList<>()).add(s));
                Map<String, List<JsonNode>> got = new LinkedHashMap<>();
                for (ConsumerRecord<byte[], byte[]> p : preds) {
                    got.computeIfAbsent(utf8(p.key()), k -> new ArrayList<>()).add(JSON.readTree(p.value()));
                }
                assertEquals(goodByCamera.keySet(), got.keySet(), seed("cameras with predictions"));
                List<String> labels = List.of("still", "left", "right", "up", "down", "clockwise", "anticlockwise");
                for (Map.Entry<String, List<Sent>> e : goodByCamera.entrySet()) {
                    List<JsonNode> g = got.get(e.getKey());
                    assertEquals(e.getValue().size(), g.size(), seed("predictions of camera '" + e.getKey() + "'"));
                    for (int i = 0; i < g.size(); i++) {
                        JsonNode p = g.get(i);
                        assertEquals(i, p.get("step").asLong(), seed("camera '" + e.getKey() + "' steps 0..n-1"));
                        assertEquals(e.getValue().get(i).frame, p.get("frame_seq").asLong(), seed("camera '" + e.getKey() + "' frame_seq"));
                        for (int c = 0; c < labels.size(); c++) {
                            assertEquals(golden.get("probs").get(i).get(c).asDouble(), p.get("probabilities").get(labels.get(c)).asDouble(),
                                    1e-4, seed("camera '" + e.getKey() + "' frame " + i + " " + labels.get(c) + " equals PyTorch"));
                        }
                    }
                }
                checkDeadLetters(bad, dead, runner.metrics(), VIDEO_REASONS);
                assertEquals(good.size(), runner.metrics().processedCount(), seed("engram.records.processed"));
            }
        }
        System.out.printf("FuzzIT video: %.1f s from pipeline start to checked%n", (System.nanoTime() - start) / 1e9);
    }

    /**
     * Makes the video records: the golden clip's frames on a few cameras, its features on a camera
     * of the features topic, bad frames and bad feature records between them.
     */
    static final class VideoFuzz extends Fuzz {
        static final int FRAMES = 30;
        final PipelineSpec cfg;
        final FramePreprocessor pre;
        final String encoderRef;
        final JsonNode golden;
        final long t0 = (System.currentTimeMillis() / 1000 - 3600) * 1000;
        final byte[][] png = new byte[FRAMES][];
        final byte[][] jpeg = new byte[FRAMES][];
        final FeatureRecordSerde fs = new FeatureRecordSerde();
        /** The oracle's view: each camera's frame size (first accepted frame), last stepped capture time, frames stepped. */
        final Map<String, Long> shape = new HashMap<>();
        final Map<String, Long> lastStepped = new HashMap<>();
        final Map<String, Integer> stepped = new HashMap<>();
        /** The frame size the last frame judged would fix for its camera, if it is sent (the first stage accepted it). */
        Map.Entry<String, Long> pendingShape;

        VideoFuzz(SplittableRandom r, PipelineSpec cfg, FramePreprocessor pre, String encoderRef, JsonNode golden) throws Exception {
            super(r);
            this.cfg = cfg;
            this.pre = pre;
            this.encoderRef = encoderRef;
            this.golden = golden;
            for (int i = 0; i < FRAMES; i++) {
                png[i] = Files.readAllBytes(Path.of(String.format("models/activity/clip/frame-%05d.png", i)));
                jpeg[i] = encode(ImageIO.read(new java.io.ByteArrayInputStream(png[i])), "jpeg");
            }
        }

        String frames() {
            return cfg.topics().name("frames");
        }

        String features() {
            return cfg.topics().name("features");
        }

        List<Sent> generate() throws Exception {
            // Good cameras: the clip's first FRAMES frames, with the header variants the docs allow.
            Map<String, Integer> todo = new LinkedHashMap<>();
            todo.put("cam-a", FRAMES);
            todo.put("cam-b", FRAMES);
            todo.put("камера ✓", 5);
            todo.put("feat-a", FRAMES); // feature records written straight to the features topic
            int badTarget = 260;
            List<Runnable> fixed = new ArrayList<>(List.of(
                    () -> goodFrame("cam-big", padded(png[0], 999_000), headers("content-type", "image/png", "seq", "0"), "999,000-byte PNG"),
                    () -> badFrame("fz-big-1", randomBytes(cfg.settings(VideoActivityPipeline.Settings.class).maxFrameBytes() + 1), headers("content-type", "image/jpeg"), "over max_frame_bytes",
                            "too-large"),
                    () -> badFrame("cam-a", randomBytes(cfg.settings(VideoActivityPipeline.Settings.class).maxFrameBytes()), headers("content-type", "image/png"), "exactly max_frame_bytes of noise",
                            "corrupt-image"),
                    () -> badFrame("cam-b", jpegNoise(950_000), noHeaders(), "950,000 bytes with a JPEG start", "corrupt-image"),
                    () -> badFrame("fz-big-2", randomBytes(899_000), noHeaders(), "899,000 random bytes", "unsupported-content-type"),
                    () -> badFeatures("feat-a", randomBytes(950_000), noHeaders(), lastOr("feat-a"), "950,000 random bytes", "bad-features"),
                    () -> badFrame(new byte[1_000_000], png[0], noHeaders(), ts("fz"), "1,000,000-byte key", "too-large")));
            int total = todo.values().stream().mapToInt(Integer::intValue).sum();
            while (!todo.isEmpty() || bads < badTarget) {
                int slot = r.nextInt(total + badTarget + fixed.size());
                if (!fixed.isEmpty() && slot < fixed.size()) {
                    fixed.remove(r.nextInt(fixed.size())).run();
                } else if (!todo.isEmpty() && (bads >= badTarget || r.nextBoolean())) {
                    List<String> keys = new ArrayList<>(todo.keySet());
                    String k = keys.get(r.nextInt(keys.size()));
                    int i = stepped.getOrDefault(k, 0);
                    if (k.startsWith("feat-")) {
                        goodFeatures(k, i);
                    } else {
                        goodFrame(k, png[i], goodHeaders(i), "frame " + i);
                    }
                    if (todo.merge(k, -1, Integer::sum) == 0) {
                        todo.remove(k);
                    }
                } else if (r.nextInt(3) == 0) {
                    badFeaturesOne();
                } else {
                    badFrameOne();
                }
            }
            fixed.forEach(Runnable::run);
            return out;
        }

        /** The documented header variants of a good frame: content-type in any case or sniffed, extra and repeated headers. */
        Header[] goodHeaders(int seq) {
            List<Header> h = new ArrayList<>(Arrays.asList(r.nextInt(3) == 0 ? randomHeaders() : noHeaders()));
            switch (r.nextInt(5)) {
                case 0 -> h.add(header("content-type", "IMAGE/PNG"));
                case 1 -> { } // no content-type: sniffed from the bytes
                case 2 -> {
                    h.add(header("content-type", "image/gif"));
                    h.add(header("content-type", "image/png")); // the last header of a name counts
                }
                case 3 -> h.add(new RecordHeader("content-type", null)); // no value: sniffed
                default -> h.add(header("content-type", "image/png"));
            }
            h.add(header("width", pick("64", "wide", "")));
            h.add(header("seq", r.nextBoolean() ? Integer.toString(seq) : " " + seq + " "));
            return h.toArray(new Header[0]);
        }

        long ts(String k) {
            Long last = lastStepped.get(k);
            return last == null ? t0 : last + 100;
        }

        long lastOr(String k) {
            Long last = lastStepped.get(k);
            return last == null ? t0 : last;
        }

        void goodFrame(String k, byte[] image, Header[] headers, String what) {
            byte[] key = utf8bytes(k);
            long ts = ts(k);
            assertNull(frameOutcome(key, image, headers, ts), seed("a good frame must be valid: " + what));
            shape.putIfAbsent(pendingShape.getKey(), pendingShape.getValue());
            Sent s = new Sent(what, frames(), key, image, headers, ts, null, k, null);
            s.frame = stepped.getOrDefault(k, 0);
            out.add(s);
        }

        void goodFeatures(String k, int i) {
            float[] f = new float[golden.get("features").get(i).size()];
            for (int j = 0; j < f.length; j++) {
                f[j] = (float) golden.get("features").get(i).get(j).asDouble();
            }
            byte[] key = utf8bytes(k);
            byte[] value = fs.serialize("t", new FeatureRecord(encoderRef, i, f));
            Header[] h = r.nextInt(3) == 0 ? randomHeaders() : noHeaders();
            long ts = ts(k);
            assertNull(featureOutcome(key, value, h, ts), seed("good feature record must be valid"));
            Sent s = new Sent("features " + i, features(), key, value, h, ts, null, k, features());
            s.frame = i;
            out.add(s);
        }

        void badFrame(String k, byte[] value, Header[] headers, String what, String reason) {
            badFrame(utf8bytes(k), value, headers, lastOr(k), what, reason);
        }

        boolean badFrame(byte[] key, byte[] value, Header[] headers, long ts, String what, String reason) {
            String outcome = frameOutcome(key, value, headers, ts);
            if (reason != null) {
                assertEquals(reason, outcome, seed("oracle for " + what));
            }
            if (outcome == null) {
                return false;
            }
            boolean stage2 = outcome.equals("out-of-order");
            if (pendingShape != null) {
                shape.putIfAbsent(pendingShape.getKey(), pendingShape.getValue());
            }
            if (stage2) {
                // Refused by the second stage: its dead letter holds the feature record; found by this header.
                Header[] h = Arrays.copyOf(headers, headers.length + 1);
                h[headers.length] = header("fuzz-id", UUID.randomUUID().toString());
                headers = h;
            }
            out.add(new Sent(what, frames(), key, value, headers, ts, outcome, null, stage2 ? features() : frames()));
            bads++;
            return true;
        }

        boolean badFeatures(String k, byte[] value, Header[] headers, long ts, String what, String reason) {
            return badFeatures(k == null ? null : utf8bytes(k), value, headers, ts, what, reason);
        }

        boolean badFeatures(byte[] key, byte[] value, Header[] headers, long ts, String what, String reason) {
            String outcome = featureOutcome(key, value, headers, ts);
            if (reason != null) {
                assertEquals(reason, outcome, seed("oracle for " + what));
            }
            if (outcome == null) {
                return false;
            }
            out.add(new Sent(what, features(), key, value, headers, ts, outcome, null, features()));
            bads++;
            return true;
        }

        /** The frame-encode stage's rules in its order, then the classifier stage's; null when the frame is stepped. */
        String frameOutcome(byte[] key, byte[] value, Header[] headers, long ts) {
            pendingShape = null;
            String k = keyProblem(key, headers);
            if (k != null) {
                return k;
            }
            String camera = utf8(key);
            if (value == null || value.length == 0) {
                return "empty-frame";
            }
            if (value.length > cfg.settings(VideoActivityPipeline.Settings.class).maxFrameBytes()) {
                return "too-large";
            }
            String seq = lastHeader(headers, "seq");
            if (seq != null) {
                try {
                    Long.parseLong(seq.trim());
                } catch (NumberFormatException e) {
                    return "bad-field";
                }
            }
            BufferedImage img;
            try {
                img = pre.decode(value, lastHeader(headers, "content-type"));
            } catch (BadInputException e) {
                return e.reason().code();
            }
            long s = ((long) img.getWidth() << 32) | img.getHeight();
            Long known = shape.get(camera);
            if (known != null && known != s) {
                return "frame-size-changed";
            }
            pendingShape = Map.entry(camera, s);
            Long last = lastStepped.get(camera);
            if (last != null && ts < last) {
                return "out-of-order";
            }
            return null;
        }

        /** The classifier stage's rules for a record written to the features topic; null when it is stepped. */
        String featureOutcome(byte[] key, byte[] value, Header[] headers, long ts) {
            String k = keyProblem(key, headers);
            if (k != null) {
                return k;
            }
            if (value == null) {
                return "null-value";
            }
            FeatureRecord f;
            try {
                f = fs.deserialize("t", value);
            } catch (SerializationException e) {
                return "bad-features";
            }
            if (f.values().length != 128 || !f.encoder().startsWith("frame-encoder-cnn@")) {
                return "bad-features";
            }
            Long last = lastStepped.get(utf8(key));
            if (last != null && ts < last) {
                return "out-of-order";
            }
            return null;
        }

        @Override
        void onAdded(Sent s) {
            if (s.reason == null) {
                lastStepped.merge(s.stream, s.timestamp, Math::max);
                stepped.merge(s.stream, 1, Integer::sum);
            }
        }

        void badFrameOne() {
            for (int attempt = 0; attempt < 20; attempt++) {
                String k = r.nextInt(4) == 0 ? "fz-" + r.nextInt(1000) : pick("cam-a", "cam-b");
                byte[] key = utf8bytes(k);
                int i = Math.min(stepped.getOrDefault(k, 0), FRAMES - 1);
                byte[] base = r.nextBoolean() ? png[i] : jpeg[i];
                String ct = base == png[i] ? "image/png" : "image/jpeg";
                Header[] h = headers("content-type", ct, "seq", Integer.toString(i));
                Header[] hp = headers("content-type", "image/png", "seq", Integer.toString(i));
                long ts = ts(k);
                boolean added = switch (r.nextInt(17)) {
                    case 0 -> badFrame(key, randomBytes(1 + r.nextInt(3000)), r.nextBoolean() ? h : noHeaders(), ts, "random bytes", null);
                    case 1 -> badFrame(key, truncate(base), h, ts, "truncated " + ct, null);
                    case 2 -> badFrame(key, flipBits(base), h, ts, "bit flips in " + ct, null);
                    case 3 -> badFrame(key, insertBytes(base), h, ts, "inserted bytes in " + ct, null);
                    case 4 -> badFrame(key, png[i], headers("content-type", pick("text/plain", "image/gif", "application/octet-stream",
                            "image/png; q=1", "png", "image/webp")), ts, "wrong content-type", "unsupported-content-type");
                    case 5 -> badFrame(key, png[i], new Header[] {new RecordHeader("content-type", new byte[] {(byte) 0xC3, 0x28})}, ts,
                            "content-type not UTF-8", "unsupported-content-type");
                    case 6 -> badFrame(key, png[i], headers("content-type", "image/jpeg"), ts, "PNG labelled JPEG", "corrupt-image");
                    case 7 -> badFrame(key, png[i], headers("content-type", "image/png", "seq", "1", "seq", pick("abc", "1.5", "", "0x10",
                            "9223372036854775808", "-", "1e3")), ts, "seq not a number", "bad-field");
                    case 8 -> shape.containsKey(k) && badFrame(key, png(32, 48), hp, ts, "other frame size", "frame-size-changed");
                    case 9 -> badFrame(key, withPngSize(png[i], 100_000, 50_000), hp, ts, "PNG header claims 100000x50000", "too-large");
                    case 10 -> badFrame(key, withPngSize(png[i], 0, 64), hp, ts, "PNG header claims width 0", null);
                    case 11 -> badFrame(key, r.nextBoolean() ? null : new byte[0], h, ts, "no bytes", "empty-frame");
                    case 12 -> lastStepped.containsKey(k) && badFrame(key, base, h, lastStepped.get(k) - 1 - r.nextInt(10_000), "older frame",
                            "out-of-order");
                    case 13 -> badFrame(r.nextBoolean() ? null : new byte[0], png[i], h, ts, "no key", "null-key");
                    case 14 -> badFrame(invalidUtf8Key(), png[i], h, ts, "key not UTF-8", "bad-key");
                    case 15 -> badFrame(("C".repeat(InputKeyDeserializer.MAX_KEY_BYTES + 1 + r.nextInt(5000))).getBytes(StandardCharsets.UTF_8),
                            png[i], h, ts, "key over the limit", "too-large");
                    default -> badFrame(key, png[i], concat(h, header("x", randomBytes(InputKeyDeserializer.MAX_HEADER_BYTES))), ts,
                            "headers over the limit", "too-large");
                };
                if (added) {
                    return;
                }
            }
        }

        void badFeaturesOne() {
            for (int attempt = 0; attempt < 20; attempt++) {
                String k = r.nextInt(3) == 0 ? "fzf-" + r.nextInt(1000) : "feat-a";
                byte[] key = utf8bytes(k);
                float[] f = new float[128];
                for (int j = 0; j < f.length; j++) {
                    f[j] = (float) r.nextGaussian();
                }
                byte[] base = fs.serialize("t", new FeatureRecord(encoderRef, 7, f));
                long ts = ts(k);
                Header[] h = r.nextInt(3) == 0 ? randomHeaders() : noHeaders();
                boolean added = switch (r.nextInt(14)) {
                    case 0 -> badFeatures(key, randomBytes(r.nextInt(1200)), h, ts, "random bytes", null);
                    case 1 -> badFeatures(key, truncate(base), h, ts, "truncated", "bad-features");
                    case 2 -> badFeatures(key, flipBits(Arrays.copyOf(base, 40)), h, ts, "bit flips in the header", null);
                    case 3 -> badFeatures(key, insertBytes(base), h, ts, "inserted bytes", "bad-features");
                    case 4 -> badFeatures(key, fs.serialize("t", new FeatureRecord(encoderRef, 1, new float[pickInt(0, 1, 127, 129, 4096)])), h, ts,
                            "wrong dimension", "bad-features");
                    case 5 -> badFeatures(key, fs.serialize("t", new FeatureRecord(pick("other-cnn@1.0.0", "", "frame-encoder-cnn", "x@y"), 1, f)),
                            h, ts, "other encoder", "bad-features");
                    case 6 -> badFeatures(key, withByte(base, 0, pickInt(0, 2, 0x7f, 0xff)), h, ts, "format version", "bad-features");
                    case 7 -> badFeatures(key, withInt(base, 1, pickInt(-1, 1 << 20 | 1, Integer.MAX_VALUE, Integer.MIN_VALUE)), h, ts,
                            "dimension out of range", "bad-features");
                    case 8 -> badFeatures(key, new byte[0], h, ts, "empty", "bad-features");
                    case 9 -> badFeatures(key, null, h, ts, "null value", "null-value");
                    case 10 -> lastStepped.containsKey(k) && badFeatures(key, base, h, lastStepped.get(k) - 1 - r.nextInt(10_000),
                            "older features", "out-of-order");
                    case 11 -> badFeatures(r.nextBoolean() ? null : new byte[0], base, h, ts, "no key", "null-key");
                    case 12 -> badFeatures(invalidUtf8Key(), base, h, ts, "key not UTF-8", "bad-key");
                    default -> badFeatures(key, utf8bytes("{\"features\":[1,2,3]}"), h, ts, "JSON", "bad-features");
                };
                if (added) {
                    return;
                }
            }
        }

        byte[] jpegNoise(int n) {
            byte[] b = randomBytes(n);
            b[0] = (byte) 0xFF;
            b[1] = (byte) 0xD8;
            return b;
        }
    }

    // ---------------------------------------------------------------- shared: records, mutations, checks

    /** A record the test sends, and what Engram must do with it. */
    static final class Sent {
        final String what;
        final String topic;
        final byte[] key;
        final byte[] value;
        final Header[] headers;
        final long timestamp;
        /** The dead-letter reason it must get; null for a good record. */
        final String reason;
        /** For a good record: the stream or camera id of its prediction. */
        final String stream;
        /** For a bad record: the topic its dead letter names (the features topic for a frame the second stage refuses). */
        final String deadLetterTopic;
        long frame = -1;
        int partition = -1;
        long offset = -1;

        Sent(String what, String topic, byte[] key, byte[] value, Header[] headers, long timestamp, String reason, String stream,
                String deadLetterTopic) {
            this.what = what;
            this.topic = topic;
            this.key = key;
            this.value = value;
            this.headers = headers;
            this.timestamp = timestamp;
            this.reason = reason;
            this.stream = stream;
            this.deadLetterTopic = deadLetterTopic;
        }

        String describe() {
            return what + " (" + topic + "-" + partition + "@" + offset + ", key " + abbreviate(key) + ", value " + abbreviate(value) + ")";
        }
    }

    /** Random bytes and mutations, from one seeded generator. */
    abstract static class Fuzz {
        final SplittableRandom r;
        final List<Sent> out = new ArrayList<>() {
            @Override
            public boolean add(Sent s) {
                super.add(s);
                onAdded(s);
                return true;
            }
        };
        int bads;

        Fuzz(SplittableRandom r) {
            this.r = r;
        }

        /** Updates the oracle's view once a record is part of the run. */
        abstract void onAdded(Sent s);

        byte[] randomBytes(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) r.nextInt(256);
            }
            return b;
        }

        byte[] flipBits(byte[] b) {
            byte[] c = b.clone();
            int flips = 1 + r.nextInt(8);
            for (int i = 0; i < flips && c.length > 0; i++) {
                int at = r.nextInt(c.length);
                c[at] ^= (byte) (1 << r.nextInt(8));
            }
            return c;
        }

        byte[] truncate(byte[] b) {
            return Arrays.copyOf(b, r.nextInt(Math.max(1, b.length - 1)));
        }

        byte[] insertBytes(byte[] b) {
            int at = r.nextInt(b.length + 1);
            byte[] ins = randomBytes(1 + r.nextInt(16));
            byte[] c = new byte[b.length + ins.length];
            System.arraycopy(b, 0, c, 0, at);
            System.arraycopy(ins, 0, c, at, ins.length);
            System.arraycopy(b, at, c, at + ins.length, b.length - at);
            return c;
        }

        /** A JSON text with an invalid UTF-8 sequence inside a string. */
        byte[] invalidUtf8(String json) {
            byte[] bad = pick(new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xE2, (byte) 0x82},
                    new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80});
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] j = utf8bytes(json);
            b.write(j, 0, j.length - 1);
            b.writeBytes(utf8bytes(",\"note\":\"a"));
            b.writeBytes(bad);
            b.writeBytes(utf8bytes("b\"}"));
            return b.toByteArray();
        }

        byte[] invalidUtf8Key() {
            return pick(new byte[] {(byte) 0xFF, (byte) 0xFE}, new byte[] {'s', '-', (byte) 0xC0, (byte) 0x80},
                    new byte[] {'s', '-', '1', (byte) 0xE2, (byte) 0x28, (byte) 0xA1}, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});
        }

        Header[] noHeaders() {
            return new Header[0];
        }

        /** Headers that do not make a record bad: odd names, binary and null values, repeats. */
        Header[] randomHeaders() {
            int n = 1 + r.nextInt(6);
            Header[] h = new Header[n];
            for (int i = 0; i < n; i++) {
                String name = pick("x-" + r.nextInt(100), "", "ünïcödé", "engram.error.reason", "content-length", "trace id", "\u0000");
                byte[] value = switch (r.nextInt(4)) {
                    case 0 -> null;
                    case 1 -> new byte[0];
                    case 2 -> randomBytes(r.nextInt(64));
                    default -> utf8bytes("v" + r.nextInt(1000));
                };
                h[i] = new RecordHeader(name, value);
            }
            return h;
        }

        /** {@code n} headers of 6 bytes each (name and value). */
        Header[] manyHeaders(int n) {
            Header[] h = new Header[n];
            for (int i = 0; i < n; i++) {
                h[i] = header("h" + (i % 10), utf8bytes("1234"));
            }
            return h;
        }

        @SafeVarargs
        final <T> T pick(T... options) {
            return options[r.nextInt(options.length)];
        }

        int pickInt(int... options) {
            return options[r.nextInt(options.length)];
        }
    }

    /** docs/topics.md's key and header rules: null when the key is a good id. */
    static String keyProblem(byte[] key, Header[] headers) {
        long headerBytes = 0;
        for (Header h : headers) {
            headerBytes += utf8bytes(h.key()).length + (h.value() == null ? 0 : h.value().length);
        }
        if (headerBytes > InputKeyDeserializer.MAX_HEADER_BYTES) {
            return "too-large";
        }
        if (key == null || key.length == 0) {
            return "null-key";
        }
        if (key.length > InputKeyDeserializer.MAX_KEY_BYTES) {
            return "too-large";
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(key));
        } catch (CharacterCodingException e) {
            return "bad-key";
        }
        return null;
    }

    /** Sends every record in order with one idempotent producer and notes where each landed. */
    private static void send(List<Sent> sent) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = KafkaTestClient.producer(kafka.bootstrapServers())) {
            for (Sent s : sent) {
                acks.add(p.send(new ProducerRecord<>(s.topic, null, s.timestamp, s.key, s.value, new RecordHeaders(s.headers))));
            }
            p.flush();
            for (int i = 0; i < sent.size(); i++) {
                RecordMetadata m = acks.get(i).get();
                sent.get(i).partition = m.partition();
                sent.get(i).offset = m.offset();
            }
        }
    }

    /**
     * Reads a topic (read_committed) until {@code count} records, then a little longer, so that extra
     * records show; stops early once Kafka Streams has left RUNNING.
     */
    private static List<ConsumerRecord<byte[], byte[]>> read(String topic, int count, StateWatch watch) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "fuzz-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            while (out.size() < count && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
                watch.assertStayedRunning();
            }
            long quiet = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            while (System.nanoTime() < quiet) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * Every bad record has exactly one dead letter with its reason, a message, its source and its
     * original bytes; there are no others; and the metric counts them by reason.
     */
    private static void checkDeadLetters(List<Sent> bad, List<ConsumerRecord<byte[], byte[]>> dead, EngramMetrics metrics,
            Set<String> documented) {
        Map<String, Sent> bySource = new HashMap<>();
        Map<String, Sent> byFuzzId = new HashMap<>();
        for (Sent s : bad) {
            String id = lastHeader(s.headers, "fuzz-id");
            if (id != null) {
                byFuzzId.put(id, s);
            } else {
                bySource.put(s.topic + "/" + s.partition + "/" + s.offset, s);
            }
        }
        Map<Sent, ConsumerRecord<byte[], byte[]>> matched = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            String reason = header(d, DeadLetterHandler.H_REASON);
            String source = header(d, DeadLetterHandler.H_TOPIC) + "/" + header(d, DeadLetterHandler.H_PARTITION) + "/"
                    + header(d, DeadLetterHandler.H_OFFSET);
            String fuzzId = lastHeader(d.headers().toArray(), "fuzz-id");
            Sent s = fuzzId != null ? byFuzzId.get(fuzzId) : bySource.get(source);
            if (s == null) {
                problems.add("a dead letter for no bad record: " + source + " reason " + reason + ": " + header(d, DeadLetterHandler.H_MESSAGE));
                continue;
            }
            if (matched.put(s, d) != null) {
                problems.add("two dead letters for " + s.describe());
                continue;
            }
            if (!s.reason.equals(reason)) {
                problems.add(s.describe() + ": reason " + reason + " (" + header(d, DeadLetterHandler.H_MESSAGE) + "), expected " + s.reason);
                continue;
            }
            if (!documented.contains(reason)) {
                problems.add(s.describe() + ": reason " + reason + " is not documented");
            }
            String message = header(d, DeadLetterHandler.H_MESSAGE);
            if (message == null || message.isBlank() || message.length() > 2000) {
                problems.add(s.describe() + ": message '" + abbreviate(message) + "'");
            }
            assertEquals(s.deadLetterTopic, header(d, DeadLetterHandler.H_TOPIC), seed("source topic of " + s.describe()));
            if (s.deadLetterTopic.equals(s.topic)) {
                checkOriginal(s, d, problems);
            } else {
                // A frame refused by the second stage: the dead letter holds its feature record.
                assertArrayEquals(s.key, d.key(), seed("key of " + s.describe()));
                FeatureRecord f = new FeatureRecordSerde().deserialize("t", d.value());
                assertNotNull(f, seed("feature record of " + s.describe()));
                String seq = lastHeader(s.headers, "seq");
                assertEquals(seq == null ? -1 : Long.parseLong(seq.trim()), f.sequence(), seed("frame seq of " + s.describe()));
            }
        }
        for (Sent s : bad) {
            if (!matched.containsKey(s)) {
                problems.add("no dead letter for " + s.describe() + ", expected " + s.reason);
            }
        }
        if (!problems.isEmpty()) {
            fail(seed(problems.size() + " dead-letter problems:\n  " + String.join("\n  ", problems.subList(0, Math.min(40, problems.size())))));
        }
        Map<String, Long> expected = byReason(bad);
        for (BadInputException.Reason r : BadInputException.Reason.values()) {
            assertEquals(expected.getOrDefault(r.code(), 0L).doubleValue(), metrics.deadLetterCount(r),
                    seed("engram.dead.letters{reason=" + r.code() + "}"));
        }
    }

    /** The dead letter carries the original key, value and headers, or says how large a dropped part was. */
    private static void checkOriginal(Sent s, ConsumerRecord<byte[], byte[]> d, List<String> problems) {
        long headerBytes = 0;
        for (Header h : s.headers) {
            headerBytes += utf8bytes(h.key()).length + (h.value() == null ? 0 : h.value().length);
        }
        long total = (s.key == null ? 0 : s.key.length) + (s.value == null ? 0 : s.value.length) + headerBytes;
        String valueDropped = header(d, DeadLetterHandler.H_VALUE_DROPPED);
        String keyDropped = header(d, DeadLetterHandler.H_KEY_DROPPED);
        String headersDropped = header(d, DeadLetterHandler.H_HEADERS_DROPPED);
        if (total <= MAX_COPIED && (valueDropped != null || keyDropped != null || headersDropped != null)) {
            problems.add(s.describe() + ": a record of " + total + " bytes lost a part in its dead letter");
        }
        if (s.value != null && s.value.length > MAX_COPIED && valueDropped == null) {
            problems.add(s.describe() + ": value over " + MAX_COPIED + " bytes copied");
        }
        if (valueDropped != null) {
            if (d.value() != null || !Integer.toString(s.value.length).equals(valueDropped)) {
                problems.add(s.describe() + ": value dropped header " + valueDropped);
            }
        } else if (!Arrays.equals(s.value, d.value())) {
            problems.add(s.describe() + ": value not the original bytes");
        }
        if (keyDropped != null) {
            if (d.key() != null || !Integer.toString(s.key.length).equals(keyDropped)) {
                problems.add(s.describe() + ": key dropped header " + keyDropped);
            }
        } else if (!Arrays.equals(s.key, d.key()) && !(s.key != null && s.key.length == 0 && d.key() == null)) {
            problems.add(s.describe() + ": key " + abbreviate(d.key()) + " not the original bytes");
        }
        Header[] dh = d.headers().toArray();
        if (headersDropped != null) {
            if (!Long.toString(headerBytes).equals(headersDropped)) {
                problems.add(s.describe() + ": headers dropped header " + headersDropped + ", original " + headerBytes);
            }
        } else {
            for (int i = 0; i < s.headers.length; i++) {
                if (i >= dh.length || !s.headers[i].key().equals(dh[i].key()) || !Arrays.equals(s.headers[i].value(), dh[i].value())) {
                    problems.add(s.describe() + ": original header " + i + " '" + s.headers[i].key() + "' not copied");
                    break;
                }
            }
        }
        if (d.timestamp() != s.timestamp) {
            problems.add(s.describe() + ": timestamp " + d.timestamp() + ", original " + s.timestamp);
        }
    }

    /** Samples the Kafka Streams state every 10 ms: it must stay RUNNING (a state listener can only be set before start). */
    static final class StateWatch implements AutoCloseable {
        private final KafkaStreams streams;
        private final List<String> changes = Collections.synchronizedList(new ArrayList<>());
        private final Thread thread;
        private volatile boolean stop;

        StateWatch(KafkaStreams streams) {
            this.streams = streams;
            this.thread = new Thread(() -> {
                while (!stop) {
                    KafkaStreams.State s = streams.state();
                    if (s != KafkaStreams.State.RUNNING && (changes.isEmpty() || !changes.get(changes.size() - 1).endsWith(s.name()))) {
                        changes.add(Instant.now() + " " + s.name());
                    }
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "fuzz-state-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void assertStayedRunning() {
            assertEquals(List.of(), changes, seed("Kafka Streams left RUNNING"));
            streams.metadataForLocalThreads().forEach(t -> assertEquals("RUNNING", t.threadState(), seed("stream thread " + t.threadName())));
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join();
        }
    }

    // ---------------------------------------------------------------- small helpers

    static Map<String, Long> byReason(List<Sent> bad) {
        Map<String, Long> m = new TreeMap<>();
        bad.forEach(s -> m.merge(s.reason, 1L, Long::sum));
        return m;
    }

    static String seed(String message) {
        return message + " [seed " + SEED + "]";
    }

    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : utf8(h.value());
    }

    static String lastHeader(Header[] headers, String name) {
        String v = null;
        for (Header h : headers) {
            if (h.key().equals(name)) {
                v = h.value() == null ? null : utf8(h.value());
            }
        }
        return v;
    }

    static Header header(String name, String value) {
        return new RecordHeader(name, utf8bytes(value));
    }

    static Header header(String name, byte[] value) {
        return new RecordHeader(name, value);
    }

    static Header[] headers(String... nameValues) {
        Header[] h = new Header[nameValues.length / 2];
        for (int i = 0; i < h.length; i++) {
            h[i] = header(nameValues[2 * i], nameValues[2 * i + 1]);
        }
        return h;
    }

    static Header[] concat(Header[] a, Header b) {
        Header[] c = Arrays.copyOf(a, a.length + 1);
        c[a.length] = b;
        return c;
    }

    static String utf8(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static byte[] utf8bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String abbreviate(Object o) {
        String s = o instanceof byte[] b ? (b.length > 60 ? b.length + " bytes: " + new String(b, 0, 60, StandardCharsets.ISO_8859_1)
                : new String(b, StandardCharsets.ISO_8859_1)) : String.valueOf(o);
        return s.length() > 100 ? s.substring(0, 100) + "... (" + s.length() + " chars)" : s;
    }

    /** A JSON reading padded with a string field to {@code size} bytes: still a valid reading. */
    static String padded(String json, int size) {
        String head = json.substring(0, json.lastIndexOf('}')) + ",\"pad\":\"";
        return head + "x".repeat(size - head.length() - 2) + "\"}";
    }

    /** An image with trailing bytes up to {@code size}: decoders stop at the image's end. */
    static byte[] padded(byte[] image, int size) {
        return Arrays.copyOf(image, size);
    }

    static byte[] png(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(w / 2, h / 2, 0, 200);
        return encode(img, "png");
    }

    static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(img, format, out));
            return out.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A PNG whose header (IHDR, with a correct CRC) claims another size. */
    static byte[] withPngSize(byte[] png, int w, int h) {
        byte[] c = png.clone();
        ByteBuffer b = ByteBuffer.wrap(c);
        b.putInt(16, w).putInt(20, h);
        CRC32 crc = new CRC32();
        crc.update(c, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return c;
    }

    static byte[] withByte(byte[] b, int at, int v) {
        byte[] c = b.clone();
        c[at] = (byte) v;
        return c;
    }

    static byte[] withInt(byte[] b, int at, int v) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).putInt(at, v);
        return c;
    }
}

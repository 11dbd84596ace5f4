package io.engram.it;

import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.testkit.SensorFuzz;
import io.engram.testkit.VideoFuzz;

import static io.engram.testkit.Bytes.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FramePreprocessor;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.Bytes;
import io.engram.testkit.FuzzRecord;
import io.engram.testkit.FuzzRun;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.PipelineDriver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input on every input topic, on a real in-process broker with exactly-once processing: random
 * and mutated values (bit flips, truncation, inserted bytes, JSON fields deleted or of the wrong
 * type, NaN/Infinity, huge numbers, wrong value counts, deep nesting, invalid UTF-8), null, empty,
 * long and non-UTF-8 keys, random and malformed headers, oversized values, interleaved with good
 * records on the same keys. {@link FuzzRun} asserts what holds for every pipeline (Kafka Streams
 * stays RUNNING throughout; exactly one prediction per good record; every bad record gives exactly
 * one dead letter with its documented reason and its original bytes, or the documented
 * dropped-bytes header; the metrics count the same); each test then checks the predictions' values:
 * those of a run of the good records alone.
 *
 * <p>Deterministic for a seed, which is printed: {@code -Dengram.fuzz.seed=N} replays a run. What a
 * record must give comes from an oracle ({@link SensorFuzz}, {@link VideoFuzz}) that applies the
 * rules of docs/topics.md in the pipeline's order (key and headers, value, content, then the
 * stream's state). The key rules are written out in the testkit; the value rules use the
 * pipeline's own parsers (VectorReadingSerde, FramePreprocessor, FeatureRecordSerde), and the
 * hand-made mutations (deleted fields, wrong types, ...) also state their reason, which must agree.
 * A random mutation that happens to be valid is not sent as a bad record, so that the good streams'
 * predictions stay comparable with a run of the good records alone.
 */
class FuzzIT {
    static final long SEED = Long.getLong("engram.fuzz.seed", 20_261_123L);
    static final ObjectMapper JSON = new ObjectMapper();

    static final Set<String> SENSOR_REASONS = Set.of("not-json", "missing-field", "bad-field", "non-finite-value",
            "wrong-value-count", "null-key", "bad-key", "null-value", "out-of-order", "too-large");
    static final Set<String> VIDEO_REASONS = Set.of("null-key", "bad-key", "empty-frame", "too-large", "unsupported-content-type",
            "corrupt-image", "frame-size-changed", "bad-field", "null-value", "bad-features", "out-of-order");

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    Path stateDir;

    @BeforeAll
    static void printSeed() {
        System.out.println("FuzzIT seed " + SEED + " (replay with -Dengram.fuzz.seed=" + SEED + ")");
    }

    static String seed(String message) {
        return message + " [seed " + SEED + "]";
    }

    @Test
    void sensorReadingsFuzzedKeepThePipelineRunningAndEveryBadRecordIsDeadLetteredOnceWithItsReason() throws Exception {
        PipelineSpec base = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        PipelineSpec cfg = base.withApplicationId("fuzz-sensor").withMetricsPort(0).withTopics(base.topics().withPrefix("fuzz-").withPartitions(2));
        // Event times end a few hours before now: the broker refuses records more than an hour ahead of its clock.
        long t0 = (System.currentTimeMillis() / 60_000 - 6 * 60) * 60_000;
        List<FuzzRecord> sent = new SensorFuzz(SEED, cfg.topics().name(AnomalyPipeline.INPUT), t0).generate();
        FuzzRun.Result run = FuzzRun.run("sensor", kafka, cfg, stateDir.resolve("sensor"), sent, SENSOR_REASONS,
                (s, d) -> { throw new AssertionError(seed("the sensor pipeline has one stage: " + s.describe())); }, FuzzIT::seed);

        // Each good record: exactly its prediction, steps 0..n-1 per stream, equal to a run of the good records alone.
        List<FuzzRecord> good = sent.stream().filter(FuzzRecord::good).toList();
        Map<String, List<byte[]>> expected = sensorBaseline(cfg, good);
        Map<String, List<byte[]>> got = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> p : run.predictions()) {
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
    }

    /** The predictions of the good records alone, per stream, from the same topology in a TopologyTestDriver. */
    private static Map<String, List<byte[]>> sensorBaseline(PipelineSpec cfg, List<FuzzRecord> good) throws Exception {
        Map<String, List<byte[]>> out = new LinkedHashMap<>();
        try (PipelineDriver d = new PipelineDriver(cfg)) {
            TestInputTopic<byte[], byte[]> in = d.input(AnomalyPipeline.INPUT);
            TestOutputTopic<byte[], byte[]> preds = d.driver.createOutputTopic(cfg.topics().name(ForecastHead.PREDICTIONS),
                    new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer());
            for (FuzzRecord s : good) {
                in.pipeInput(s.key, s.value, s.timestamp);
            }
            preds.readRecordsToList().forEach(r -> out.computeIfAbsent(utf8(r.key()), k -> new ArrayList<>()).add(r.value()));
        }
        return out;
    }

    @Test
    void videoFramesAndFeatureRecordsFuzzedKeepThePipelineRunningAndEveryBadRecordIsDeadLetteredOnceWithItsReason() throws Exception {
        // The split layout: the fuzz sends feature records too, which only the split layout reads
        // from a topic (the fused one's step input is the same bytes, from the encoder).
        PipelineSpec shipped = Pipelines.load(Path.of("topology/video-activity.yaml"));
        PipelineSpec base = shipped.withSettings(shipped.settings(VideoActivityPipeline.INSTANCE)
                .withLayout(io.engram.engine.pipeline.video.FrameStage.Layout.SPLIT, true));
        PipelineSpec cfg = base.withApplicationId("fuzz-video").withMetricsPort(0).withTopics(base.topics().withPrefix("fuzz-").withPartitions(2));
        VideoActivityPipeline.Settings settings = cfg.settings(VideoActivityPipeline.INSTANCE);
        ModelManifest encoder = ModelManifest.load(settings.encoderManifest());
        JsonNode golden = JSON.readTree(Path.of("models/activity/golden/activity-clip.json").toFile());
        List<FuzzRecord> sent = new VideoFuzz(SEED, cfg, new FramePreprocessor(encoder.image(), settings.maxPixels()),
                encoder.id() + "@" + encoder.version(), golden).generate();
        // A frame refused by the classifier stage (out of order): its dead letter holds the frame's feature record.
        FuzzRun.Result run = FuzzRun.run("video", kafka, cfg, stateDir.resolve("video"), sent, VIDEO_REASONS, (s, d) -> {
            FeatureRecord f = new FeatureRecordSerde().deserialize("t", d.value());
            assertNotNull(f, seed("feature record of " + s.describe()));
            String seq = Bytes.lastHeader(s.headers, "seq");
            assertEquals(seq == null ? -1 : Long.parseLong(seq.trim()), f.sequence(), seed("frame seq of " + s.describe()));
        }, FuzzIT::seed);

        // Each good frame or feature record: exactly its prediction, in order, with PyTorch's probabilities.
        Map<String, List<FuzzRecord>> goodByCamera = new LinkedHashMap<>();
        sent.stream().filter(FuzzRecord::good).forEach(s -> goodByCamera.computeIfAbsent(s.stream, k -> new ArrayList<>()).add(s));
        Map<String, List<JsonNode>> got = new LinkedHashMap<>();
        for (ConsumerRecord<byte[], byte[]> p : run.predictions()) {
            got.computeIfAbsent(utf8(p.key()), k -> new ArrayList<>()).add(JSON.readTree(p.value()));
        }
        assertEquals(goodByCamera.keySet(), got.keySet(), seed("cameras with predictions"));
        List<String> labels = List.of("still", "left", "right", "up", "down", "clockwise", "anticlockwise");
        for (Map.Entry<String, List<FuzzRecord>> e : goodByCamera.entrySet()) {
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
    }
}

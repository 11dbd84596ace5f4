package io.engram.engine.pipeline.pose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.EngramMetrics;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.pipeline.video.FrameStage;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped person-activity pipeline in a TopologyTestDriver, on a short clip made of a real frame
 * (models/pose/golden/frames/group-480x360.png) shifted a few pixels per frame: one prediction per
 * frame and person keyed {@code camera/track}, track ids stable across frames, the tracks store
 * changelogged, and a restart on the same state directory going on with the same track ids.
 */
class PoseTopologyTest {
    static final Path SHIPPED = Path.of("topology/person-activity.yaml");
    static final Path FRAME = Path.of("models/pose/golden/frames/group-480x360.png");
    static final Path STRIP = Path.of("models/pose/golden/frames/strip-480x156.png");
    static final ObjectMapper JSON = new ObjectMapper();
    static final long T0 = 1_700_000_000_000L;
    static final String CAMERA = "cam-1";

    static PipelineSpec spec;
    static ModelManifest classifier;
    static StepSession model;
    static BufferedImage base;

    @BeforeAll
    static void load() throws Exception {
        spec = Pipelines.load(SHIPPED);
        classifier = ModelManifest.load(spec.modelManifest());
        model = StepSession.load(classifier);
        base = ImageIO.read(FRAME.toFile());
    }

    @AfterAll
    static void close() throws Exception {
        model.close();
    }

    /** The pipeline in a driver on {@code stateDir}: closing it closes the driver and then the pipeline's models. */
    record Driver(TopologyTestDriver driver, BuiltPipeline built) implements AutoCloseable {
        static Driver open(Path stateDir) {
            return open(spec, stateDir);
        }

        static Driver open(PipelineSpec sp, Path stateDir) {
            BuiltPipeline b = sp.kind().build(sp, classifier, model, EngramMetrics.unbound(sp.name()));
            return new Driver(new TopologyTestDriver(b.topology(), PipelineRunner.streamsProperties(sp, "ttd:9092", stateDir,
                    EngramMetrics.unbound(sp.name()))), b);
        }

        /** The last value of each key written to a store's changelog: what a restore puts back. */
        Map<String, byte[]> changelog(String store) {
            Map<String, byte[]> m = new LinkedHashMap<>();
            for (var r : driver.createOutputTopic(spec.applicationId() + "-" + store + "-changelog", new StringDeserializer(),
                    new ByteArrayDeserializer()).readRecordsToList()) {
                m.put(r.key(), r.value());
            }
            return m;
        }

        TestInputTopic<String, byte[]> frames() {
            return driver.createInputTopic(spec.topics().name(PoseActivityPipeline.FRAMES), new StringSerializer(), new ByteArraySerializer());
        }

        TestOutputTopic<String, String> out(io.engram.engine.kafka.TopicRole role) {
            return driver.createOutputTopic(spec.topics().name(role), new StringDeserializer(), new StringDeserializer());
        }

        @Override
        public void close() throws Exception {
            driver.close();
            built.close();
        }
    }

    /** Frame {@code i} of the clip: the golden frame moved {@code i} pixels right and down (edges black), as PNG. */
    static byte[] frame(int i) throws Exception {
        BufferedImage img = new BufferedImage(base.getWidth(), base.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        g.drawImage(base, i, i, null);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    static void send(TestInputTopic<String, byte[]> frames, String camera, byte[] png, long seq) {
        RecordHeaders h = new RecordHeaders();
        h.add(FrameEncodeProcessor.H_CONTENT_TYPE, "image/png".getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        frames.pipeInput(new TestRecord<>(camera, png, h, T0 + 100 * seq));
    }

    /** The predictions by frame sequence number: each frame's people's keys, in order. */
    static Map<Long, List<String>> keysByFrame(List<org.apache.kafka.streams.test.TestRecord<String, String>> predictions) throws Exception {
        Map<Long, List<String>> m = new LinkedHashMap<>();
        for (var r : predictions) {
            JsonNode p = JSON.readTree(r.value());
            assertEquals(r.key(), p.get("person").asText());
            assertEquals(CAMERA + "/" + p.get("track").asLong(), r.key(), "keyed camera/track");
            assertEquals(CAMERA, p.get("camera").asText());
            assertEquals(T0 + 100 * p.get("frame_seq").asLong(), p.get("event_time").asLong(), "the frame's time");
            assertEquals(r.timestamp().longValue(), p.get("event_time").asLong());
            assertTrue(classifier.labels().contains(p.get("label").asText()), r.value());
            assertEquals(classifier.labels().size(), p.get("probabilities").size(), r.value());
            m.computeIfAbsent(p.get("frame_seq").asLong(), x -> new ArrayList<>()).add(r.key());
        }
        return m;
    }

    @Test
    void onePredictionPerFrameAndPersonKeyedCameraSlashTrackWithStableTracksThatARestartContinues(@TempDir Path dir) throws Exception {
        int frames = 6;
        List<String> people;
        Map<String, byte[]> tracksLog;
        Map<String, byte[]> statesLog;
        try (Driver d = Driver.open(dir)) {
            TestInputTopic<String, byte[]> in = d.frames();
            // first another frame, 10 s before the clip: its people's tracks end before the clip starts
            send(in, CAMERA, Files.readAllBytes(STRIP), -100);
            for (int i = 0; i < frames; i++) {
                send(in, CAMERA, frame(i), i);
            }
            Map<Long, List<String>> byFrame = keysByFrame(d.out(PoseHead.PREDICTIONS).readRecordsToList());
            List<String> before = byFrame.remove(-100L);
            assertTrue(before != null && !before.isEmpty(), "people in the strip frame");
            assertEquals(frames, byFrame.size(), "every frame has people: " + byFrame);
            people = byFrame.get(0L);
            assertTrue(java.util.Collections.disjoint(before, people), "ids never repeat on a camera: " + before + ", " + people);
            assertTrue(people.size() >= 2, "the group frame has several people: " + people);
            assertEquals(people.size(), new TreeSet<>(people).size(), "one record per person in a frame");
            for (Map.Entry<Long, List<String>> e : byFrame.entrySet()) {
                assertEquals(people, e.getValue(), "frame " + e.getKey() + ": the same people on the same tracks");
            }
            tracksLog = d.changelog(tracksStore());
            assertEquals(List.of(CAMERA), List.copyOf(tracksLog.keySet()), "the tracks store is changelogged, keyed by camera");
            statesLog = d.changelog(spec.stateStore());
            KeyValueStore<String, byte[]> tracks = d.driver.getKeyValueStore(tracksStore());
            PersonTracks t = PersonTracks.fromBytes(tracks.get(CAMERA));
            assertEquals(people.size(), t.tracks().size());
            KeyValueStore<String, StreamState<PoseState>> states = d.driver.getKeyValueStore(spec.stateStore());
            for (String p : people) {
                assertEquals(frames, states.get(p).steps(), p + " stepped once per frame");
            }
            // The shipped file writes person-poses (fused, write_keypoints: true): one record per person and frame, the same keys.
            Map<Long, List<String>> poses = new LinkedHashMap<>();
            FeatureRecordSerde kpSerde = new FeatureRecordSerde();
            for (var r : d.driver.createOutputTopic(spec.topics().name(PoseActivityPipeline.KEYPOINTS), new StringDeserializer(),
                    new ByteArrayDeserializer()).readRecordsToList()) {
                FeatureRecord f = kpSerde.deserialize("t", r.value());
                assertEquals(51, f.values().length, "17 keypoints x (x, y, score)");
                if (f.sequence() != -100) {
                    poses.computeIfAbsent(f.sequence(), x -> new ArrayList<>()).add(r.key());
                }
            }
            assertEquals(byFrame, poses, "person-poses: one record per person and frame, keyed as the predictions");
            assertTrue(d.driver.createOutputTopic(spec.topics().deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer())
                    .isEmpty());
        }
        // A restart: a new driver, its stores restored from the first one's changelogs as Kafka Streams
        // restores a task (TopologyTestDriver wipes its state directory on close and replays no
        // changelog, so the restore is done here: each changelog's last value per key put back).
        try (Driver d = Driver.open(dir.resolve("after"))) {
            KeyValueStore<String, byte[]> tracks = d.driver.getKeyValueStore(tracksStore());
            tracksLog.forEach(tracks::put);
            KeyValueStore<String, StreamState<PoseState>> states = d.driver.getKeyValueStore(spec.stateStore());
            StateSerde<PoseState> serde = new StateSerde<>(new PoseCodec());
            statesLog.forEach((k, v) -> states.put(k, serde.deserialize("t", v)));
            TestInputTopic<String, byte[]> in = d.frames();
            for (int i = frames; i < frames + 3; i++) {
                send(in, CAMERA, frame(i), i);
            }
            Map<Long, List<String>> byFrame = keysByFrame(d.out(PoseHead.PREDICTIONS).readRecordsToList());
            assertEquals(3, byFrame.size());
            for (Map.Entry<Long, List<String>> e : byFrame.entrySet()) {
                assertEquals(people, e.getValue(), "after the restart, frame " + e.getKey() + ": the same track ids");
            }
            assertEquals(frames + 3, states.get(people.get(0)).steps(), "the person's stream went on too");
        }
    }

    static String tracksStore() {
        return spec.settings(PoseActivityPipeline.INSTANCE).tracksStore();
    }

    @Test
    void aBadFrameIsDeadLetteredWithItsReasonAndACameraResetEndsItsTracksAndResetsTheirStreams(@TempDir Path dir) throws Exception {
        try (Driver d = Driver.open(dir)) {
            TestInputTopic<String, byte[]> in = d.frames();
            send(in, CAMERA, "not an image".getBytes(StandardCharsets.UTF_8), 0);
            var dead = d.driver.createOutputTopic(spec.topics().deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer())
                    .readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals("unsupported-content-type".equals(reason(dead.get(0))) || "corrupt-image".equals(reason(dead.get(0))), true,
                    reason(dead.get(0)));
            send(in, CAMERA, frame(0), 1);
            List<String> people = keysByFrame(d.out(PoseHead.PREDICTIONS).readRecordsToList()).get(1L);
            RecordHeaders h = new RecordHeaders();
            h.add(io.engram.engine.step.StateLifecycle.CONTROL_HEADER, "reset".getBytes(StandardCharsets.UTF_8));
            in.pipeInput(new TestRecord<>(CAMERA, new byte[0], h, T0 + 200));
            List<String> reset = new ArrayList<>();
            for (var r : d.out(io.engram.engine.kafka.TopicRole.STATE_EVENTS).readRecordsToList()) {
                reset.add(r.key());
            }
            assertEquals(people, reset, "each of the camera's tracks' streams is reset and announced");
            send(in, CAMERA, frame(0), 3);
            List<String> after = keysByFrame(d.out(PoseHead.PREDICTIONS).readRecordsToList()).get(3L);
            assertEquals(people.size(), after.size());
            assertTrue(java.util.Collections.disjoint(people, after), "new tracks, new ids: " + people + " then " + after);
        }
    }

    @Test
    void theSplitLayoutJoinsTheStagesByTheKeypointsTopicAndPredictsTheSame(@TempDir Path dir) throws Exception {
        Map<FrameStage.Layout, List<String>> predictions = new java.util.EnumMap<>(FrameStage.Layout.class);
        for (FrameStage.Layout layout : FrameStage.Layout.values()) {
            PipelineSpec sp = spec.withSettings(spec.settings(PoseActivityPipeline.INSTANCE).withLayout(layout, false));
            try (Driver d = Driver.open(sp, dir.resolve(layout.yaml()))) {
                assertEquals(layout == FrameStage.Layout.FUSED ? 1 : 2, d.built.topology().describe().subtopologies().size());
                TestInputTopic<String, byte[]> in = d.frames();
                for (int i = 0; i < 3; i++) {
                    send(in, CAMERA, frame(i), i);
                }
                List<String> values = new ArrayList<>();
                for (var r : d.out(PoseHead.PREDICTIONS).readRecordsToList()) {
                    values.add(r.key() + " " + r.value());
                }
                predictions.put(layout, values);
                if (layout == FrameStage.Layout.SPLIT) {
                    var kp = d.driver.createOutputTopic(sp.topics().name(PoseActivityPipeline.KEYPOINTS), new StringDeserializer(),
                            new ByteArrayDeserializer()).readRecordsToList();
                    assertEquals(values.size(), kp.size(), "one keypoints record per person and frame");
                    for (var r : kp) {
                        FeatureRecord f = new FeatureRecordSerde().deserialize("t", r.value());
                        assertEquals(51, f.values().length);
                        assertEquals("movenet-multipose-lightning@1.0.0", f.encoder());
                        for (int k = 0; k < 17; k++) {
                            float score = f.values()[3 * k + 2];
                            assertTrue(score >= 0 && score <= 1, "score " + score);
                            if (score >= 0.3f) {
                                for (int c = 0; c < 2; c++) {
                                    float v = f.values()[3 * k + c];
                                    assertTrue(v > -0.05f && v < 1.05f, r.key() + " keypoint " + k + " is normalised by the frame size: " + v);
                                }
                            }
                        }
                    }
                }
            }
        }
        assertEquals(predictions.get(FrameStage.Layout.FUSED), predictions.get(FrameStage.Layout.SPLIT));
    }

    /**
     * The golden held-out sequence "wave, then squat, then fall" (models/pose-activity/golden, 75
     * frames of keypoints) through the step, fed on the keypoints topic: with the shipped rule
     * (fall_lying within 10 frames of upright) 26 frames of squatting make lying down no fall; with
     * {@code falls.within_frames: 30} it is exactly one, at the third fall_lying frame, from wave.
     */
    @Test
    void theGoldenWaveSquatFallSequenceIsOneFallOnlyWhenTheSquatIsWithinTheRulesWindow() throws Exception {
        JsonNode seq = null;
        for (JsonNode q : JSON.readTree(Path.of("models/pose-activity/golden/keypoint-gru.json").toFile()).get("sequences")) {
            if (q.get("name").asText().equals("pk-wave-squat-fall-heldout")) {
                seq = q;
            }
        }
        int firstFall = -1;
        for (int i = 0; i < seq.get("argmax").size(); i++) {
            if (seq.get("argmax").get(i).asText().equals("fall_lying")) {
                firstFall = i;
                break;
            }
        }
        assertTrue(firstFall > 30, "the golden sequence squats a while before it lies: " + firstFall);
        for (String within : List.of("10", "30")) {
            PipelineSpec sp = Pipelines.load(SHIPPED, Map.of("falls.within_frames", within));
            try (io.engram.testkit.PipelineDriver pd = io.engram.testkit.PipelineDriver.stepFed(sp)) {
                var in = pd.stepInput();
                FeatureRecordSerde serde = new FeatureRecordSerde();
                for (int i = 0; i < seq.get("kp").size(); i++) {
                    float[] kp = new float[51];
                    for (int k = 0; k < 51; k++) {
                        kp[k] = (float) seq.get("kp").get(i).get(k).asDouble();
                    }
                    in.pipeInput((CAMERA + "/1").getBytes(StandardCharsets.UTF_8), serde.serialize("t",
                            new FeatureRecord("movenet-multipose-lightning@1.0.0", i, kp)), T0 + 100L * i);
                }
                List<String> labels = new ArrayList<>();
                for (String v : pd.output(PoseHead.PREDICTIONS).readValuesToList()) {
                    labels.add(JSON.readTree(v).get("label").asText());
                }
                for (int i = 0; i < labels.size(); i++) {
                    assertEquals(seq.get("argmax").get(i).asText(), labels.get(i), "frame " + i + " as PyTorch's");
                }
                // person-events: each change of the top label once it has held 3 frames in a row (events.min_frames).
                List<String> expected = new ArrayList<>();
                String announced = null;
                for (int i = 2; i < labels.size(); i++) {
                    String l = labels.get(i);
                    if (!l.equals(announced) && l.equals(labels.get(i - 1)) && l.equals(labels.get(i - 2))) {
                        expected.add(i + ":" + announced + "->" + l);
                        announced = l;
                    }
                }
                List<String> events = new ArrayList<>();
                for (String v : pd.output(PoseHead.EVENTS).readValuesToList()) {
                    JsonNode e = JSON.readTree(v);
                    assertEquals(CAMERA + "/1", e.get("person").asText());
                    events.add(e.get("frame_seq").asLong() + ":" + (e.get("previous_label").isNull() ? null : e.get("previous_label").asText())
                            + "->" + e.get("label").asText());
                }
                assertTrue(expected.size() >= 3, "the sequence changes activity (wave, squat, fall): " + expected);
                assertEquals(expected, events, "person-events");
                List<String> falls = pd.output(PoseHead.FALLS).readValuesToList();
                if (within.equals("10")) {
                    assertEquals(List.of(), falls);
                } else {
                    assertEquals(1, falls.size(), falls.toString());
                    JsonNode f = JSON.readTree(falls.get(0));
                    assertEquals(firstFall + 2, f.get("frame_seq").asLong(), "at the third fall_lying frame");
                    assertEquals("wave", f.get("previous_label").asText());
                    assertEquals(CAMERA + "/1", f.get("person").asText());
                    assertEquals(1, f.get("track").asLong());
                    assertEquals(3, f.get("frames").asInt());
                }
            }
        }
    }

    static String reason(TestRecord<byte[], byte[]> r) {
        return new String(r.headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8);
    }
}

package io.engram.it;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import static io.engram.testkit.CrashHarness.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.state.StateEvent;
import io.engram.engine.step.StateLifecycle;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.tools.harness.RunOutputs;
import io.engram.testkit.CrashHarness;
import io.engram.testkit.CrashScenarios;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.PipelineYaml;
import io.engram.testkit.Records;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash and failover equivalence of the video anomaly pipeline ({@code topology/video-anomaly.yaml}:
 * the forecaster + anomaly-scorer head over frame features): after kill -9, a failover to a standby
 * and a new instance joining, a lost state directory, or a broker outage, every output topic
 * (video-anomaly-scores, video-anomalies, video-anomaly-dead-letters, video-anomaly-state-events),
 * read with read_committed, equals an uninterrupted run's per camera, byte for byte. The machinery
 * is {@link CrashHarness}; this class gives the pipeline, its input (real encoder features of several
 * cameras written straight to the input topic, with bad records, a gap and a control reset) and what
 * its reference run must be, alerts included.
 */
class VideoAnomalyCrashRecoveryIT extends CrashScenarios {
    static final Path EVAL = Path.of("models/video-anomaly/eval");
    static final String ENCODER = "frame-encoder-cnn@1.0.0";
    static final int FEATURES = 128;
    static final int PARTITIONS = 4;
    static final long T0 = 1_700_000_000_000L;
    /** The golden activity clip's features ({@link Records#clip()}), for the last camera. */
    static final String GOLDEN = "golden-activity-clip";
    /**
     * Camera c shows clip {@code CLIPS[c]}: held-out evaluation clips (models/video-anomaly/eval/) and
     * the golden activity clip. The first two have an event that the scorer flags on its frame; the
     * freeze and reverse clips end here before their events (frames 236 and 224), so they show normal
     * motion only.
     */
    static final String[] CLIPS = {"teleport", "appear", "normal-1", "normal-2", "normal-3", "freeze", "reverse", GOLDEN};
    static final int CAMERAS = CLIPS.length;
    /** Frames of the two cameras with an event: past the teleport's frame 250, the later of the two events. */
    static final int FRAMES = 260;
    /** Frames of the other cameras (of the golden clip, all 120): enough for the warm-up and the resets, fewer records to process. */
    static final int OTHER_FRAMES = 160;
    /**
     * The alerts of the reference run, camera -> steps: the teleport (frame 250) and the appearance
     * (frame 232), each on its frame after the 100-frame warm-up, as MODEL_CARD.md says; nothing on
     * the other cameras, whose clips are normal motion (two of them still in their warm-up after a
     * reset).
     */
    static final Map<String, List<Long>> ALERTS = Map.of(camera(0), List.of(250L), camera(1), List.of(232L));
    /**
     * A camera whose frames pause for two minutes before frame {@link #GAP_AT} (the pipeline's
     * max_gap_ms is one minute); it starts afresh and stays in its 100-frame warm-up to its last frame.
     */
    static final int GAP_CAMERA = 4;
    static final int GAP_AT = 100;
    /** A camera reset by a control record before frame {@link #RESET_AT}; in warm-up to the end as well. */
    static final int RESET_CAMERA = 6;
    static final int RESET_AT = 90;
    static final ObjectMapper JSON = new ObjectMapper();
    static final FeatureRecordSerde SERDE = new FeatureRecordSerde();

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    static Path work;

    static CrashHarness crash;
    static float[][][] clips;

    @BeforeAll
    static void runReference() throws Exception {
        clips = new float[CAMERAS][][];
        for (int c = 0; c < CAMERAS; c++) {
            clips[c] = CLIPS[c].equals(GOLDEN) ? Records.clip() : f32(CLIPS[c]);
        }
        crash = new CrashHarness("video-anomaly", kafka, work, PipelineYaml.of("topology/video-anomaly.yaml"),
                VideoAnomalyCrashRecoveryIT::input).partitions(PARTITIONS);
        checkReference(crash.reference());
    }

    @AfterAll
    static void report() {
        report("video anomaly", crash);
    }

    @Override
    protected CrashHarness crash() {
        return crash;
    }

    /**
     * The reference is itself right: one score per good frame, in order and at the frame's time
     * (steps 0, 1, 2, ..., starting again after the gap and the control reset), every bad record
     * dead-lettered once with its reason and cause, the gap and the reset announced, and the alerts
     * that the clips' events give, so that every output topic is compared with something in it.
     */
    static void checkReference(RunOutputs ref) throws IOException {
        Map<String, List<RunOutputs.Rec>> preds = ref.role(ForecastHead.PREDICTIONS);
        assertEquals(CAMERAS, preds.size(), "cameras with scores");
        Map<String, List<Long>> flagged = new TreeMap<>();
        for (Map.Entry<String, List<RunOutputs.Rec>> e : preds.entrySet()) {
            int c = Integer.parseInt(e.getKey().substring("cam-".length()));
            List<RunOutputs.Rec> recs = e.getValue();
            assertEquals(frames(c), recs.size(), e.getKey() + " scores");
            int restartAt = c == GAP_CAMERA ? GAP_AT : c == RESET_CAMERA ? RESET_AT : Integer.MAX_VALUE;
            for (int i = 0; i < recs.size(); i++) {
                JsonNode p = JSON.readTree(recs.get(i).value());
                assertEquals(i < restartAt ? i : i - restartAt, p.get("step").asLong(), e.getKey() + " frame " + i + " step");
                assertEquals(ts(c, i), p.get("event_time").asLong(), e.getKey() + " frame " + i + " event time");
                assertEquals("video-feature-forecaster", p.get("model_id").asText());
                if (p.get("anomaly").asBoolean()) {
                    flagged.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add((long) i);
                }
            }
        }
        Map<String, List<Long>> alerts = new TreeMap<>();
        for (Map.Entry<String, List<RunOutputs.Rec>> e : ref.role(ForecastHead.ANOMALIES).entrySet()) {
            for (RunOutputs.Rec r : e.getValue()) {
                alerts.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(JSON.readTree(r.value()).get("step").asLong());
            }
        }
        assertEquals(new TreeMap<>(ALERTS), alerts, "alerts: the teleport and the appearance, on their frames");
        assertEquals(alerts, flagged, "the alerts are exactly the scores flagged as anomalies");

        Map<String, List<String>> reasons = new TreeMap<>();
        List<String> messages = new ArrayList<>();
        ref.role(TopicRole.DEAD_LETTER).forEach((k, recs) -> recs.forEach(r -> {
            reasons.computeIfAbsent(k, x -> new ArrayList<>()).add(r.reason());
            messages.add(r.message());
        }));
        String features = Reason.BAD_FEATURES.code();
        assertEquals(Map.of(camera(2), List.of(features, Reason.OUT_OF_ORDER.code()), camera(3), List.of(features), camera(5),
                List.of(features), camera(7), List.of(features), RunOutputs.NO_KEY, List.of(Reason.NULL_KEY.code())), reasons,
                "dead letters by camera");
        for (String cause : List.of("has 64 values", "from encoder frame-encoder-vit@1.0.0", "is NaN, not finite", "not a feature record")) {
            assertTrue(messages.stream().anyMatch(m -> m != null && m.contains(cause)), "a dead letter says '" + cause + "': " + messages);
        }

        Set<String> resets = new TreeSet<>();
        ref.role(TopicRole.STATE_EVENTS).forEach((k, recs) -> recs.forEach(r -> {
            try {
                resets.add(k + " " + JSON.readTree(r.value()).get("reason").asText());
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
        }));
        assertEquals(Set.of(camera(GAP_CAMERA) + " " + StateEvent.GAP, camera(RESET_CAMERA) + " " + StateEvent.CONTROL), resets,
                "state events");
        assertEquals(2, ref.total(TopicRole.STATE_EVENTS), "state events");
    }

    // ---------------------------------------------------------------------------------------------
    // Input

    /**
     * The input, the same for every run: {@link #CAMERAS} cameras of real encoder features (binary
     * feature records, 128 floats of frame-encoder-cnn), written straight to the input topic at 10
     * frames a second, interleaved across cameras: the first {@link #FRAMES} frames of the teleport and
     * appear clips, the first {@link #OTHER_FRAMES} of five more evaluation clips and the 120 frames of
     * the golden activity clip (1,440 frames), with 6 bad records in between, a camera that pauses for
     * two minutes and a control reset. The cameras' ids spread them over every partition.
     */
    static List<ProducerRecord<byte[], byte[]>> input(PipelineTopics topics) {
        String topic = topics.name(AnomalyPipeline.INPUT);
        Set<Integer> partitions = new TreeSet<>();
        for (int c = 0; c < CAMERAS; c++) {
            partitions.add(Utils.toPositive(Utils.murmur2(bytes(camera(c)))) % PARTITIONS);
        }
        assertEquals(PARTITIONS, partitions.size(), "the cameras spread over every partition");
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        for (int i = 0; i < FRAMES; i++) {
            for (int c = 0; c < CAMERAS; c++) {
                if (i >= frames(c)) {
                    continue;
                }
                if (c == RESET_CAMERA && i == RESET_AT) {
                    ProducerRecord<byte[], byte[]> reset = new ProducerRecord<>(topic, null, ts(c, i) - 50, bytes(camera(c)), new byte[0]);
                    reset.headers().add(StateLifecycle.CONTROL_HEADER, bytes(StateLifecycle.RESET_COMMAND));
                    out.add(CrashHarness.control(reset));
                }
                out.add(feature(topic, c, i, ENCODER, clips[c][i]));
            }
            switch (i) {
                case 20 -> out.add(bad(feature(topic, 2, i, ENCODER, java.util.Arrays.copyOf(clips[2][i], 64)))); // wrong feature count
                case 60 -> out.add(bad(feature(topic, 3, i, "frame-encoder-vit@1.0.0", clips[3][i]))); // another encoder
                case 100 -> {
                    float[] nan = clips[5][i].clone();
                    nan[7] = Float.NaN;
                    out.add(bad(feature(topic, 5, i, ENCODER, nan)));
                }
                case 110 -> out.add(bad(new ProducerRecord<>(topic, null, ts(7, i), bytes(camera(7)),
                        bytes("{\"ts\":" + ts(7, i) + ",\"values\":[1.0]}")))); // not a feature record at all
                case 150 -> out.add(bad(new ProducerRecord<>(topic, 1, ts(0, i), null,
                        SERDE.serialize("t", new FeatureRecord(ENCODER, i, clips[0][i]))))); // no key
                case 140 -> {
                    ProducerRecord<byte[], byte[]> old = feature(topic, 2, i, ENCODER, clips[2][i]);
                    out.add(bad(new ProducerRecord<>(topic, null, ts(2, i) - 2_000, old.key(), old.value()))); // older than the last
                }
                default -> { }
            }
        }
        return out;
    }

    static String camera(int c) {
        return "cam-" + c;
    }

    /** Frames of camera c: {@link #FRAMES} for the two with an event, {@link #OTHER_FRAMES} or the whole golden clip (120) for the others. */
    static int frames(int c) {
        return ALERTS.containsKey(camera(c)) ? FRAMES : Math.min(OTHER_FRAMES, clips[c].length);
    }

    /** Capture time of camera c's frame i: 10 frames a second, with the gap above. */
    static long ts(int c, int i) {
        long gap = c == GAP_CAMERA && i >= GAP_AT ? 120_000 : 0;
        return T0 + 10L * c + 100L * i + gap;
    }

    static ProducerRecord<byte[], byte[]> feature(String topic, int c, int i, String encoder, float[] values) {
        return new ProducerRecord<>(topic, null, ts(c, i), bytes(camera(c)), SERDE.serialize("t", new FeatureRecord(encoder, i, values)));
    }

    /** An evaluation clip's features: little-endian float32 [frames x 128], as eval/clips.json lists them. */
    static float[][] f32(String clip) throws IOException {
        JsonNode meta = null;
        for (JsonNode c : JSON.readTree(EVAL.resolve("clips.json").toFile())) {
            if (c.get("name").asText().equals(clip)) {
                meta = c;
            }
        }
        assertTrue(meta != null, clip + " is in eval/clips.json");
        int n = meta.get("frames").asInt();
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(EVAL.resolve(meta.get("file").asText()))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((long) n * FEATURES * 4, b.remaining(), clip + " holds " + n + " x " + FEATURES + " float32");
        float[][] out = new float[n][FEATURES];
        for (float[] row : out) {
            for (int j = 0; j < FEATURES; j++) {
                row[j] = b.getFloat();
            }
        }
        assertTrue(n >= FRAMES, clip + " has " + FRAMES + " frames or more");
        return out;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

package io.engram.it;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import static io.engram.testkit.CrashHarness.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.step.StateLifecycle;
import io.engram.tools.harness.RunOutputs;
import io.engram.testkit.CrashHarness;
import io.engram.testkit.CrashScenarios;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.PipelineYaml;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash and failover equivalence of the video pipeline ({@code topology/video-activity.yaml}, both
 * stages: the CNN and the recurrent classifier; fused as shipped, and split in the failover
 * scenario): after kill -9, a failover to a standby and a new
 * instance joining, a lost state directory, or a broker outage, every output topic (frame-features,
 * activity-predictions, activity-events, video-state-events, video-dead-letters), read with
 * read_committed, equals an uninterrupted run's per camera, byte for byte. The machinery is
 * {@link CrashHarness}; this class gives the pipeline, its input (real PNG frames from several
 * cameras, with bad frames, a gap and a control record) and what its reference run must be.
 */
class VideoCrashRecoveryIT extends CrashScenarios {
    static final int CAMERAS = 8;
    static final int FRAMES = 45;
    static final int PARTITIONS = 4;
    static final long T0 = 1_700_000_000_000L;
    /** A camera whose frames pause for two minutes before frame {@link #GAP_AT} (the pipeline's max_gap_ms is one minute). */
    static final int GAP_CAMERA = 4;
    static final int GAP_AT = 25;
    /** A camera reset by a control record before frame {@link #RESET_AT}. */
    static final int RESET_CAMERA = 6;
    static final int RESET_AT = 20;
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    static Path work;

    static CrashHarness crash;
    static List<byte[]> clip;
    static List<byte[]> camA;
    static List<byte[]> camB;

    @BeforeAll
    static void runReference() throws Exception {
        clip = pngs(Path.of("models/activity/clip"));
        camA = pngs(Path.of("ingest/samples/video/cam-a"));
        camB = pngs(Path.of("ingest/samples/video/cam-b"));
        crash = new CrashHarness("video", kafka, work, PipelineYaml.of("topology/video-activity.yaml"), VideoCrashRecoveryIT::input)
                .partitions(PARTITIONS).pacing(8, 30)
                // The shipped file fuses the stages; the failover runs the split layout, against a
                // reference run of its own: a frame the step refuses is dead-lettered as the frame
                // when fused, as its features record when split.
                .variant("failover", y -> y.set("encoder.layout", "split"));
        checkReference(crash.reference());
    }

    @AfterAll
    static void report() {
        report("video", crash);
    }

    @Override
    protected CrashHarness crash() {
        return crash;
    }

    /**
     * The reference is itself right: one feature record per accepted frame, one prediction per good
     * frame in order (steps 0, 1, 2, ..., starting again after the gap and the control reset), every
     * bad frame dead-lettered once with its reason, the gap and the reset announced, and some activity
     * changes, so that every output topic is compared with something in it.
     */
    static void checkReference(RunOutputs ref) throws IOException {
        Map<String, List<RunOutputs.Rec>> preds = ref.role(ActivityHead.PREDICTIONS);
        assertEquals(CAMERAS, preds.size(), "cameras with predictions");
        for (Map.Entry<String, List<RunOutputs.Rec>> e : preds.entrySet()) {
            int c = Integer.parseInt(e.getKey().substring("cam-".length()));
            List<RunOutputs.Rec> recs = e.getValue();
            assertEquals(FRAMES, recs.size(), e.getKey() + " predictions");
            int restartAt = c == GAP_CAMERA ? GAP_AT : c == RESET_CAMERA ? RESET_AT : Integer.MAX_VALUE;
            long expected = 0;
            for (int i = 0; i < recs.size(); i++) {
                JsonNode p = JSON.readTree(recs.get(i).value());
                long seq = p.get("frame_seq").asLong();
                if (seq == restartAt) {
                    expected = 0;
                }
                assertEquals(expected++, p.get("step").asLong(), e.getKey() + " frame " + seq + " step");
            }
        }
        Map<String, List<String>> reasons = new TreeMap<>();
        ref.role(TopicRole.DEAD_LETTER).forEach((k, recs) -> recs.forEach(r -> reasons.computeIfAbsent(k, x -> new ArrayList<>())
                .add(r.reason())));
        assertEquals(Map.of("cam-0", List.of("corrupt-image", "empty-frame"), "cam-1", List.of("unsupported-content-type", "out-of-order"),
                "cam-2", List.of("frame-size-changed"), "cam-3", List.of("bad-field"), RunOutputs.NO_KEY, List.of("null-key")), reasons,
                "dead letters by camera");
        Set<String> resets = new TreeSet<>();
        ref.role(TopicRole.STATE_EVENTS).forEach((k, recs) -> recs.forEach(r -> resets.add(k + " " + json(r).get("reason").asText())));
        assertEquals(Set.of(camera(GAP_CAMERA) + " gap", camera(RESET_CAMERA) + " control"), resets, "state events");
        // Every frame the encoder accepted has its feature record: the good ones, the out-of-order one
        // (refused by the step) and the control record (an empty one, for pipelines that read the features).
        assertEquals(ref.total(ActivityHead.PREDICTIONS) + 2, ref.total(VideoActivityPipeline.FEATURES), "feature records");
        assertTrue(ref.total(ActivityHead.EVENTS) >= CAMERAS, "activity changes (" + ref.total(ActivityHead.EVENTS) + ") are compared too");
    }

    static JsonNode json(RunOutputs.Rec r) {
        try {
            return JSON.readTree(r.value());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Input

    /**
     * The input, the same for every run: {@link #CAMERAS} cameras of {@link #FRAMES} real 64x64 PNG
     * frames each (windows of the golden activity clip and of the two sample cameras, at 10 frames a
     * second), interleaved across cameras, with bad frames in between, a camera that pauses for two
     * minutes and a control reset. The cameras' ids spread them over every partition.
     */
    static List<ProducerRecord<byte[], byte[]>> input(PipelineTopics topics) {
        String topic = topics.name(VideoActivityPipeline.FRAMES);
        Set<Integer> partitions = new TreeSet<>();
        for (int c = 0; c < CAMERAS; c++) {
            partitions.add(Utils.toPositive(Utils.murmur2(bytes(camera(c)))) % PARTITIONS);
        }
        assertEquals(PARTITIONS, partitions.size(), "the cameras spread over every partition");
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        for (int i = 0; i < FRAMES; i++) {
            for (int c = 0; c < CAMERAS; c++) {
                if (c == RESET_CAMERA && i == RESET_AT) {
                    ProducerRecord<byte[], byte[]> reset = new ProducerRecord<>(topic, null, ts(c, i) - 50, bytes(camera(c)), new byte[0]);
                    reset.headers().add(StateLifecycle.CONTROL_HEADER, bytes(StateLifecycle.RESET_COMMAND));
                    out.add(CrashHarness.control(reset));
                }
                out.add(frame(topic, c, i, frameOf(c, i), "image/png"));
            }
            switch (i) {
                case 5 -> out.add(bad(frame(topic, 0, i, bytes("not an image"), "image/jpeg")));
                case 9 -> out.add(bad(frame(topic, 1, i, frameOf(1, i), "image/gif")));
                case 14 -> out.add(bad(frame(topic, 2, i, png(32, 48), "image/png")));
                case 18 -> {
                    ProducerRecord<byte[], byte[]> r = frame(topic, 3, i, frameOf(3, i), "image/png");
                    r.headers().remove("seq").add("seq", bytes("abc"));
                    out.add(bad(r));
                }
                case 22 -> out.add(bad(new ProducerRecord<>(topic, 1, ts(5, i), null, frameOf(5, i)))); // no key
                case 30 -> out.add(bad(frame(topic, 0, i, new byte[0], "image/png")));
                case 35 -> out.add(bad(new ProducerRecord<>(topic, null, ts(1, i) - 2_000, bytes(camera(1)), frameOf(1, i)))); // older
                default -> { }
            }
        }
        return out;
    }

    static String camera(int c) {
        return "cam-" + c;
    }

    /** Camera c's frame i: a window of the clip or of a sample camera, a different one for each camera. */
    static byte[] frameOf(int c, int i) {
        List<byte[]> src = switch (c % 3) {
            case 0 -> clip;
            case 1 -> camA;
            default -> camB;
        };
        return src.get((c * 13 + i) % src.size());
    }

    /** Capture time of camera c's frame i: 10 frames a second, with the gap above. */
    static long ts(int c, int i) {
        long gap = c == GAP_CAMERA && i >= GAP_AT ? 120_000 : 0;
        return T0 + 10L * c + 100L * i + gap;
    }

    static ProducerRecord<byte[], byte[]> frame(String topic, int c, int i, byte[] image, String contentType) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null, ts(c, i), bytes(camera(c)), image);
        r.headers().add("content-type", bytes(contentType)).add("seq", bytes(Integer.toString(i)));
        return r;
    }

    static List<byte[]> pngs(Path dir) throws IOException {
        List<byte[]> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".png")).sorted().toList()) {
                out.add(Files.readAllBytes(f));
            }
        }
        assertTrue(out.size() >= FRAMES, dir + " has frames");
        return out;
    }

    static byte[] png(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(w / 2, h / 2, 0, 200);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

package io.engram.it;

import static io.engram.testkit.CrashHarness.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.PoseEstimator;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import io.engram.engine.pipeline.pose.PoseHead;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.RunOutputs;
import io.engram.testkit.CrashHarness;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.PipelineYaml;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash equivalence of the pose pipeline ({@code topology/person-activity.yaml}: the pose stage, the
 * camera's tracks in a changelogged store, one stream of the core per person): an {@code engram
 * run} process killed with SIGKILL mid-transaction, mid-clip, and restarted gives every output topic
 * (person-activity keyed {@code camera/track}, person-poses, person-events, person-falls,
 * person-activity-refined, person-events-refined, person-state-events, person-dead-letters),
 * read with read_committed, byte for byte as an uninterrupted run: the same people get the same
 * track ids and the same predictions, nothing lost or twice. The input is real people: four
 * cameras, each a view of a real photograph of a crowd (models/pose/golden/frames) moving a pixel
 * a frame, with bad frames between them. The other three crash scenarios (failover, lost state,
 * broker outage) run on the sensor and video pipelines; the core they test is the same.
 */
class PoseCrashRecoveryIT {
    static final int CAMERAS = 4;
    static final int FRAMES = 20;
    static final long T0 = 1_700_000_000_000L;
    static final Path PHOTO = Path.of("models/pose/golden/frames/group-480x360.png");

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    static Path work;

    static CrashHarness crash;
    static BufferedImage photo;
    static PoseEstimator pose;
    static float minPersonScore;

    @BeforeAll
    static void runReference() throws Exception {
        photo = ImageIO.read(PHOTO.toFile());
        PipelineSpec spec = Pipelines.load(Path.of("topology/person-activity.yaml"));
        PoseActivityPipeline.Settings settings = spec.settings(PoseActivityPipeline.INSTANCE);
        minPersonScore = (float) settings.minPersonScore();
        pose = PoseEstimator.load(ModelManifest.load(settings.poseManifest()), 1);
        crash = new CrashHarness("pose", kafka, work, PipelineYaml.of("topology/person-activity.yaml"), new Clip()).pacing(4, 30);
        checkReference(crash.reference());
    }

    @AfterAll
    static void close() {
        if (pose != null) {
            pose.close();
        }
        if (crash != null) {
            System.out.println("pose kills: " + String.join("\n  ", crash.kills()));
        }
    }

    @Test
    void killDashNineMidClipThenRestartGivesTheOutputOfAnUninterruptedRun() throws Exception {
        crash.killDashNineThenRestart();
    }

    /**
     * The reference is itself right: every camera has people, each a key {@code camera/track}, the
     * same people followed through the clip (a camera's track ids are few, not one per frame), each
     * person's refined activity once per frame but their last L (refine.lag), and every bad frame
     * dead-lettered once with its reason.
     */
    static void checkReference(RunOutputs ref) {
        Map<String, List<RunOutputs.Rec>> preds = ref.role(PoseHead.PREDICTIONS);
        Map<String, TreeSet<Integer>> tracks = new TreeMap<>();
        for (Map.Entry<String, List<RunOutputs.Rec>> e : preds.entrySet()) {
            String key = e.getKey();
            assertTrue(key.matches("cam-[0-9]/[0-9]+"), "a person's key is camera/track: " + key);
            int slash = key.lastIndexOf('/');
            tracks.computeIfAbsent(key.substring(0, slash), c -> new TreeSet<>()).add(Integer.parseInt(key.substring(slash + 1)));
        }
        assertEquals(CAMERAS, tracks.size(), "cameras with people: " + tracks);
        for (Map.Entry<String, TreeSet<Integer>> t : tracks.entrySet()) {
            int people = (int) preds.entrySet().stream().filter(e -> e.getKey().startsWith(t.getKey() + "/"))
                    .mapToInt(e -> e.getValue().size()).sum();
            assertTrue(t.getValue().size() * 4 <= people, t.getKey() + ": people followed through the clip, not a new track a frame ("
                    + t.getValue().size() + " tracks for " + people + " predictions)");
        }
        int lag = Pipelines.load(Path.of("topology/person-activity.yaml")).settings(PoseActivityPipeline.INSTANCE).refine().lag();
        Map<String, List<RunOutputs.Rec>> refined = ref.role(PoseHead.REFINED);
        assertTrue(!refined.isEmpty(), "people followed for more than " + lag + " frames have refined records");
        for (Map.Entry<String, List<RunOutputs.Rec>> e : preds.entrySet()) {
            int n = refined.getOrDefault(e.getKey(), List.of()).size();
            assertEquals(Math.max(0, e.getValue().size() - lag), n, e.getKey() + ": one refined record per frame but the last " + lag);
        }
        Map<String, List<String>> reasons = new TreeMap<>();
        ref.role(TopicRole.DEAD_LETTER).forEach((k, recs) -> recs.forEach(r -> reasons.computeIfAbsent(k, x -> new ArrayList<>())
                .add(r.reason())));
        assertEquals(Map.of("cam-0", List.of("corrupt-image"), "cam-2", List.of("unsupported-content-type")), reasons,
                "dead letters by camera");
    }

    /** The clip, and how many people an uninterrupted run sees in it: the pose model's own count, frame by frame. */
    static final class Clip implements CrashHarness.Input {
        @Override
        public List<ProducerRecord<byte[], byte[]>> records(PipelineTopics topics) {
            String topic = topics.name(PoseActivityPipeline.FRAMES);
            List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
            for (int i = 0; i < FRAMES; i++) {
                for (int c = 0; c < CAMERAS; c++) {
                    out.add(frame(topic, c, i, png(c, i), "image/png"));
                }
                switch (i) {
                    case 4 -> out.add(bad(frame(topic, 0, i, bytes("not an image"), "image/png")));
                    case 11 -> out.add(bad(frame(topic, 2, i, png(2, i), "image/gif")));
                    default -> { }
                }
            }
            return out;
        }

        @Override
        public int predictions(List<ProducerRecord<byte[], byte[]>> records) {
            int people = 0;
            try (PoseEstimator.Runner runner = pose.newRunner()) {
                for (ProducerRecord<byte[], byte[]> r : records) {
                    if (!CrashHarness.isBad(r)) {
                        people += runner.estimate(ImageIO.read(new ByteArrayInputStream(r.value())), minPersonScore).size();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            assertTrue(people >= CAMERAS * FRAMES, "people in the clip: " + people);
            return people;
        }
    }

    /**
     * Camera c's frame i: the photograph seen from a camera of its own (moved 6c pixels left, and
     * mirrored for odd c), then moved i pixels right and down a frame (edges black), as PNG.
     */
    static byte[] png(int c, int i) {
        int w = photo.getWidth();
        int h = photo.getHeight();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        int x = i - 6 * c;
        if (c % 2 == 0) {
            g.drawImage(photo, x, i, null);
        } else {
            g.drawImage(photo, x + w, i, -w, h, null); // mirrored
        }
        g.dispose();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ProducerRecord<byte[], byte[]> frame(String topic, int c, int i, byte[] image, String contentType) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, null, T0 + 10L * c + 100L * i, bytes("cam-" + c), image);
        r.headers().add("content-type", bytes(contentType)).add("seq", bytes(Integer.toString(i)));
        return r;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

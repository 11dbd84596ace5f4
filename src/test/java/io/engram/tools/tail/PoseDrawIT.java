package io.engram.tools.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.testkit.KafkaBroker;
import io.engram.tools.kafka.KafkaClients;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code engram tail --draw} on a real broker: a camera's frames on one topic, its people's
 * keypoints on a four-partition poses topic (keyed camera/track, so one frame's people are on
 * different partitions) and their labels on an activity topic, written out of order (the people of
 * every frame before the frames themselves). Every frame is written once, with exactly its people
 * drawn in their track's colour where their keypoints are; a frame without people is drawn bare.
 */
class PoseDrawIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    static final ObjectMapper JSON = new ObjectMapper();
    static final int FRAMES = 6;
    static final int W = 320;
    static final int H = 240;

    /** A standing stick figure centred at x (shares of the frame), every keypoint seen. */
    static float[] figure(float x) {
        float[][] xy = {
            {x, 0.20f}, {x - 0.01f, 0.18f}, {x + 0.01f, 0.18f}, {x - 0.02f, 0.19f}, {x + 0.02f, 0.19f}, // face
            {x - 0.05f, 0.30f}, {x + 0.05f, 0.30f}, {x - 0.07f, 0.42f}, {x + 0.07f, 0.42f}, {x - 0.08f, 0.54f}, {x + 0.08f, 0.54f},
            {x - 0.04f, 0.55f}, {x + 0.04f, 0.55f}, {x - 0.04f, 0.70f}, {x + 0.04f, 0.70f}, {x - 0.04f, 0.85f}, {x + 0.04f, 0.85f}};
        float[] k = new float[51];
        for (int i = 0; i < 17; i++) {
            k[3 * i] = xy[i][0];
            k[3 * i + 1] = xy[i][1];
            k[3 * i + 2] = 0.9f;
        }
        return k;
    }

    static byte[] grayPng() throws Exception {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
        var g = img.createGraphics();
        g.setColor(new Color(128, 128, 128));
        g.fillRect(0, 0, W, H);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** The mean colour distance from mid-gray of the 3x3 pixels around a keypoint's place. */
    static double inkAt(BufferedImage img, float[] k, int point) {
        int cx = Math.round(k[3 * point] * W);
        int cy = Math.round(k[3 * point + 1] * H);
        double sum = 0;
        for (int dx = -1; dx <= 1; dx++) {
            for (int dy = -1; dy <= 1; dy++) {
                Color c = new Color(img.getRGB(cx + dx, cy + dy));
                sum += Math.abs(c.getRed() - 128) + Math.abs(c.getGreen() - 128) + Math.abs(c.getBlue() - 128);
            }
        }
        return sum / 9;
    }

    @Test
    void everyFrameIsDrawnOnceWithExactlyItsPeopleAndLabels(@TempDir Path dir) throws Exception {
        String frames = "draw-frames";
        String poses = "draw-poses";
        String activity = "draw-activity";
        kafka.createTopics(1, frames);
        kafka.createTopics(4, poses, activity);
        FeatureRecordSerde serde = new FeatureRecordSerde();
        byte[] png = grayPng();
        // Tracks 1 and 2 in frames 0-3, track 3 only in frame 2; frame 4 has nobody, frame 5 track 2 only.
        List<List<Integer>> people = List.of(List.of(1, 2), List.of(1, 2), List.of(1, 2, 3), List.of(1, 2), List.of(), List.of(2));
        try (KafkaProducer<byte[], byte[]> p = KafkaClients.producer(kafka.bootstrap())) {
            for (int f = 0; f < FRAMES; f++) {
                for (int track : people.get(f)) {
                    byte[] key = ("cam-1/" + track).getBytes(StandardCharsets.UTF_8);
                    float[] kp = figure(0.25f * track);
                    p.send(new ProducerRecord<>(poses, key, serde.serialize(poses, new FeatureRecord("pose@1", f, kp))));
                    String label = "{\"person\":\"cam-1/" + track + "\",\"frame_seq\":" + f + ",\"label\":\"walk\",\"probability\":0.75}";
                    p.send(new ProducerRecord<>(activity, key, label.getBytes(StandardCharsets.UTF_8)));
                }
            }
            p.flush();
            for (int f = 0; f < FRAMES; f++) {
                RecordHeaders h = new RecordHeaders();
                h.add(FrameEncodeProcessor.H_CONTENT_TYPE, "image/png".getBytes(StandardCharsets.UTF_8));
                h.add(FrameEncodeProcessor.H_SEQ, Integer.toString(f).getBytes(StandardCharsets.UTF_8));
                p.send(new ProducerRecord<>(frames, null, "cam-1".getBytes(StandardCharsets.UTF_8), png, h));
            }
            p.flush();
        }
        List<String> lines = new ArrayList<>();
        PoseDraw.Options o = new PoseDraw.Options(kafka.bootstrap(), poses, frames, activity, dir.resolve("out"), true, null,
                Duration.ofSeconds(3), Map.of());
        long n;
        try (PoseDraw d = PoseDraw.open(o, Duration.ofSeconds(30))) {
            n = d.run(lines::add, () -> true);
        }
        assertEquals(FRAMES, n, String.join("\n", lines));
        assertEquals(FRAMES, lines.size(), "one line per file, no frame twice");
        for (int f = 0; f < FRAMES; f++) {
            JsonNode l = JSON.readTree(lines.get(f));
            assertEquals("cam-1", l.get("camera").asText());
            assertEquals(f, l.get("frame_seq").asLong(), "in frame order");
            assertEquals(people.get(f).size(), l.get("people").asInt(), "frame " + f + ": exactly its people");
            Path file = Path.of(l.get("file").asText());
            assertEquals(dir.resolve("out").resolve("cam-1").resolve(String.format("%08d.jpg", f)), file);
            BufferedImage img = ImageIO.read(file.toFile());
            assertEquals(W, img.getWidth());
            for (int track = 1; track <= 3; track++) {
                float[] kp = figure(0.25f * track);
                boolean there = people.get(f).contains(track);
                for (int point : new int[] {5, 11, 15}) { // a shoulder, a hip, an ankle
                    double ink = inkAt(img, kp, point);
                    assertTrue(there ? ink > 60 : ink < 20, "frame " + f + ", track " + track + ", keypoint " + point + ": ink " + ink);
                }
            }
        }
        assertEquals(FRAMES, Files.list(dir.resolve("out").resolve("cam-1")).count());
    }
}

package io.engram.tools.ingest.video;

import io.engram.testkit.TestImages;
import io.engram.testkit.TestVideos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.tools.cli.EngramCli;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `engram ingest video` against a real in-process KRaft broker: an mp4 file and a directory of PNGs. */
class VideoIngestIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();
    static final Duration READ = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        var h = r.headers().lastHeader(key);
        assertNotNull(h, "header " + key);
        return new String(h.value(), StandardCharsets.US_ASCII);
    }

    private static BufferedImage decode(byte[] bytes) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertNotNull(img, "record value is not a decodable image");
        return img;
    }

    /** The mean x of the bright pixels: where the moving square is. */
    private static double squareX(BufferedImage img) {
        double sum = 0;
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xFF) > 128) {
                    sum += x;
                    n++;
                }
            }
        }
        return n == 0 ? -1 : sum / n;
    }

    @Test
    void anMp4FileIsSentAsOneJpegRecordPerFrameWithKeyHeadersAndCaptureTimestamps() throws Exception {
        String topic = "video-mp4";
        kafka.createTopics(1, topic);
        Path mp4 = TestVideos.movingSquareMp4(dir.resolve("square.mp4"), 64, 48, 20, 20);
        long start = 1_700_000_000_000L;

        VideoReplay.Summary s;
        try (FrameSource src = FrameSources.open(mp4.toString(), SourceOptions.defaults());
                KafkaProducer<byte[], byte[]> p = VideoReplay.producer(kafka.bootstrap())) {
            assertEquals(20, src.frameCount());
            s = VideoReplay.send(src, VideoReplay.Options.of(topic, "cam-1").withStartEpochMillis(start), p, null);
        }
        assertEquals(20, s.read());
        assertEquals(20, s.sent());
        assertEquals(0, s.refused());
        assertFalse(s.stopped());

        // Read on past 20 (TopicReader.readCommitted): a frame sent twice would show.
        List<ConsumerRecord<byte[], byte[]>> got = TopicReader.readCommitted(kafka.bootstrap(), topic, 20, READ);
        assertEquals(20, got.size(), "each frame once");
        for (int i = 0; i < 20; i++) {
            ConsumerRecord<byte[], byte[]> r = got.get(i);
            assertEquals("cam-1", new String(r.key(), StandardCharsets.UTF_8));
            assertEquals("image/jpeg", header(r, "content-type"));
            assertEquals("64", header(r, "width"));
            assertEquals("48", header(r, "height"));
            assertEquals(String.valueOf(i), header(r, "seq"));
            // 20 fps: frame i is 50 ms * i after the start.
            assertEquals(start + 50L * i, r.timestamp());
            BufferedImage img = decode(r.value());
            assertEquals(64, img.getWidth());
            assertEquals(48, img.getHeight());
            // The square (10 px wide, at x = 2i) is where frame i drew it: the frames are in order.
            assertEquals(2 * i + 4.5, squareX(img), 1.5, "frame " + i);
        }
    }

    @Test
    void aDirectoryOfPngsSentAsPngThroughTheCliRoundTripsPixelExact() throws Exception {
        String topic = "video-png";
        Path frames = Files.createDirectories(dir.resolve("frames"));
        List<BufferedImage> originals = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            BufferedImage img = TestImages.noise(24, 16, i);
            originals.add(img);
            ImageIO.write(img, "png", frames.resolve("frame_" + (i + 1) + ".png").toFile()); // frame_10 would sort after frame_9
        }
        Files.writeString(frames.resolve("README.txt"), "ignored");

        StringWriter err = new StringWriter();
        CommandLine cl = EngramCli.commandLine();
        cl.setErr(new PrintWriter(err));
        long before = System.currentTimeMillis();
        int code = cl.execute("ingest", "video", "--source", frames.toString(), "--camera", "sim", "--topic", topic,
                "-b", kafka.bootstrap(), "--format", "png", "--source-fps", "5", "--create-topic", "--no-progress");
        assertEquals(0, code, err.toString());

        List<ConsumerRecord<byte[], byte[]>> got = TopicReader.readCommitted(kafka.bootstrap(), topic, 6, READ);
        assertEquals(6, got.size(), "each frame once");
        long t0 = got.get(0).timestamp();
        assertTrue(t0 >= before && t0 <= System.currentTimeMillis(), "first frame stamped with the start time");
        for (int i = 0; i < 6; i++) {
            ConsumerRecord<byte[], byte[]> r = got.get(i);
            assertEquals("sim", new String(r.key(), StandardCharsets.UTF_8));
            assertEquals("image/png", header(r, "content-type"));
            assertEquals("24", header(r, "width"));
            assertEquals("16", header(r, "height"));
            assertEquals(String.valueOf(i), header(r, "seq"));
            assertEquals(t0 + 200L * i, r.timestamp()); // 5 fps
            assertTrue(TestImages.samePixels(originals.get(i), decode(r.value())), "frame " + i + " differs");
        }
    }

    @Test
    void aMissingTopicWithoutCreateTopicExitsWithStatus2NamingTheFix() throws Exception {
        Path frames = Files.createDirectories(dir.resolve("one"));
        ImageIO.write(TestImages.square(8, 8, 0, 0, 2), "png", frames.resolve("a.png").toFile());
        StringWriter err = new StringWriter();
        CommandLine cl = EngramCli.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("ingest", "video", "-s", frames.toString(), "-c", "x", "-t", "no-such-topic", "-b", kafka.bootstrap());
        assertEquals(2, code);
        assertTrue(err.toString().startsWith("engram: topic 'no-such-topic' does not exist") && err.toString().contains("--create-topic"),
                err.toString());
    }
}

package io.engram.tools.ingest.video;

import io.engram.testkit.MjpegServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.engram.tools.cli.EngramCli;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/**
 * {@code engram ingest video --live} from an HTTP MJPEG camera ({@link MjpegServer}) that goes away
 * mid-stream (cut half-way through a JPEG) for about 1.5 s and comes back on the same port: the
 * command reconnects by itself, and the topic holds every frame it sent exactly once, {@code seq}
 * 0, 1, 2, ... across the outage, each a whole image of the served size, from before and after the outage.
 */
class LiveMjpegIngestIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();
    static final int W = 192;
    static final int H = 144;
    static final int FRAMES = 60;
    /** Generous: only a wait, never a performance claim. */
    static final Duration WAIT = Duration.ofSeconds(30);

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        var h = r.headers().lastHeader(key);
        assertNotNull(h, "header " + key);
        return new String(h.value(), StandardCharsets.US_ASCII);
    }

    /** Writes to both streams: the test sees the command's output, and so does the report. */
    private static PrintStream tee(OutputStream a, OutputStream b) {
        return new PrintStream(new OutputStream() {
            @Override
            public void write(int x) throws java.io.IOException {
                a.write(x);
                b.write(x);
            }

            @Override
            public void write(byte[] buf, int off, int len) throws java.io.IOException {
                a.write(buf, off, len);
                b.write(buf, off, len);
            }
        }, true, StandardCharsets.UTF_8);
    }

    private static void awaitUntil(String what, java.util.function.BooleanSupplier done, Thread cli) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (!cli.isAlive()) {
                fail("the ingest command ended while waiting for " + what);
            }
            if (System.nanoTime() > deadline) {
                fail("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    @Timeout(120)
    void aLiveHttpMjpegCameraThatGoesAwayAndComesBackIsIngestedAcrossTheOutageWithoutResetOrDuplicate() throws Exception {
        String topic = "video-live-mjpeg";
        kafka.createTopics(1, topic);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StringWriter cliErr = new StringWriter();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        AtomicInteger code = new AtomicInteger(-1);
        AtomicReference<Throwable> crash = new AtomicReference<>();
        long cutAt;
        long restartedAt;
        int connectionsBefore;
        try (MjpegServer camera = MjpegServer.start(W, H, 20)) {
            System.setOut(tee(stdout, out));
            System.setErr(tee(stderr, err));
            Thread cli = new Thread(() -> {
                try {
                    CommandLine cl = EngramCli.commandLine();
                    cl.setErr(new PrintWriter(cliErr, true));
                    code.set(cl.execute("ingest", "video", "--source", camera.url(), "--live", "--camera", "door", "--topic", topic,
                            "-b", kafka.bootstrap(), "--max-frames", String.valueOf(FRAMES), "--timeout", "5", "--no-progress"));
                } catch (Throwable t) {
                    crash.set(t);
                }
            }, "ingest-video-live");
            cli.setDaemon(true);
            try {
                cli.start();
                awaitUntil("20 frames served", () -> camera.framesServed() >= 20, cli);
                connectionsBefore = camera.connections();
                camera.stopMidFrame(); // the stream drops half-way through a JPEG; the port then refuses connections
                cutAt = camera.framesServed();
                Thread.sleep(1_500);
                camera.restart();
                restartedAt = camera.framesServed();
                cli.join(WAIT.toMillis());
                assertFalse(cli.isAlive(), "the ingest command did not finish after the camera came back");
            } finally {
                System.setOut(stdout);
                System.setErr(stderr);
            }
            assertTrue(camera.connections() > connectionsBefore, "the command connected to the camera again");
        }
        String o = out.toString(StandardCharsets.UTF_8);
        String e = err.toString(StandardCharsets.UTF_8) + cliErr;
        assertEquals(null, crash.get());
        assertEquals(0, code.get(), o + e);
        assertTrue(o.contains("engram: sent " + FRAMES + " frames of camera 'door' to topic '" + topic + "'"), o);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("; (\\d+) reconnect attempts?").matcher(o);
        assertTrue(m.find() && Long.parseLong(m.group(1)) >= 1, "the summary counts the reconnect attempts: " + o);
        assertTrue(e.contains("engram: reconnected to http://127.0.0.1:"), e);

        // Read on past FRAMES: a frame sent twice would show.
        assertEachFrameOnceAcrossTheOutage(TopicReader.readCommitted(kafka.bootstrap(), topic, FRAMES, WAIT), cutAt, restartedAt);
    }

    /**
     * Every record a whole image of the served size, {@code seq} 0, 1, 2, ... and served frames in
     * order, each from before the cut at {@code cutAt} or after the restart at {@code restartedAt}.
     */
    private static void assertEachFrameOnceAcrossTheOutage(List<ConsumerRecord<byte[], byte[]>> got, long cutAt, long restartedAt)
            throws java.io.IOException {
        assertEquals(FRAMES, got.size(), "each frame once");
        long before = 0;
        long after = 0;
        long lastServed = -1;
        long lastTimestamp = Long.MIN_VALUE;
        for (int i = 0; i < got.size(); i++) {
            ConsumerRecord<byte[], byte[]> r = got.get(i);
            String what = "record " + i;
            assertEquals("door", new String(r.key(), StandardCharsets.UTF_8), what);
            assertEquals("image/jpeg", header(r, "content-type"), what);
            assertEquals(String.valueOf(W), header(r, "width"), what);
            assertEquals(String.valueOf(H), header(r, "height"), what);
            assertEquals(String.valueOf(i), header(r, "seq"), what + ": seq counts on across the reconnect");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.value()));
            assertNotNull(img, what + " is not a decodable image");
            assertEquals(W, img.getWidth(), what);
            assertEquals(H, img.getHeight(), what);
            assertFalse(MjpegServer.torn(img), what + " is a torn frame (a JPEG cut short by the outage)");
            long served = MjpegServer.frameNumber(img);
            assertTrue(served > lastServed, what + " is served frame " + served + ", after " + lastServed + ": each frame once, in order");
            assertTrue(r.timestamp() >= lastTimestamp, what + ": capture timestamps do not go back");
            lastServed = served;
            lastTimestamp = r.timestamp();
            if (served < cutAt) {
                before++;
            } else if (served >= restartedAt) {
                after++;
            }
        }
        assertTrue(before >= 10, "frames from before the outage: " + before);
        assertTrue(after >= 10, "frames from after the outage: " + after);
        assertEquals(FRAMES, before + after, "every frame is from before or after the outage");
    }
}

package io.engram.tools.ingest.video;

import io.engram.testkit.TestVideos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrabberFrameSourceTest {
    @TempDir
    Path dir;

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static SourceOptions quiet(List<String> log) {
        return SourceOptions.defaults().withLog(log::add).withTimeout(Duration.ofSeconds(2));
    }

    @Test
    void anMp4FileGivesEveryFrameWithPresentationTimeOffsetsAndRewinds() throws Exception {
        Path mp4 = TestVideos.movingSquareMp4(dir.resolve("clip.mp4"), 64, 48, 10, 20);
        try (FrameSource src = FrameSources.open(mp4.toString(), quiet(new ArrayList<>()))) {
            assertFalse(src.live());
            assertEquals(10, src.frameCount());
            assertEquals(20.0, src.frameRate(), 0.01);
            List<Long> offsets = new ArrayList<>();
            CapturedFrame f;
            while ((f = src.next(() -> true)) != null) {
                BufferedImage img = f.image();
                assertEquals(64, img.getWidth());
                assertEquals(48, img.getHeight());
                assertEquals(-1, f.epochMillis());
                offsets.add(f.offsetMicros());
            }
            assertEquals(List.of(0L, 50_000L, 100_000L, 150_000L, 200_000L, 250_000L, 300_000L, 350_000L, 400_000L, 450_000L), offsets);
            assertTrue(src.rewind());
            CapturedFrame again = src.next(() -> true);
            assertEquals(0, again.offsetMicros());
            assertEquals("frame 0 (0.000 s) of clip.mp4", again.label());
        }
    }

    @Test
    void aMissingFileIsAConfigErrorNamingItAndTheKindsOfSource() {
        Path missing = dir.resolve("nope.mp4");
        ConfigException e = assertThrows(ConfigException.class, () -> FrameSources.open(missing.toString(), SourceOptions.defaults()));
        assertTrue(e.getMessage().startsWith("--source " + missing + " does not exist;") && e.getMessage().contains("rtsp://"), e.getMessage());
    }

    @Test
    void aFileFfmpegCannotReadIsAConfigErrorNamingIt() throws Exception {
        Path txt = Files.writeString(dir.resolve("notes.mp4"), "this is not a video\n".repeat(20));
        ConfigException e = assertThrows(ConfigException.class, () -> FrameSources.open(txt.toString(), SourceOptions.defaults()));
        assertTrue(e.getMessage().startsWith("cannot read video file " + txt + " as video: "), e.getMessage());
        assertFalse(e.getMessage().contains("setFormat"), e.getMessage());
    }

    @Test
    void aLiveStreamThatCannotConnectRetriesWithBackOffThenGivesUpAtMaxReconnects() throws Exception {
        int port = closedPort();
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        String url = "rtsp://admin:s3cret@127.0.0.1:" + port + "/stream";
        long start = System.nanoTime();
        try (FrameSource src = FrameSources.open(url, quiet(log).withMaxReconnects(2))) {
            assertTrue(src.live());
            assertEquals(-1, src.frameCount());
            IOException e = assertThrows(IOException.class, () -> src.next(() -> true));
            assertTrue(e.getMessage().startsWith("gave up on rtsp://***@127.0.0.1:" + port + "/stream after 2 reconnect attempts (--max-reconnects 2)"),
                    e.getMessage());
            assertEquals(2, src.reconnectAttempts());
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms >= 1_400, "waits 0.5 s then 1 s, took " + ms + " ms");
        assertEquals(2, log.size(), log.toString());
        // FFmpeg's error code spelled out, and nothing else (no native buffer garbage, no setFormat() hint).
        assertEquals("engram: cannot open rtsp://***@127.0.0.1:" + port + "/stream: Connection refused "
                + "(avformat_open_input() error -111); reconnecting in 0.5 s (attempt 1 of 2)", log.get(0));
        assertTrue(log.get(1).endsWith("; reconnecting in 1.0 s (attempt 2 of 2)"), log.get(1));
        assertTrue(log.stream().noneMatch(l -> l.contains("s3cret")), log.toString());
    }

    @Test
    void stoppingDuringTheBackOffEndsTheLiveSourceQuietly() throws Exception {
        List<String> log = new ArrayList<>();
        AtomicInteger askedDuringBackOff = new AtomicInteger();
        try (FrameSource src = FrameSources.open("rtsp://127.0.0.1:" + closedPort() + "/x", quiet(log))) {
            // Stop as soon as the first back-off begins (its line is logged as it starts): next()
            // returns null at the first question, instead of waiting the back-off out and trying again.
            assertNull(src.next(() -> log.isEmpty() || askedDuringBackOff.incrementAndGet() < 0));
            assertEquals(1, src.reconnectAttempts(), "no second attempt");
        }
        assertEquals(1, askedDuringBackOff.get(), "stopped at the first question during the back-off");
        assertEquals(1, log.size());
    }

    @Test
    void ffmpegErrorCodesAreSpelledOut() {
        assertEquals("Connection refused", GrabberFrameSource.strerror(-111));
        assertEquals("No such file or directory", GrabberFrameSource.strerror(-2));
    }

    @Test
    void backOffStartsAtHalfASecondAndDoublesToThirtySeconds() {
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            waits.add(GrabberFrameSource.backoffMillis(i));
        }
        assertEquals(List.of(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L, 30_000L), waits);
    }

    @Test
    void sourcesAreClassifiedByScheme() throws Exception {
        assertEquals(FrameSources.Kind.URL, FrameSources.kind("rtsp://cam/stream"));
        assertEquals(FrameSources.Kind.URL, FrameSources.kind("http://cam/video.mjpg"));
        assertEquals(FrameSources.Kind.DEVICE, FrameSources.kind("/dev/video0"));
        assertEquals(FrameSources.Kind.DIRECTORY, FrameSources.kind(dir.toString()));
        assertEquals(FrameSources.Kind.FILE, FrameSources.kind(dir.resolve("clip.mp4").toString()));
        assertTrue(FrameSources.isLiveUrl("RTSP://cam/stream"));
        assertTrue(FrameSources.isLiveUrl("udp://239.0.0.1:1234"));
        assertFalse(FrameSources.isLiveUrl("http://host/clip.mp4"));
        assertEquals("rtsp://***@cam:554/s?x=1", GrabberFrameSource.redact("rtsp://user:pa:ss@cam:554/s?x=1"));
        assertEquals("rtsp://cam/s", GrabberFrameSource.redact("rtsp://cam/s"));
    }

    @Test
    void aMissingCameraDeviceFailsAtOnceWithAHint() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> FrameSources.open("/dev/video-engram-test-missing", SourceOptions.defaults().withFfmpegOptions(Map.of())));
        assertTrue(e.getMessage().contains("/dev/video-engram-test-missing does not exist") && e.getMessage().contains("ls /dev/video*"),
                e.getMessage());
    }
}

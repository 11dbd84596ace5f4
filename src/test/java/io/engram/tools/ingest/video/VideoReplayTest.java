package io.engram.tools.ingest.video;

import io.engram.testkit.TestImages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class VideoReplayTest {
    static final long START = 1_700_000_000_000L;

    /** In-memory frames at a fixed rate, rewindable: a stand-in for a file. */
    static class ListSource implements FrameSource {
        final List<BufferedImage> images;
        final double fps;
        int next;

        ListSource(List<BufferedImage> images, double fps) {
            this.images = images;
            this.fps = fps;
        }

        @Override
        public CapturedFrame next(java.util.function.BooleanSupplier keepGoing) throws java.io.IOException {
            if (next >= images.size()) {
                return null;
            }
            int i = next++;
            BufferedImage img = images.get(i);
            return new CapturedFrame(i, Math.round(i * 1_000_000.0 / fps), -1, "f" + i,
                    () -> {
                        if (img == null) {
                            throw new SkippedFrameException("f" + i, "not a readable image");
                        }
                        return img;
                    });
        }

        @Override
        public boolean rewind() {
            next = 0;
            return true;
        }

        @Override
        public boolean live() {
            return false;
        }

        @Override
        public long frameCount() {
            return images.size();
        }

        @Override
        public double frameRate() {
            return fps;
        }

        @Override
        public String description() {
            return "list";
        }

        @Override
        public void close() {}
    }

    record Refused(String frame, VideoReplay.Refusal why, String detail) {}

    static final class Recorder implements VideoReplay.ProgressListener {
        final List<Refused> refused = new ArrayList<>();
        long lastRead;
        long lastSent;

        @Override
        public void progress(long read, long sent) {
            lastRead = read;
            lastSent = sent;
        }

        @Override
        public void refused(String frame, VideoReplay.Refusal why, String detail) {
            refused.add(new Refused(frame, why, detail));
        }
    }

    static MockProducer<byte[], byte[]> mock() {
        return new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static List<BufferedImage> squares(int n) {
        return IntStream.range(0, n).mapToObj(i -> TestImages.square(32, 24, i % 28, 4, 4)).toList();
    }

    static String header(ProducerRecord<byte[], byte[]> r, String key) {
        return new String(r.headers().lastHeader(key).value(), StandardCharsets.US_ASCII);
    }

    static VideoReplay.Options opts() {
        return VideoReplay.Options.of("frames", "cam-1").withStartEpochMillis(START);
    }

    @Test
    void thirtyFpsSourceAtTenFpsSendsEveryThirdFrameWithContiguousSeqAndCaptureTimestamps() {
        MockProducer<byte[], byte[]> p = mock();
        VideoReplay.Summary s = VideoReplay.send(new ListSource(squares(30), 30), opts().withFps(10), p, null);
        assertEquals(30, s.read());
        assertEquals(10, s.sent());
        assertEquals(20, s.droppedForRate());
        assertEquals(0, s.refused());
        List<ProducerRecord<byte[], byte[]>> h = p.history();
        assertEquals(10, h.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(String.valueOf(i), header(h.get(i), VideoReplay.SEQ_HEADER));
            // Kept frame i is source frame 3i, captured at 3i/30 s = 100 ms * i.
            assertEquals(START + 100L * i, h.get(i).timestamp());
        }
    }

    @Test
    void eachRecordHasTheCameraKeyTheImageAndItsHeaders() throws Exception {
        MockProducer<byte[], byte[]> p = mock();
        VideoReplay.send(new ListSource(squares(3), 10), opts().withEncoding(FrameEncoder.Settings.png().withSize(16, 0)), p,
                VideoReplay.ProgressListener.NONE);
        List<ProducerRecord<byte[], byte[]>> h = p.history();
        assertEquals(3, h.size());
        for (int i = 0; i < 3; i++) {
            ProducerRecord<byte[], byte[]> r = h.get(i);
            assertEquals("frames", r.topic());
            assertEquals("cam-1", new String(r.key(), StandardCharsets.UTF_8));
            assertEquals("image/png", header(r, "content-type"));
            assertEquals("16", header(r, "width"));
            assertEquals("12", header(r, "height"));
            assertEquals(String.valueOf(i), header(r, "seq"));
            assertEquals(START + 100L * i, r.timestamp());
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.value()));
            assertEquals(16, img.getWidth());
            assertEquals(12, img.getHeight());
        }
    }

    @Test
    void aFrameOverTheRecordLimitIsRefusedWithTheFixCountedAndNotSent() {
        MockProducer<byte[], byte[]> p = mock();
        Recorder rec = new Recorder();
        // 600x600 noise as PNG: about 1.08 MB, over the 1,000,000-byte limit.
        List<BufferedImage> frames = List.of(TestImages.square(32, 24, 0, 0, 4), TestImages.noise(600, 600, 3),
                TestImages.square(32, 24, 4, 0, 4));
        VideoReplay.Summary s = VideoReplay.send(new ListSource(frames, 10), opts().withEncoding(FrameEncoder.Settings.png()), p, rec);
        assertEquals(3, s.read());
        assertEquals(2, s.sent());
        assertEquals(1, s.refusedTooLarge());
        assertEquals(1, s.refused());
        assertEquals(1, rec.refused.size());
        Refused r = rec.refused.get(0);
        assertEquals("f1", r.frame());
        assertEquals(VideoReplay.Refusal.TOO_LARGE, r.why());
        assertTrue(r.detail().startsWith("f1 is ") && r.detail().contains("600x600 png")
                && r.detail().contains("over the 1,000,000-byte limit") && r.detail().endsWith("set --width/--height or use --format jpeg"),
                r.detail());
        // The refused frame keeps its seq: the gap shows in the topic.
        assertEquals(List.of("0", "2"), p.history().stream().map(x -> header(x, "seq")).toList());
        assertTrue(p.history().stream().allMatch(x -> VideoReplay.recordSize(x) <= VideoReplay.MAX_RECORD_BYTES));
    }

    @Test
    void aJpegFrameOverTheLimitNamesQualityAsTheFix() {
        Recorder rec = new Recorder();
        // 1000x1000 noise at JPEG quality 100: about 2.5 MB.
        VideoReplay.Summary s = VideoReplay.send(new ListSource(List.of(TestImages.noise(1000, 1000, 4)), 10),
                opts().withEncoding(FrameEncoder.Settings.jpeg().withQuality(100)), mock(), rec);
        assertEquals(0, s.sent());
        assertEquals(1, s.refusedTooLarge());
        assertTrue(rec.refused.get(0).detail().endsWith("1000x1000 jpeg, over the 1,000,000-byte limit for a Kafka record; "
                + "lower --quality or set --width/--height"), rec.refused.get(0).detail());
    }

    @Test
    void theSameLargeFrameFitsOnceResized() {
        MockProducer<byte[], byte[]> p = mock();
        VideoReplay.Summary s = VideoReplay.send(new ListSource(List.of(TestImages.noise(600, 600, 3)), 10),
                opts().withEncoding(FrameEncoder.Settings.png().withSize(300, 0)), p, null);
        assertEquals(1, s.sent());
        assertEquals(0, s.refused());
    }

    @Test
    void recordSizeCountsValueKeyAndHeaderNamesAndValues() {
        FrameEncoder.Encoded e = new FrameEncoder.Encoded(new byte[1000], 640, 480, "image/jpeg");
        ProducerRecord<byte[], byte[]> r = VideoReplay.record("t", "cam", 12, 0, e);
        int headers = "content-type".length() + "image/jpeg".length() + "width".length() + 3 + "height".length() + 3
                + "seq".length() + 2;
        assertEquals(1000 + 3 + headers, VideoReplay.recordSize(r));
    }

    @Test
    void loopContinuesTheTimelineAcrossPassesUntilMaxFrames() {
        MockProducer<byte[], byte[]> p = mock();
        VideoReplay.Summary s = VideoReplay.send(new ListSource(squares(3), 10), opts().withLoop(true).withMaxFrames(7), p, null);
        assertEquals(7, s.sent());
        assertTrue(s.maxFramesReached());
        assertFalse(s.stopped());
        assertEquals(List.of(0L, 100L, 200L, 300L, 400L, 500L, 600L),
                p.history().stream().map(r -> r.timestamp() - START).toList());
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6"), p.history().stream().map(r -> header(r, "seq")).toList());
    }

    @Test
    void unreadableFramesAreReportedCountedAndSkipped() {
        MockProducer<byte[], byte[]> p = mock();
        Recorder rec = new Recorder();
        List<BufferedImage> frames = new ArrayList<>(squares(3));
        frames.set(1, null);
        VideoReplay.Summary s = VideoReplay.send(new ListSource(frames, 10), opts(), p, rec);
        assertEquals(3, s.read());
        assertEquals(2, s.sent());
        assertEquals(1, s.unreadable());
        assertEquals(VideoReplay.Refusal.UNREADABLE, rec.refused.get(0).why());
        assertEquals("f1", rec.refused.get(0).frame());
        assertEquals(3, rec.lastRead);
        assertEquals(2, rec.lastSent);
    }

    @Test
    void keepGoingTurningFalseStopsEarly() {
        MockProducer<byte[], byte[]> p = mock();
        AtomicInteger checks = new AtomicInteger();
        VideoReplay.Summary s = VideoReplay.send(new ListSource(squares(10), 10),
                opts().withKeepGoing(() -> p.history().size() < 4 || checks.incrementAndGet() < 0), p, null);
        assertTrue(s.stopped());
        assertEquals(4, s.sent());
    }

    @Test
    void realtimePacesFramesByCaptureTimeAndDefaultIsAsFastAsPossible() {
        // 6 frames at 20 fps span 250 ms of capture time.
        VideoReplay.Summary paced = VideoReplay.send(new ListSource(squares(6), 20), opts().withRealtime(true), mock(), null);
        assertTrue(paced.elapsed().toMillis() >= 240, "paced replay took " + paced.elapsed());
        // 6 frames 1,000 s apart. Unpaced, the replay asks keepGoing about once a frame; had it paced,
        // it would sit in the first wait asking every few milliseconds, and be stopped after 60 asks
        // with frames unsent. Counted questions, not the clock.
        AtomicInteger asked = new AtomicInteger();
        VideoReplay.Summary fast = VideoReplay.send(new ListSource(squares(6), 0.001),
                opts().withKeepGoing(() -> asked.incrementAndGet() <= 60), mock(), null);
        assertFalse(fast.stopped(), "unpaced replay of 5,000 s of video was asked " + asked.get() + " times");
        assertEquals(6, fast.sent());
    }

    /** A producer whose sends all fail with {@code error}. */
    static final class FailingProducer extends MockProducer<byte[], byte[]> {
        final RuntimeException error;

        FailingProducer(RuntimeException error) {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
            this.error = error;
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            callback.onCompletion(null, error);
            return CompletableFuture.failedFuture(error);
        }
    }

    @Test
    void framesTheBrokerRejectsAsTooLargeAreCountedAndOtherSendFailuresThrow() {
        Recorder rec = new Recorder();
        VideoReplay.Summary s = VideoReplay.send(new ListSource(squares(2), 10), opts(),
                new FailingProducer(new RecordTooLargeException("The message is 900000 bytes")), rec);
        assertEquals(0, s.sent());
        assertEquals(2, s.refusedByBroker());
        assertEquals(VideoReplay.Refusal.BROKER, rec.refused.get(0).why());
        assertTrue(rec.refused.get(0).detail().contains("max.message.bytes"), rec.refused.get(0).detail());

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> VideoReplay.send(new ListSource(squares(2), 10),
                opts(), new FailingProducer(new AuthorizationException("not allowed")), null));
        assertTrue(e.getMessage().contains("topic 'frames'") && e.getMessage().contains("not allowed"), e.getMessage());
    }

    @Test
    void aSourceErrorEndsTheReplayWithTheReasonInTheSummary() {
        FrameSource failing = new ListSource(squares(2), 10) {
            @Override
            public CapturedFrame next(java.util.function.BooleanSupplier keepGoing) throws java.io.IOException {
                if (next >= 2) {
                    throw new java.io.IOException("gave up on rtsp://cam after 3 reconnect attempts");
                }
                return super.next(keepGoing);
            }
        };
        VideoReplay.Summary s = VideoReplay.send(failing, opts(), mock(), null);
        assertEquals(2, s.sent());
        assertEquals("gave up on rtsp://cam after 3 reconnect attempts", s.sourceError());
        assertNull(VideoReplay.send(new ListSource(squares(1), 10), opts(), mock(), null).sourceError());
    }
}

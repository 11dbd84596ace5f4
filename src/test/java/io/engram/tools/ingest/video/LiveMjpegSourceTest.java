package io.engram.tools.ingest.video;

import io.engram.testkit.MjpegServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A live HTTP MJPEG camera ({@link MjpegServer}) read through {@link FrameSources} as
 * {@code --live} does, while the camera goes away and comes back: the source must reconnect by
 * itself, carry on numbering frames (no reset, no duplicate), and not pass on the frame the outage
 * cut in half; and a camera that hangs with the connection open must not hang the reader (the
 * read times out after {@link SourceOptions#timeout()}). Kafka-free; {@link LiveMjpegIngestIT}
 * does the same through {@code engram ingest video --live} into a topic.
 */
class LiveMjpegSourceTest {
    static final int W = 192;
    static final int H = 144;
    static final double FPS = 20;
    /** Generous: only a wait, never a performance claim. */
    static final Duration WAIT = Duration.ofSeconds(20);

    /** One frame as the reader saw it. */
    record Seen(long index, long served, boolean torn, int width, int height, long epochMillis) {}

    /** Reads a source on its own thread until stopped, keeping what each frame was. */
    static final class Reader {
        final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final AtomicBoolean ended = new AtomicBoolean();
        final Thread thread;

        Reader(FrameSource src) {
            thread = new Thread(() -> {
                try {
                    CapturedFrame f;
                    while ((f = src.next(running::get)) != null) {
                        BufferedImage img = f.image();
                        long n = MjpegServer.frameNumber(img);
                        seen.add(new Seen(f.index(), n, MjpegServer.torn(img), img.getWidth(), img.getHeight(), f.epochMillis()));
                    }
                } catch (Throwable t) {
                    error.set(t);
                } finally {
                    ended.set(true);
                }
            }, "live-mjpeg-reader");
            thread.setDaemon(true);
            thread.start();
        }

        /** Waits until {@code done} holds (fails after {@link #WAIT}, or if the reader ended). */
        void await(String what, BooleanSupplier done) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!done.getAsBoolean()) {
                if (ended.get()) {
                    fail("the reader ended while waiting for " + what + ": " + error.get());
                }
                if (System.nanoTime() > deadline) {
                    fail("timed out after " + WAIT.toSeconds() + " s waiting for " + what + "; frames so far: " + seen.size());
                }
                Thread.sleep(20);
            }
        }

        long afterServed(long n) {
            synchronized (seen) {
                return seen.stream().filter(s -> s.served() >= n).count();
            }
        }

        /**
         * Stops the reader and waits for it. A reader stuck in a read (the bug this test looks for)
         * is freed by cutting the camera's connections, then the test fails.
         */
        void stop(MjpegServer camera) throws InterruptedException {
            running.set(false);
            thread.join(WAIT.toMillis());
            if (thread.isAlive()) {
                camera.close();
                thread.join(WAIT.toMillis());
                fail("the reader was stuck in a read until the camera's connections were cut");
            }
        }
    }

    /** Frame indexes 0, 1, 2, ... with no reset; whole frames of the served size; each served frame at most once, in order. */
    private static void assertFramesInOrder(List<Seen> seen) {
        for (int i = 0; i < seen.size(); i++) {
            Seen s = seen.get(i);
            assertEquals(i, s.index(), "frame indexes continue across the reconnect: " + seen);
            assertEquals(W, s.width(), "frame " + i);
            assertEquals(H, s.height(), "frame " + i);
            assertFalse(s.torn(), "frame " + i + " (served frame " + s.served() + ") is torn: its JPEG was cut short "
                    + "by the outage and decoded anyway, the rest of the picture left from an earlier frame");
            assertTrue(s.epochMillis() > 0, "live frames carry the wall clock");
            if (i > 0) {
                assertTrue(s.served() > seen.get(i - 1).served(), "each served frame at most once, in order: frame " + i
                        + " is served frame " + s.served() + " after " + seen.get(i - 1).served());
            }
        }
    }

    private static SourceOptions live(List<String> log, Duration timeout) {
        return SourceOptions.defaults().withLive(true).withTimeout(timeout).withLog(log::add);
    }

    @Test
    @Timeout(60)
    void anHttpMjpegCameraThatGoesAwayAndComesBackIsReconnectedAndFramesKeepTheirOrder() throws Exception {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (MjpegServer camera = MjpegServer.start(W, H, FPS);
                FrameSource src = FrameSources.open(camera.url(), live(log, Duration.ofSeconds(5)))) {
            assertTrue(src.live());
            Reader r = new Reader(src);
            long cutAt;
            long restartedAt;
            try {
                r.await("20 frames", () -> r.seen.size() >= 20);
                camera.stopMidFrame(); // cut mid-stream, half-way through a JPEG; the port refuses connections until restart
                cutAt = camera.framesServed();
                r.await("the source to notice the outage", () -> log.stream().anyMatch(l -> l.contains("reconnecting in")));
                Thread.sleep(1_500);
                camera.restart();
                restartedAt = camera.framesServed();
                r.await("20 frames after the restart", () -> r.afterServed(restartedAt) >= 20);
            } finally {
                r.stop(camera);
            }
            assertNull(r.error.get(), () -> "the reader failed: " + r.error.get());
            assertEquals(cutAt, restartedAt, "nothing served while stopped");

            List<Seen> seen = List.copyOf(r.seen);
            assertFramesInOrder(seen);
            assertTrue(seen.stream().filter(s -> s.served() < cutAt).count() >= 10, "frames from before the outage: " + seen);
            assertTrue(src.reconnectAttempts() >= 1, "a reconnect attempt is counted");
            assertTrue(camera.connections() >= 2, "the camera was connected to again: " + camera.connections());
            assertTrue(log.stream().anyMatch(l -> l.startsWith("engram: lost " + camera.url())), log.toString());
            assertTrue(log.stream().anyMatch(l -> l.equals("engram: reconnected to " + camera.url())), log.toString());
        }
    }

    @Test
    @Timeout(60)
    void aCameraThatHangsWithTheConnectionOpenTimesOutAndIsReconnected() throws Exception {
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (MjpegServer camera = MjpegServer.start(W, H, FPS);
                FrameSource src = FrameSources.open(camera.url(), live(log, Duration.ofSeconds(1)))) {
            Reader r = new Reader(src);
            long resumedAt;
            try {
                r.await("10 frames", () -> r.seen.size() >= 10);
                camera.stall(true); // the connection stays open, nothing more arrives
                r.await("the read to time out", () -> log.stream().anyMatch(l -> l.contains("reconnecting in")));
                camera.stall(false);
                resumedAt = camera.framesServed();
                r.await("10 frames after the stall", () -> r.afterServed(resumedAt) >= 10);
            } finally {
                r.stop(camera);
            }
            assertNull(r.error.get(), () -> "the reader failed: " + r.error.get());
            assertFramesInOrder(List.copyOf(r.seen));
            assertTrue(src.reconnectAttempts() >= 1, "a reconnect attempt is counted");
            assertTrue(camera.connections() >= 2, "the camera was connected to again: " + camera.connections());
            assertTrue(log.stream().anyMatch(l -> l.startsWith("engram: lost " + camera.url())), log.toString());
        }
    }
}

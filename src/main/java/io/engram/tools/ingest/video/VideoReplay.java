package io.engram.tools.ingest.video;

import io.engram.engine.errors.ConfigException;
import io.engram.tools.ingest.Pacing;
import io.engram.tools.kafka.KafkaClients;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends video frames to a Kafka topic, the logic behind {@code engram ingest video}, callable
 * directly (e.g. by a demo) with any {@link FrameSource}.
 *
 * <p><b>Records.</b> One record per frame sent: key = the camera id (UTF-8), value = the encoded
 * image (JPEG or PNG, see {@link FrameEncoder}), headers {@value #CONTENT_TYPE_HEADER}
 * ({@code image/jpeg} or {@code image/png}), {@value #WIDTH_HEADER} and {@value #HEIGHT_HEADER} (the
 * encoded size, decimal ASCII) and {@value #SEQ_HEADER} (decimal ASCII, from 0: the frame's number
 * among those kept after {@code fps} dropping; a frame refused as too large keeps its number, so a
 * gap in {@code seq} means a frame that was too large to send). Record timestamp = capture time in epoch ms: for files, the
 * start time plus the frame's presentation-time offset; for image directories, the start plus
 * {@code index / source fps}; for live sources, the wall clock at the grab. With {@code loop}, later
 * passes continue the timeline (the timestamps keep increasing).
 *
 * <p><b>Rate and pacing.</b> {@code fps > 0} drops frames by capture time to reach that rate (see
 * {@link FrameRateFilter}). {@code realtime} sends file and directory frames no faster than their
 * capture times (live sources are paced by the camera anyway); otherwise files go as fast as they
 * decode.
 *
 * <p><b>Size limit.</b> A frame whose record (value + key + headers) is over
 * {@value #MAX_RECORD_BYTES} bytes would be rejected by a broker with Kafka's default 1 MB message
 * limit: it is refused here instead, reported to the listener and counted, and the replay goes on.
 *
 * <p><b>Ownership.</b> Stateless. The caller owns the source and the producer (see
 * {@link #producer}) and closes both; {@link #send} flushes the producer before it returns. The
 * listener is called on the calling thread only.
 */
public final class VideoReplay {
    /** Largest record (value + key + headers) sent; larger frames are refused. Kafka's default limit is 1,048,588 bytes with overhead. */
    public static final int MAX_RECORD_BYTES = 1_000_000;
    public static final String CONTENT_TYPE_HEADER = "content-type";
    public static final String WIDTH_HEADER = "width";
    public static final String HEIGHT_HEADER = "height";
    public static final String SEQ_HEADER = "seq";
    /** The fix named when a JPEG frame is too large. */
    public static final String TOO_LARGE_FIX = "lower --quality or set --width/--height";
    /** The fix named when a PNG frame is too large (PNG has no quality setting). */
    public static final String TOO_LARGE_FIX_PNG = "set --width/--height or use --format jpeg";

    /** Longest single sleep while pacing, so that a stop request is never late. */
    private static final long MAX_SLEEP_MS = 50;

    private VideoReplay() {}

    /**
     * What to send and how.
     *
     * @param topic the topic
     * @param cameraId the record key
     * @param encoding image format, quality and size
     * @param fps target frame rate; 0 = keep every frame
     * @param realtime pace file and directory frames by their capture times
     * @param loop files and directories: start again at the end (until stopped or {@code maxFrames})
     * @param maxFrames stop after this many frames handed to the producer; 0 = no limit
     * @param startEpochMillis epoch ms of the first file/directory frame; -1 = the wall clock when sending starts
     * @param keepGoing checked before each frame and while waiting; false stops the replay (Ctrl-C)
     */
    public record Options(String topic, String cameraId, FrameEncoder.Settings encoding, double fps, boolean realtime,
            boolean loop, long maxFrames, long startEpochMillis, BooleanSupplier keepGoing) {
        public Options {
            if (topic == null || topic.isBlank()) {
                throw new IllegalArgumentException("topic is empty");
            }
            if (cameraId == null || cameraId.isEmpty()) {
                throw new IllegalArgumentException("camera id is empty");
            }
            if (encoding == null) {
                throw new IllegalArgumentException("encoding is null");
            }
            if (fps < 0 || !Double.isFinite(fps)) {
                throw new IllegalArgumentException("fps must be positive (0 = every frame), not " + fps);
            }
            if (maxFrames < 0) {
                throw new IllegalArgumentException("maxFrames must be positive (0 = no limit), not " + maxFrames);
            }
            if (keepGoing == null) {
                keepGoing = () -> true;
            }
        }

        /** JPEG at quality 85, every frame, as fast as possible, one pass, starting now. */
        public static Options of(String topic, String cameraId) {
            return new Options(topic, cameraId, FrameEncoder.Settings.jpeg(), 0, false, false, 0, -1, () -> true);
        }

        public Options withEncoding(FrameEncoder.Settings e) {
            return new Options(topic, cameraId, e, fps, realtime, loop, maxFrames, startEpochMillis, keepGoing);
        }

        public Options withFps(double f) {
            return new Options(topic, cameraId, encoding, f, realtime, loop, maxFrames, startEpochMillis, keepGoing);
        }

        public Options withRealtime(boolean r) {
            return new Options(topic, cameraId, encoding, fps, r, loop, maxFrames, startEpochMillis, keepGoing);
        }

        public Options withLoop(boolean l) {
            return new Options(topic, cameraId, encoding, fps, realtime, l, maxFrames, startEpochMillis, keepGoing);
        }

        public Options withMaxFrames(long n) {
            return new Options(topic, cameraId, encoding, fps, realtime, loop, n, startEpochMillis, keepGoing);
        }

        public Options withStartEpochMillis(long ms) {
            return new Options(topic, cameraId, encoding, fps, realtime, loop, maxFrames, ms, keepGoing);
        }

        public Options withKeepGoing(BooleanSupplier k) {
            return new Options(topic, cameraId, encoding, fps, realtime, loop, maxFrames, startEpochMillis, k);
        }
    }

    /** Why a frame was not sent. */
    public enum Refusal {
        /** Its record would be over {@link #MAX_RECORD_BYTES}. */
        TOO_LARGE,
        /** The source could not decode it (e.g. a corrupt image file). */
        UNREADABLE,
        /** The broker rejected it as too large (its limit is lower than the default). */
        BROKER
    }

    /** Hears about a replay's progress; every method has a no-op default. Called on the replay's thread. */
    public interface ProgressListener {
        ProgressListener NONE = new ProgressListener() {};

        /**
         * Called after every frame read and every frame handed to the producer (so possibly very often:
         * throttle drawing).
         *
         * @param read frames read from the source so far, dropped and refused ones included
         * @param sent frames handed to the producer so far
         */
        default void progress(long read, long sent) {}

        /**
         * A frame was not sent.
         *
         * @param frame the frame's label ({@link CapturedFrame#label()})
         * @param why the kind of refusal
         * @param detail a one-line explanation with the fix, e.g. "1,234,567 bytes, over the ... limit; lower --quality ..."
         */
        default void refused(String frame, Refusal why, String detail) {}
    }

    /**
     * What a replay did.
     *
     * @param read frames read from the source (all passes)
     * @param sent frames acknowledged by the broker
     * @param droppedForRate frames dropped to reach {@code fps}
     * @param refusedTooLarge frames refused for being over {@link #MAX_RECORD_BYTES}
     * @param unreadable frames the source could not decode
     * @param refusedByBroker frames the broker rejected as too large
     * @param reconnectAttempts the source's reconnect attempts (live sources)
     * @param bytesSent encoded bytes of the frames handed to the producer
     * @param width the last sent frame's width, 0 if none
     * @param height the last sent frame's height, 0 if none
     * @param elapsed wall time from the start to the final flush
     * @param stopped true when {@code keepGoing} turned false
     * @param maxFramesReached true when the replay stopped at {@code maxFrames}
     * @param sourceError why the source failed for good (e.g. gave up reconnecting), or null
     */
    public record Summary(long read, long sent, long droppedForRate, long refusedTooLarge, long unreadable,
            long refusedByBroker, long reconnectAttempts, long bytesSent, int width, int height, Duration elapsed,
            boolean stopped, boolean maxFramesReached, String sourceError) {
        /** All frames not sent for a reason other than rate dropping. */
        public long refused() {
            return refusedTooLarge + unreadable + refusedByBroker;
        }
    }

    /**
     * A producer for frames: idempotent with {@code acks=all} (no duplicated or reordered frames on
     * retries), {@code linger.ms=5}, no compression (JPEG and PNG are compressed already). The caller closes it.
     *
     * @throws ConfigException when the bootstrap address is malformed
     */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return producer(bootstrap, java.util.Map.of());
    }

    /** As {@link #producer(String)}, with the user's client properties (security settings) added. */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap, java.util.Map<String, String> client) {
        return KafkaClients.ingestProducer(bootstrap, "engram-ingest-video",
                java.util.Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"), client);
    }

    /** The record for one encoded frame. */
    public static ProducerRecord<byte[], byte[]> record(String topic, String cameraId, long seq, long timestampMs,
            FrameEncoder.Encoded frame) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(CONTENT_TYPE_HEADER, frame.contentType().getBytes(StandardCharsets.US_ASCII));
        headers.add(WIDTH_HEADER, ascii(frame.width()));
        headers.add(HEIGHT_HEADER, ascii(frame.height()));
        headers.add(SEQ_HEADER, ascii(seq));
        return new ProducerRecord<>(topic, null, timestampMs, cameraId.getBytes(StandardCharsets.UTF_8), frame.bytes(), headers);
    }

    /** Value + key + header keys and values, in bytes: what {@link #MAX_RECORD_BYTES} limits. */
    public static int recordSize(ProducerRecord<byte[], byte[]> r) {
        long n = (r.value() == null ? 0 : r.value().length) + (r.key() == null ? 0 : r.key().length);
        for (Header h : r.headers()) {
            n += h.key().getBytes(StandardCharsets.UTF_8).length + (h.value() == null ? 0 : h.value().length);
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    private static byte[] ascii(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Reads {@code src} to its end (or until stopped, or {@code maxFrames}) and sends its frames to
     * {@code opts.topic()}, then flushes the producer. A source that fails for good (a live stream
     * out of reconnect attempts) ends the replay normally, with {@link Summary#sourceError()} set.
     *
     * @throws IllegalStateException when the broker rejects a frame for a reason other than its size
     *     (after the producer's own retries): unknown topic, no access, ...
     */
    public static Summary send(FrameSource src, Options opts, Producer<byte[], byte[]> producer, ProgressListener listener) {
        ProgressListener l = listener != null ? listener : ProgressListener.NONE;
        BooleanSupplier keepGoing = opts.keepGoing();
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        Queue<String[]> brokerRefusals = new ConcurrentLinkedQueue<>();
        long startNanos = System.nanoTime();
        long startEpoch = opts.startEpochMillis() >= 0 ? opts.startEpochMillis() : System.currentTimeMillis();
        FrameRateFilter filter = new FrameRateFilter(opts.fps());
        boolean live = src.live();
        boolean pace = opts.realtime() && !live;

        long read = 0;
        long handed = 0;
        long dropped = 0;
        long tooLarge = 0;
        long unreadable = 0;
        long refusedByBroker = 0;
        long bytes = 0;
        long seq = 0;
        int width = 0;
        int height = 0;
        boolean stopped = false;
        boolean maxReached = false;
        String sourceError = null;
        // The timeline across --loop passes.
        long passBase = 0;
        long lastMedia = -1;
        long lastDelta = 0;
        boolean passUseful = false;
        long paceOriginNanos = 0;
        long paceOriginMedia = -1;

        try (FrameEncoder encoder = new FrameEncoder(opts.encoding())) {
            while (true) {
                refusedByBroker += drain(brokerRefusals, l, opts);
                if (failure.get() != null) {
                    break;
                }
                if (!keepGoing.getAsBoolean()) {
                    stopped = true;
                    break;
                }
                if (opts.maxFrames() > 0 && handed >= opts.maxFrames()) {
                    maxReached = true;
                    break;
                }
                CapturedFrame f;
                try {
                    f = src.next(keepGoing);
                } catch (SkippedFrameException e) {
                    read++;
                    unreadable++;
                    l.refused(e.frame(), Refusal.UNREADABLE, e.getMessage());
                    l.progress(read, handed);
                    continue;
                } catch (IOException e) {
                    sourceError = e.getMessage();
                    break;
                }
                if (f == null) {
                    if (!keepGoing.getAsBoolean()) {
                        stopped = true;
                        break;
                    }
                    if (opts.loop() && !live && passUseful) {
                        try {
                            if (src.rewind()) {
                                long interval = src.frameRate() > 0 ? Math.round(1_000_000 / src.frameRate())
                                        : lastDelta > 0 ? lastDelta : 100_000;
                                passBase = lastMedia + interval;
                                passUseful = false;
                                continue;
                            }
                        } catch (IOException e) {
                            sourceError = "cannot restart " + src.description() + " for --loop: " + e.getMessage();
                        }
                    }
                    break;
                }
                read++;
                long media = passBase + f.offsetMicros();
                if (lastMedia >= 0 && media > lastMedia) {
                    lastDelta = media - lastMedia;
                }
                lastMedia = Math.max(lastMedia, media);
                if (!filter.keep(media)) {
                    dropped++;
                    passUseful = true;
                    l.progress(read, handed);
                    continue;
                }
                if (pace) {
                    if (paceOriginMedia < 0) {
                        paceOriginMedia = media;
                        paceOriginNanos = System.nanoTime();
                    }
                    if (!Pacing.sleepUntil(paceOriginNanos + (media - paceOriginMedia) * 1000, keepGoing, MAX_SLEEP_MS, () -> { })) {
                        stopped = true;
                        break;
                    }
                }
                FrameEncoder.Encoded encoded;
                try {
                    BufferedImage image = f.image();
                    encoded = encoder.encode(image);
                } catch (SkippedFrameException e) {
                    unreadable++;
                    l.refused(f.label(), Refusal.UNREADABLE, e.getMessage());
                    l.progress(read, handed);
                    continue;
                } catch (IOException | RuntimeException e) {
                    unreadable++;
                    l.refused(f.label(), Refusal.UNREADABLE, f.label() + ": cannot encode it (" + e + ")");
                    l.progress(read, handed);
                    continue;
                }
                passUseful = true;
                long ts = live && f.epochMillis() >= 0 ? f.epochMillis() : startEpoch + Math.floorDiv(media, 1000);
                ProducerRecord<byte[], byte[]> rec = record(opts.topic(), opts.cameraId(), seq++, ts, encoded);
                int size = recordSize(rec);
                if (size > MAX_RECORD_BYTES) {
                    tooLarge++;
                    l.refused(f.label(), Refusal.TOO_LARGE, String.format(Locale.ROOT,
                            "%s is %,d bytes as %dx%d %s, over the %,d-byte limit for a Kafka record; %s",
                            f.label(), size, encoded.width(), encoded.height(), opts.encoding().format().lowerName(),
                            MAX_RECORD_BYTES, tooLargeFix(opts.encoding().format())));
                    l.progress(read, handed);
                    continue;
                }
                String label = f.label();
                producer.send(rec, (md, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                    } else if (e instanceof RecordTooLargeException) {
                        brokerRefusals.add(new String[] {label, e.getMessage()});
                    } else {
                        failure.compareAndSet(null, e);
                    }
                });
                handed++;
                bytes += encoded.bytes().length;
                width = encoded.width();
                height = encoded.height();
                l.progress(read, handed);
            }
        }
        producer.flush();
        refusedByBroker += drain(brokerRefusals, l, opts);
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("sending to topic '" + opts.topic() + "' failed after " + acked.get() + " frames: "
                    + e.getMessage(), e);
        }
        return new Summary(read, acked.get(), dropped, tooLarge, unreadable, refusedByBroker, src.reconnectAttempts(), bytes,
                width, height, Duration.ofNanos(System.nanoTime() - startNanos), stopped, maxReached, sourceError);
    }

    /** How to make a too-large frame fit, for messages. */
    public static String tooLargeFix(FrameEncoder.Format format) {
        return format == FrameEncoder.Format.PNG ? TOO_LARGE_FIX_PNG : TOO_LARGE_FIX;
    }

    private static int drain(Queue<String[]> refusals, ProgressListener l, Options opts) {
        int n = 0;
        String[] r;
        while ((r = refusals.poll()) != null) {
            n++;
            l.refused(r[0], Refusal.BROKER, r[0] + " was rejected by the broker: " + r[1] + "; " + tooLargeFix(opts.encoding().format())
                    + ", or raise the topic's max.message.bytes");
        }
        return n;
    }
}

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
import org.apache.kafka.clients.producer.Callback;
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
            return edit(d -> d.encoding = e);
        }

        public Options withFps(double f) {
            return edit(d -> d.fps = f);
        }

        public Options withRealtime(boolean r) {
            return edit(d -> d.realtime = r);
        }

        public Options withLoop(boolean l) {
            return edit(d -> d.loop = l);
        }

        public Options withMaxFrames(long n) {
            return edit(d -> d.maxFrames = n);
        }

        public Options withStartEpochMillis(long ms) {
            return edit(d -> d.startEpochMillis = ms);
        }

        public Options withKeepGoing(BooleanSupplier k) {
            return edit(d -> d.keepGoing = k);
        }

        /** A copy with {@code change} applied, checked as a new one is. */
        private Options edit(java.util.function.Consumer<Draft> change) {
            Draft d = new Draft(this);
            change.accept(d);
            return new Options(d.topic, d.cameraId, d.encoding, d.fps, d.realtime, d.loop, d.maxFrames, d.startEpochMillis, d.keepGoing);
        }
    }

    /** The components of an {@link Options} while one of its {@code with} methods changes one. */
    private static final class Draft {
        String topic;
        String cameraId;
        FrameEncoder.Settings encoding;
        double fps;
        boolean realtime;
        boolean loop;
        long maxFrames;
        long startEpochMillis;
        BooleanSupplier keepGoing;

        Draft(Options o) {
            topic = o.topic();
            cameraId = o.cameraId();
            encoding = o.encoding();
            fps = o.fps();
            realtime = o.realtime();
            loop = o.loop();
            maxFrames = o.maxFrames();
            startEpochMillis = o.startEpochMillis();
            keepGoing = o.keepGoing();
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
     * ordinary retries; a broker outage can still, rarely, double a batch in flight), {@code linger.ms=5}, no compression (JPEG and PNG are compressed already). The caller closes it.
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
        Replay replay = new Replay(src, opts, producer, listener != null ? listener : ProgressListener.NONE);
        try (FrameEncoder encoder = new FrameEncoder(opts.encoding())) {
            replay.run(encoder);
        }
        return replay.finish();
    }

    /** How to make a too-large frame fit, for messages. */
    public static String tooLargeFix(FrameEncoder.Format format) {
        return format == FrameEncoder.Format.PNG ? TOO_LARGE_FIX_PNG : TOO_LARGE_FIX;
    }

    /**
     * One {@link #send}: the loop over the source's frames, and the counts it reports. Owned by the
     * calling thread; the producer's answers come through {@link Acks}.
     */
    private static final class Replay {
        private final FrameSource src;
        private final Options opts;
        private final Producer<byte[], byte[]> producer;
        private final ProgressListener l;
        private final BooleanSupplier keepGoing;
        private final Acks acks = new Acks();
        private final Timeline timeline = new Timeline();
        private final FrameRateFilter filter;
        private final boolean live;
        private final boolean pace;
        private final long startNanos = System.nanoTime();
        private final long startEpoch;

        private long read;
        private long handed;
        private long dropped;
        private long tooLarge;
        private long unreadable;
        private long refusedByBroker;
        private long bytes;
        private long seq;
        private int width;
        private int height;
        private boolean stopped;
        private boolean maxReached;
        private String sourceError;
        private long paceOriginNanos;
        private long paceOriginMedia = -1;

        Replay(FrameSource src, Options opts, Producer<byte[], byte[]> producer, ProgressListener l) {
            this.src = src;
            this.opts = opts;
            this.producer = producer;
            this.l = l;
            this.keepGoing = opts.keepGoing();
            this.startEpoch = opts.startEpochMillis() >= 0 ? opts.startEpochMillis() : System.currentTimeMillis();
            this.filter = new FrameRateFilter(opts.fps());
            this.live = src.live();
            this.pace = opts.realtime() && !live;
        }

        /** Sends frames until the source ends (all passes), a stop, {@code maxFrames}, or a failed send. */
        void run(FrameEncoder encoder) {
            while (true) {
                refusedByBroker += acks.drain(l, opts);
                if (acks.failure.get() != null) {
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
                    unreadable(e.frame(), e.getMessage());
                    continue;
                } catch (IOException e) {
                    sourceError = e.getMessage();
                    break;
                }
                if (f == null ? !nextPass() : !handle(f, encoder)) {
                    break;
                }
            }
        }

        /** At the source's end: true when another {@code loop} pass starts; false to end the replay. */
        private boolean nextPass() {
            if (!keepGoing.getAsBoolean()) {
                stopped = true;
                return false;
            }
            if (opts.loop() && !live && timeline.passUseful) {
                try {
                    if (src.rewind()) {
                        timeline.nextPass(src.frameRate());
                        return true;
                    }
                } catch (IOException e) {
                    sourceError = "cannot restart " + src.description() + " for --loop: " + e.getMessage();
                }
            }
            return false;
        }

        /** Drops, paces, encodes and sends one frame read; false when stopped while pacing. */
        private boolean handle(CapturedFrame f, FrameEncoder encoder) {
            read++;
            long media = timeline.media(f.offsetMicros());
            if (!filter.keep(media)) {
                dropped++;
                timeline.passUseful = true;
                l.progress(read, handed);
                return true;
            }
            if (pace && !paceTo(media)) {
                stopped = true;
                return false;
            }
            FrameEncoder.Encoded encoded = encode(f, encoder);
            if (encoded == null) {
                return true;
            }
            timeline.passUseful = true;
            long ts = live && f.epochMillis() >= 0 ? f.epochMillis() : startEpoch + Math.floorDiv(media, 1000);
            send(f.label(), record(opts.topic(), opts.cameraId(), seq++, ts, encoded), encoded);
            return true;
        }

        /** Waits until the frame at {@code media} is due, the first paced frame setting the clock; false when stopped. */
        private boolean paceTo(long media) {
            if (paceOriginMedia < 0) {
                paceOriginMedia = media;
                paceOriginNanos = System.nanoTime();
            }
            return Pacing.sleepUntil(paceOriginNanos + (media - paceOriginMedia) * 1000, keepGoing, MAX_SLEEP_MS, () -> { });
        }

        /** The encoded frame; null when it cannot be decoded or encoded (reported and counted). */
        private FrameEncoder.Encoded encode(CapturedFrame f, FrameEncoder encoder) {
            try {
                BufferedImage image = f.image();
                return encoder.encode(image);
            } catch (SkippedFrameException e) {
                unreadable(f.label(), e.getMessage());
            } catch (IOException | RuntimeException e) {
                unreadable(f.label(), f.label() + ": cannot encode it (" + e + ")");
            }
            return null;
        }

        /** Hands the record to the producer, or refuses it when it is over {@link #MAX_RECORD_BYTES}. */
        private void send(String label, ProducerRecord<byte[], byte[]> rec, FrameEncoder.Encoded encoded) {
            int size = recordSize(rec);
            if (size > MAX_RECORD_BYTES) {
                tooLarge++;
                l.refused(label, Refusal.TOO_LARGE, String.format(Locale.ROOT,
                        "%s is %,d bytes as %dx%d %s, over the %,d-byte limit for a Kafka record; %s",
                        label, size, encoded.width(), encoded.height(), opts.encoding().format().lowerName(),
                        MAX_RECORD_BYTES, tooLargeFix(opts.encoding().format())));
                l.progress(read, handed);
                return;
            }
            producer.send(rec, acks.callback(label));
            handed++;
            bytes += encoded.bytes().length;
            width = encoded.width();
            height = encoded.height();
            l.progress(read, handed);
        }

        private void unreadable(String label, String detail) {
            unreadable++;
            l.refused(label, Refusal.UNREADABLE, detail);
            l.progress(read, handed);
        }

        /** Flushes the producer and counts what the broker answered. */
        Summary finish() {
            producer.flush();
            refusedByBroker += acks.drain(l, opts);
            Exception e = acks.failure.get();
            if (e != null) {
                throw new IllegalStateException("sending to topic '" + opts.topic() + "' failed after " + acks.acked.get() + " frames: "
                        + e.getMessage(), e);
            }
            return new Summary(read, acks.acked.get(), dropped, tooLarge, unreadable, refusedByBroker, src.reconnectAttempts(), bytes,
                    width, height, Duration.ofNanos(System.nanoTime() - startNanos), stopped, maxReached, sourceError);
        }
    }

    /** Media time in microseconds across {@code loop} passes: each pass continues one frame interval after the last frame. */
    private static final class Timeline {
        private long passBase;
        private long lastMedia = -1;
        private long lastDelta;
        /** Whether this pass had a frame kept or dropped for rate: a pass of only unreadable frames ends the loop. */
        boolean passUseful;

        /** The media time of a frame at {@code offsetMicros} into the current pass. */
        long media(long offsetMicros) {
            long media = passBase + offsetMicros;
            if (lastMedia >= 0 && media > lastMedia) {
                lastDelta = media - lastMedia;
            }
            lastMedia = Math.max(lastMedia, media);
            return media;
        }

        /** Starts the next pass, one frame interval (the source's, else the last seen, else 100 ms) after the last frame. */
        void nextPass(double frameRate) {
            long interval = frameRate > 0 ? Math.round(1_000_000 / frameRate) : lastDelta > 0 ? lastDelta : 100_000;
            passBase = lastMedia + interval;
            passUseful = false;
        }
    }

    /**
     * The producer's answers to one replay's frames. They come on the producer's I/O thread; the
     * replay's thread reads them, and reports the broker's refusals to its listener, through {@link #drain}.
     */
    private static final class Acks {
        final AtomicLong acked = new AtomicLong();
        final AtomicReference<Exception> failure = new AtomicReference<>();
        private final Queue<String[]> brokerRefusals = new ConcurrentLinkedQueue<>();

        /** The send callback for the frame {@code label}. */
        Callback callback(String label) {
            return (md, e) -> {
                if (e == null) {
                    acked.incrementAndGet();
                } else if (e instanceof RecordTooLargeException) {
                    brokerRefusals.add(new String[] {label, e.getMessage()});
                } else {
                    failure.compareAndSet(null, e);
                }
            };
        }

        /** Reports the broker's refusals since the last call; returns how many. */
        int drain(ProgressListener l, Options opts) {
            int n = 0;
            String[] r;
            while ((r = brokerRefusals.poll()) != null) {
                n++;
                l.refused(r[0], Refusal.BROKER, r[0] + " was rejected by the broker: " + r[1] + "; " + tooLargeFix(opts.encoding().format())
                        + ", or raise the topic's max.message.bytes");
            }
            return n;
        }
    }
}

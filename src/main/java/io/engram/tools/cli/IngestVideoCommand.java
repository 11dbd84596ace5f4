package io.engram.tools.cli;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.KafkaProperties;
import io.engram.tools.console.ProgressBar;
import io.engram.tools.ingest.video.FrameEncoder;
import io.engram.tools.ingest.video.FrameSource;
import io.engram.tools.ingest.video.FrameSources;
import io.engram.tools.ingest.video.SourceOptions;
import io.engram.tools.console.Shutdown;
import io.engram.tools.console.StatusLine;
import io.engram.tools.ingest.video.VideoReplay;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code engram ingest video}: sends the frames of a video file, a network stream, a camera or a
 * directory of images to a topic, one encoded image per record. Wiring only: opening is
 * {@link FrameSources}', encoding {@link FrameEncoder}'s and sending {@link VideoReplay}'s, which
 * the tests (and other commands) call directly.
 */
@Command(name = "video", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Send video frames to a topic, one JPEG or PNG image per record.",
            "",
            "SOURCE is a video file (mp4, avi, mkv, ...: whatever FFmpeg reads),",
            "a directory of images (png, jpg, jpeg, bmp; in file-name order, at",
            "--source-fps), an rtsp:// URL (or rtmp://, udp://, srt://, http://),",
            "or a V4L2 camera such as /dev/video0. Live sources (cameras, rtsp://)",
            "reconnect with back-off (0.5 s doubling to 30 s) when the stream drops,",
            "until Ctrl-C or --max-reconnects.",
            "",
            "Record: key = the camera id, value = the image, timestamp = capture",
            "time in epoch ms (files: start time + the frame's offset in the video),",
            "headers content-type (image/jpeg or image/png), width, height and seq",
            "(0, 1, 2, ...). A frame whose record would be over 1,000,000 bytes",
            "(Kafka's default limit is 1 MB) is refused with a warning and counted:",
            "lower --quality or set --width/--height.",
            ""},
        footer = {"", "Examples:",
            "  ./engram ingest video -s clip.mp4 -c cam-1 -t frames \\",
            "      -b localhost:9092 --fps 5 --width 640",
            "  ./engram ingest video -s rtsp://user:pass@10.0.0.7/stream1 -c door \\",
            "      -t frames -b localhost:9092 --fps 2 --quality 70",
            "  ./engram ingest video -s /dev/video0 -c desk -t frames \\",
            "      -b localhost:9092 --fps 10",
            "  ./engram ingest video -s shots/ --source-fps 30 --format png \\",
            "      -c sim -t frames -b localhost:9092 --realtime --loop"})
public final class IngestVideoCommand implements Callable<Integer> {
    /** At most this many refused-frame warnings are printed; the summary counts them all. */
    static final int MAX_WARNINGS = 20;

    @Option(names = {"--source", "-s"}, required = true, paramLabel = "SOURCE",
            description = {"Video file, directory of images, rtsp:// (or other FFmpeg) URL, or camera device (/dev/video0).",
                "$${NAME} takes an environment variable, so that a camera's password stays out of argv and shell history:",
                "-s 'rtsp://admin:$${CAM_PASSWORD}@cam/stream' (in single quotes, for the shell to leave it)."})
    String source;

    @Option(names = {"--camera", "-c"}, required = true, paramLabel = "ID", description = "Camera id: the record key.")
    String camera;

    @Option(names = {"--topic", "-t"}, required = true, paramLabel = "TOPIC", description = "Topic to write to.")
    String topic;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Option(names = "--fps", paramLabel = "N", converter = PositiveDouble.class,
            description = "Target frame rate: drop frames (by capture time) to reach it (default: send every frame).")
    Double fps;

    @Option(names = "--width", paramLabel = "W", description = "Resize to this width (with only --width, the height keeps the aspect ratio).")
    Integer width;

    @Option(names = "--height", paramLabel = "H", description = "Resize to this height (with only --height, the width keeps the aspect ratio).")
    Integer height;

    @Option(names = "--format", paramLabel = "jpeg|png", defaultValue = "jpeg", converter = FormatConverter.class,
            description = "Image format of the records (default: ${DEFAULT-VALUE}; png is lossless and larger).")
    FrameEncoder.Format format;

    @Option(names = "--quality", paramLabel = "Q", defaultValue = "85", description = "JPEG quality 1-100 (default: ${DEFAULT-VALUE}).")
    int quality;

    @Option(names = "--realtime", description = "Files and directories: send frames at their recorded pace (default: as fast as possible; live sources are real time anyway).")
    boolean realtime;

    @Option(names = "--loop", description = "Files and directories: start again at the end, timestamps continuing, until Ctrl-C or --max-frames.")
    boolean loop;

    @Option(names = "--max-frames", paramLabel = "N", description = "Stop after sending N frames.")
    Long maxFrames;

    @Option(names = "--source-fps", paramLabel = "N", converter = PositiveDouble.class,
            description = "Frame rate of an image directory (default: 10), or the rate to ask of a V4L2 camera.")
    Double sourceFps;

    @Option(names = "--live", description = "Treat SOURCE as live (reconnect, wall-clock timestamps) though its scheme does not say so, e.g. an http:// MJPEG camera.")
    boolean live;

    @Option(names = "--max-reconnects", paramLabel = "N", defaultValue = "-1",
            description = "Live sources: give up after N failed reconnect attempts in a row (default: never).")
    int maxReconnects;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10", converter = PositiveDouble.class,
            description = "Network sources: connect/read timeout (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(names = "--ffmpeg-option", paramLabel = "KEY=VALUE",
            description = "Extra FFmpeg input option, repeatable (e.g. rtsp_transport=udp, video_size=1280x720).")
    Map<String, String> ffmpegOptions = new LinkedHashMap<>();

    @Mixin
    CreateTopicOption createTopic = new CreateTopicOption();

    @Option(names = "--no-progress", description = "Do not draw the progress bar (or live status line) on stderr.")
    boolean noProgress;

    @Override
    public Integer call() {
        if (kafka.printed(System.out)) {
            return 0;
        }
        FrameEncoder.Settings encoding = encoding();
        if (camera.isBlank()) {
            throw new ConfigException("the camera id is empty; give one with --camera");
        }
        int keyBytes = camera.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (keyBytes > io.engram.engine.kafka.InputKeyDeserializer.MAX_KEY_BYTES) {
            throw new ConfigException("the camera id is " + keyBytes + " bytes; Engram's pipelines dead-letter keys over "
                    + io.engram.engine.kafka.InputKeyDeserializer.MAX_KEY_BYTES + " bytes. Fix: give a shorter id with --camera");
        }
        if (maxFrames != null && maxFrames < 1) {
            throw new ConfigException("--max-frames must be at least 1, not " + maxFrames + "; leave it out to send every frame");
        }
        if (maxReconnects < -1) {
            throw new ConfigException("--max-reconnects must be 0 or more (or -1 for never giving up), not " + maxReconnects);
        }
        PrintStream err = System.err;
        if (format == FrameEncoder.Format.PNG && quality != FrameEncoder.Settings.DEFAULT_QUALITY) {
            err.println("engram: warning: --quality applies to --format jpeg only; PNG is lossless, ignoring it");
        }
        Progress progress = new Progress(err, noProgress);
        SourceOptions sourceOptions = new SourceOptions(sourceFps != null ? sourceFps : 0, live,
                Duration.ofNanos((long) (timeoutSeconds * 1e9)), maxReconnects, ffmpegOptions, progress::notice);

        // The source first: it is the likeliest mistake, and needs no broker to report.
        try (FrameSource src = FrameSources.open(expandSource(source, System::getenv), sourceOptions)) {
            if (loop && src.live()) {
                err.println("engram: warning: --loop applies to files and directories only; " + src.description() + " is live, ignoring it");
            }
            ensureTopic(err);

            // Ctrl-C: stop after the current frame, flush what was sent and print the summary.
            try (Shutdown shutdown = Shutdown.onCtrlC("engram-ingest-video-shutdown", Duration.ofSeconds(30));
                    KafkaProducer<byte[], byte[]> producer = VideoReplay.producer(kafka.bootstrap(), kafka.client())) {
                if (src.live()) {
                    err.println("engram: reading " + src.description() + " (live; Ctrl-C to stop)");
                }
                VideoReplay.Options opts = new VideoReplay.Options(topic, camera, encoding, fps != null ? fps : 0, realtime,
                        loop && !src.live(), maxFrames != null ? maxFrames : 0, -1, shutdown::running);
                progress.start(src, opts);
                VideoReplay.Summary s = VideoReplay.send(src, opts, producer, progress);
                progress.finish(s);
                System.out.println(summary(s, camera, topic, format));
                if (s.sourceError() != null) {
                    err.println("engram: " + s.sourceError());
                    return 1;
                }
                return 0;
            }
        }
    }

    /**
     * {@code --source} with each {@code ${NAME}} replaced by the environment variable's value, as in
     * a pipeline's {@code kafka:} section and {@code --command-config} ({@link KafkaProperties#substitute}).
     *
     * @throws ConfigException naming the variable and the fix when it is not set
     */
    static String expandSource(String source, Function<String, String> env) {
        return source == null ? null : KafkaProperties.substitute(source, env, "--source");
    }

    private FrameEncoder.Settings encoding() {
        if (quality < 1 || quality > 100) {
            throw new ConfigException("--quality must be 1-100 (JPEG quality), not " + quality + "; e.g. --quality 85");
        }
        if (width != null && width < 1) {
            throw new ConfigException("--width must be a positive number of pixels, not " + width);
        }
        if (height != null && height < 1) {
            throw new ConfigException("--height must be a positive number of pixels, not " + height);
        }
        return new FrameEncoder.Settings(format, quality, width != null ? width : 0, height != null ? height : 0);
    }

    private void ensureTopic(PrintStream err) {
        createTopic.ensure(kafka, topic, "create it (e.g. with the pipeline that reads it)", err);
    }

    /**
     * Progress bar (known length) or status line (live, looping) on stderr, and the lines printed
     * between its redraws: refused-frame warnings and the source's reconnect notices.
     */
    private static final class Progress implements VideoReplay.ProgressListener {
        private final PrintStream err;
        private final boolean quiet;
        private ProgressBar bar;
        private StatusLine status;
        private int warnings;
        private long moreWarnings;

        Progress(PrintStream err, boolean quiet) {
            this.err = err;
            this.quiet = quiet;
        }

        void start(FrameSource src, VideoReplay.Options opts) {
            long total = src.frameCount();
            if (quiet) {
                return;
            }
            if (!src.live() && !opts.loop() && total > 0) {
                long max = opts.maxFrames() > 0 && opts.fps() == 0 ? Math.min(total, opts.maxFrames()) : total;
                bar = new ProgressBar(err, max, "frames");
            } else {
                status = new StatusLine(err, opts.cameraId());
            }
        }

        @Override
        public void progress(long read, long sent) {
            if (bar != null) {
                bar.update(read);
            } else if (status != null) {
                status.update(read, sent);
            }
        }

        @Override
        public void refused(String frame, VideoReplay.Refusal why, String detail) {
            if (warnings >= MAX_WARNINGS) {
                moreWarnings++;
                return;
            }
            warnings++;
            notice("engram: warning: " + detail + "; frame not sent");
        }

        /** Prints a line over the bar (which redraws below it on its next update). */
        void notice(String line) {
            if (bar != null || status != null) {
                err.println("\r" + line + " ".repeat(Math.max(0, 90 - line.length())));
            } else {
                err.println(line);
            }
        }

        void finish(VideoReplay.Summary s) {
            if (bar != null) {
                bar.finish(s.read());
            } else if (status != null) {
                status.finish(s.read(), s.sent());
            }
            if (moreWarnings > 0) {
                err.printf(Locale.ROOT, "engram: warning: ... and %d more refused frames (counted in the summary)%n", moreWarnings);
            }
        }
    }

    /** The one-line summary printed on stdout. */
    public static String summary(VideoReplay.Summary s, String camera, String topic, FrameEncoder.Format format) {
        double secs = s.elapsed().toNanos() / 1e9;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "engram: sent %,d frame%s of camera '%s' to topic '%s' in %.1f s (%.1f frames/s",
                s.sent(), s.sent() == 1 ? "" : "s", camera, topic, secs, secs > 0 ? s.sent() / secs : 0.0));
        if (s.sent() > 0) {
            sb.append(String.format(Locale.ROOT, ", %dx%d %s, %,.1f KB each on average", s.width(), s.height(),
                    format.lowerName(), s.bytesSent() / 1024.0 / Math.max(1, s.sent() + s.refusedByBroker())));
        }
        sb.append(')');
        if (s.stopped()) {
            sb.append(", stopped early");
        } else if (s.maxFramesReached()) {
            sb.append(", stopped at --max-frames");
        }
        sb.append(String.format(Locale.ROOT, "; read %,d, dropped %,d for --fps, refused %,d", s.read(), s.droppedForRate(), s.refused()));
        if (s.refused() > 0) {
            StringBuilder why = new StringBuilder();
            if (s.refusedTooLarge() > 0) {
                why.append(String.format(Locale.ROOT, "%,d over %,d bytes: %s", s.refusedTooLarge(), VideoReplay.MAX_RECORD_BYTES,
                        VideoReplay.tooLargeFix(format)));
            }
            if (s.unreadable() > 0) {
                why.append(why.length() > 0 ? "; " : "").append(String.format(Locale.ROOT, "%,d unreadable", s.unreadable()));
            }
            if (s.refusedByBroker() > 0) {
                why.append(why.length() > 0 ? "; " : "").append(String.format(Locale.ROOT, "%,d rejected by the broker as too large",
                        s.refusedByBroker()));
            }
            sb.append(" (").append(why).append(')');
        }
        if (s.reconnectAttempts() > 0) {
            sb.append(String.format(Locale.ROOT, "; %,d reconnect attempt%s", s.reconnectAttempts(), s.reconnectAttempts() == 1 ? "" : "s"));
        }
        return sb.toString();
    }

    /** A positive, finite number. */
    static final class PositiveDouble implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            try {
                double d = Double.parseDouble(value);
                if (d > 0 && Double.isFinite(d)) {
                    return d;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new TypeConversionException("'" + value + "' is not a positive number");
        }
    }

    /** {@code jpeg}/{@code jpg} or {@code png}, any case. */
    static final class FormatConverter implements ITypeConverter<FrameEncoder.Format> {
        @Override
        public FrameEncoder.Format convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "jpeg", "jpg" -> FrameEncoder.Format.JPEG;
                case "png" -> FrameEncoder.Format.PNG;
                default -> throw new TypeConversionException("'" + value + "' is not jpeg or png");
            };
        }
    }
}

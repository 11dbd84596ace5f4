package io.engram.tools.ingest.video;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.KafkaProperties;
import io.engram.tools.ingest.Pacing;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;
import org.bytedeco.javacv.Java2DFrameConverter;

/**
 * Frames decoded by FFmpeg (JavaCV's {@link FFmpegFrameGrabber}): video files (mp4, avi, mkv, ...:
 * whatever this FFmpeg build reads), network streams ({@code rtsp://}, {@code http://}, ...) and
 * V4L2 cameras ({@code /dev/video0}).
 *
 * <p><b>Files</b> are opened when the source is created (so that a bad file fails at once, with a
 * {@link ConfigException}); frame offsets are the frames' presentation times relative to the first
 * frame (if a file has no usable timestamps, frames are spaced at its nominal frame rate).
 *
 * <p><b>Live sources</b> (cameras, {@code rtsp://} and other streaming URLs) connect on the first
 * {@link #next}. When the stream fails to open, fails while reading or ends, the source closes it
 * and reconnects with exponential back-off: 0.5 s, 1 s, 2 s, ... up to 30 s between attempts, with
 * one log line per attempt, until a frame arrives (which resets the back-off), {@code keepGoing}
 * turns false, or {@link SourceOptions#maxReconnects()} attempts in a row have failed (then
 * {@link #next} throws an {@link IOException}). Frame offsets come from a monotonic clock and
 * {@link CapturedFrame#epochMillis()} is the wall clock at the grab. RTSP is read over TCP (no
 * smeared frames from lost UDP packets) with a socket timeout; other URLs with FFmpeg's
 * {@code rw_timeout} ({@link SourceOptions#timeout()}), so that a stream that stops sending without
 * closing counts as lost rather than hanging. HTTP(S) sources drop a frame cut short by a dropped
 * connection ({@code fflags=+discardcorrupt}) rather than sending it torn. All of these can be
 * overridden with {@link SourceOptions#ffmpegOptions()}.
 *
 * <p><b>Resources.</b> The grabber holds native memory outside the Java heap: always {@link #close()}
 * this source. The grabber reuses one native {@link Frame}, and the {@link Java2DFrameConverter}
 * reuses one {@code BufferedImage}, so a frame is only valid until the next call (see
 * {@link FrameSource}). Not thread-safe. FFmpeg's own logging is set to errors only the first time
 * this class is used.
 */
public final class GrabberFrameSource implements FrameSource {
    /** First wait before reconnecting; doubles per failed attempt. */
    public static final long INITIAL_BACKOFF_MS = 500;
    /** Longest wait between reconnect attempts. */
    public static final long MAX_BACKOFF_MS = 30_000;
    /** Nominal frame interval when a file states no frame rate. */
    private static final long FALLBACK_INTERVAL_MICROS = 40_000;
    private static final Pattern FFMPEG_ERROR = Pattern.compile("error (-\\d+)");

    static {
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    }

    private final String input;
    private final File file;
    private final String format;
    private final Map<String, String> options;
    private final double requestedFps;
    private final boolean live;
    private final SourceOptions settings;
    private final String description;
    private final Java2DFrameConverter converter = new Java2DFrameConverter();
    private final long originNanos = System.nanoTime();

    private FFmpegFrameGrabber grabber;
    private CapturedFrame current;
    private long index;
    private long firstTimestamp = Long.MIN_VALUE;
    private long lastOffset = -1;
    private double frameRate;
    private long frameCount = -1;
    // Live sources.
    private int failedInARow;
    private boolean mustWait;
    private long reconnectAttempts;
    private String lastProblem;
    private boolean closed;

    private GrabberFrameSource(String input, File file, String format, Map<String, String> options, double requestedFps,
            boolean live, SourceOptions settings, String description) {
        this.input = input;
        this.file = file;
        this.format = format;
        this.options = options;
        this.requestedFps = requestedFps;
        this.live = live;
        this.settings = settings;
        this.description = description;
    }

    /**
     * Opens a video file now.
     *
     * @throws ConfigException when the file does not exist, FFmpeg cannot read it, or it has no video stream
     */
    public static GrabberFrameSource openFile(Path path, SourceOptions settings) {
        if (!Files.exists(path)) {
            throw new ConfigException("video file " + path + " does not exist; check --source");
        }
        if (!Files.isReadable(path)) {
            throw new ConfigException("video file " + path + " is not readable; check its permissions");
        }
        String name = path.getFileName() != null ? path.getFileName().toString() : path.toString();
        GrabberFrameSource s = new GrabberFrameSource(path.toString(), path.toFile(), null, new LinkedHashMap<>(settings.ffmpegOptions()),
                0, false, settings, name);
        s.openFinite("video file " + path);
        return s;
    }

    /**
     * A network source. Live ones (see {@link FrameSources#isLiveUrl}, or {@code settings.live()})
     * connect on the first {@link #next}; others (e.g. an mp4 over HTTP) are opened now, like files.
     *
     * @throws ConfigException when a non-live URL cannot be opened
     */
    public static GrabberFrameSource openUrl(String url, SourceOptions settings) {
        boolean live = settings.live() || FrameSources.isLiveUrl(url);
        Map<String, String> opts = new LinkedHashMap<>();
        String scheme = url.substring(0, url.indexOf(':')).toLowerCase(Locale.ROOT);
        String micros = String.valueOf(settings.timeout().toNanos() / 1000);
        if (scheme.equals("rtsp") || scheme.equals("rtsps")) {
            opts.put("rtsp_transport", "tcp");
            opts.put("timeout", micros); // RTSP: socket I/O timeout in microseconds (FFmpeg 5+; "stimeout" before)
        } else {
            opts.put("rw_timeout", micros); // any protocol: read/write timeout in microseconds
        }
        if (scheme.equals("http") || scheme.equals("https")) {
            // A connection cut mid-frame leaves the last MJPEG part short: FFmpeg flags the packet corrupt
            // but decodes it by default, into a torn frame (the cut-off rows left from the previous
            // frame). Drop it instead.
            opts.put("fflags", "+discardcorrupt"); // added to FFmpeg's default flags
        }
        opts.putAll(settings.ffmpegOptions());
        GrabberFrameSource s = new GrabberFrameSource(url, null, null, opts, 0, live, settings, redact(url));
        if (!live) {
            s.openFinite(redact(url));
        }
        return s;
    }

    /**
     * A V4L2 camera such as {@code /dev/video0}, read with FFmpeg's {@code video4linux2} input; live.
     * Connects on the first {@link #next}.
     *
     * @throws ConfigException when the device does not exist
     */
    public static GrabberFrameSource openDevice(String device, SourceOptions settings) {
        if (!Files.exists(Path.of(device))) {
            throw new ConfigException("camera device " + device + " does not exist; list cameras with `ls /dev/video*` "
                    + "(or v4l2-ctl --list-devices) and check --source");
        }
        return new GrabberFrameSource(device, null, "video4linux2", new LinkedHashMap<>(settings.ffmpegOptions()),
                settings.sourceFps(), true, settings, device);
    }

    private void openFinite(String what) {
        try {
            grabber = start();
        } catch (IOException e) {
            throw new ConfigException("cannot read " + what + " as video: " + e.getMessage()
                    + "; check that it is a video file FFmpeg can decode (mp4, avi, mkv, ...)", e);
        }
    }

    /** Creates and starts a grabber; on failure releases it and throws an IOException with FFmpeg's reason. */
    private FFmpegFrameGrabber start() throws IOException {
        FFmpegFrameGrabber g = file != null ? new FFmpegFrameGrabber(file) : new FFmpegFrameGrabber(input);
        if (format != null) {
            g.setFormat(format);
        }
        if (requestedFps > 0) {
            g.setFrameRate(requestedFps);
        }
        options.forEach(g::setOption);
        try {
            g.start();
            if (!g.hasVideo()) {
                throw new IOException("it has no video stream");
            }
        } catch (FrameGrabber.Exception | RuntimeException e) {
            release(g);
            throw new IOException(describe(e), e);
        } catch (IOException e) {
            release(g);
            throw e;
        }
        double rate = g.getVideoFrameRate() > 0 ? g.getVideoFrameRate() : g.getFrameRate();
        frameRate = rate > 0 && Double.isFinite(rate) ? rate : 0;
        int n = live ? -1 : g.getLengthInVideoFrames();
        frameCount = n > 0 ? n : -1;
        return g;
    }

    @Override
    public CapturedFrame next(BooleanSupplier keepGoing) throws IOException {
        invalidateCurrent();
        if (closed) {
            throw new IllegalStateException(description + " is closed");
        }
        return live ? nextLive(keepGoing) : nextFinite();
    }

    private CapturedFrame nextFinite() throws IOException {
        Frame f;
        try {
            f = grabVideo(grabber);
        } catch (FrameGrabber.Exception | RuntimeException e) {
            throw new IOException("cannot read " + description + ": " + describe(e), e);
        }
        if (f == null) {
            return null;
        }
        long offset = offsetOf(f.timestamp);
        long i = index++;
        String label = String.format(Locale.ROOT, "frame %d (%.3f s) of %s", i, offset / 1e6, description);
        return current(new CapturedFrame(i, offset, -1, label, () -> convert(f, label)));
    }

    /** A file's presentation time relative to the pass's first frame, forced to increase. */
    private long offsetOf(long timestamp) {
        if (firstTimestamp == Long.MIN_VALUE) {
            firstTimestamp = timestamp;
        }
        long offset = timestamp - firstTimestamp;
        if (lastOffset >= 0 && offset <= lastOffset) {
            // No usable timestamps (or going back): space frames at the nominal rate instead.
            offset = lastOffset + (frameRate > 0 ? Math.round(1_000_000 / frameRate) : FALLBACK_INTERVAL_MICROS);
        }
        lastOffset = offset;
        return offset;
    }

    private CapturedFrame nextLive(BooleanSupplier keepGoing) throws IOException {
        while (keepGoing.getAsBoolean()) {
            if (grabber == null) {
                if (mustWait && !waitBeforeReconnect(keepGoing)) {
                    return null;
                }
                try {
                    grabber = start();
                    if (reconnectAttempts > 0) {
                        settings.log().accept("engram: reconnected to " + description);
                    }
                } catch (IOException e) {
                    lastProblem = "cannot open " + description + ": " + e.getMessage();
                    mustWait = true;
                    continue;
                }
            }
            try {
                Frame f = grabVideo(grabber);
                if (f != null) {
                    failedInARow = 0;
                    mustWait = false;
                    long i = index++;
                    long offset = (System.nanoTime() - originNanos) / 1000;
                    String label = "frame " + i + " of " + description;
                    return current(new CapturedFrame(i, offset, System.currentTimeMillis(), label, () -> convert(f, label)));
                }
                lastProblem = "lost " + description + ": the stream ended";
            } catch (FrameGrabber.Exception | RuntimeException e) {
                lastProblem = "lost " + description + ": " + describe(e);
            }
            release(grabber);
            grabber = null;
            mustWait = true;
        }
        return null;
    }

    /** Waits the back-off for the next attempt; false when stopped; throws when out of attempts. */
    private boolean waitBeforeReconnect(BooleanSupplier keepGoing) throws IOException {
        int max = settings.maxReconnects();
        if (max >= 0 && failedInARow >= max) {
            throw new IOException("gave up on " + description + " after " + failedInARow + " reconnect attempt"
                    + (failedInARow == 1 ? "" : "s") + " (--max-reconnects " + max + "); last problem: " + lastProblem);
        }
        long delay = backoffMillis(failedInARow);
        failedInARow++;
        reconnectAttempts++;
        // One line per attempt, with the reason, so that a log shows why the camera is not sending.
        settings.log().accept(String.format(Locale.ROOT, "engram: %s; reconnecting in %.1f s (attempt %d%s)",
                lastProblem, delay / 1000.0, failedInARow, max >= 0 ? " of " + max : ""));
        // Sleeps in steps of at most 100 ms, so that Ctrl-C during a 30 s back-off is not late.
        return Pacing.sleepUntil(System.nanoTime() + delay * 1_000_000L, keepGoing, 100, () -> { });
    }

    /** The wait before reconnect attempt {@code n + 1}: 0.5 s doubling, at most 30 s. */
    public static long backoffMillis(int failedBefore) {
        long d = INITIAL_BACKOFF_MS;
        for (int i = 0; i < failedBefore && d < MAX_BACKOFF_MS; i++) {
            d *= 2;
        }
        return Math.min(d, MAX_BACKOFF_MS);
    }

    private static Frame grabVideo(FFmpegFrameGrabber g) throws FrameGrabber.Exception {
        Frame f;
        do {
            f = g.grabImage();
        } while (f != null && f.image == null);
        return f;
    }

    private java.awt.image.BufferedImage convert(Frame f, String label) throws SkippedFrameException {
        try {
            java.awt.image.BufferedImage img = converter.convert(f);
            if (img == null) {
                throw new SkippedFrameException(label, "FFmpeg returned a frame Java2D cannot convert");
            }
            return img;
        } catch (RuntimeException e) {
            throw new SkippedFrameException(label, "cannot convert the decoded frame (" + e.getMessage() + ")", e);
        }
    }

    private CapturedFrame current(CapturedFrame f) {
        current = f;
        return f;
    }

    private void invalidateCurrent() {
        if (current != null) {
            current.invalidate();
            current = null;
        }
    }

    @Override
    public boolean rewind() throws IOException {
        if (live || closed) {
            return false;
        }
        invalidateCurrent();
        release(grabber);
        grabber = null;
        grabber = start();
        index = 0;
        firstTimestamp = Long.MIN_VALUE;
        lastOffset = -1;
        return true;
    }

    @Override
    public boolean live() {
        return live;
    }

    @Override
    public long frameCount() {
        return frameCount;
    }

    @Override
    public double frameRate() {
        return frameRate;
    }

    @Override
    public long reconnectAttempts() {
        return reconnectAttempts;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        invalidateCurrent();
        release(grabber);
        grabber = null;
        converter.close();
    }

    private static void release(FFmpegFrameGrabber g) {
        if (g == null) {
            return;
        }
        try {
            g.close(); // stop() + release(): frees the native contexts
        } catch (FrameGrabber.Exception | RuntimeException ignored) {
            // nothing more to free
        }
    }

    /** FFmpeg's message with the error code spelled out ("Connection refused") and credentials removed. */
    private String describe(Throwable e) {
        String msg = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        msg = msg.replace(input, description);
        int hint = msg.indexOf(" (Has setFormat()");
        if (hint > 0) {
            msg = msg.substring(0, hint);
        }
        Matcher m = FFMPEG_ERROR.matcher(msg);
        if (m.find()) {
            // "avformat_open_input() error -111: Could not open input ..." -> "Connection refused (avformat_open_input() error -111)"
            String reason = strerror(Integer.parseInt(m.group(1)));
            if (reason != null) {
                msg = reason + " (" + msg.substring(0, m.end()).trim() + ")";
            }
        }
        return redact(msg.trim());
    }

    /** FFmpeg's text for an error code (e.g. -111: "Connection refused"), or null. */
    static String strerror(int code) {
        byte[] buf = new byte[256];
        try {
            if (avutil.av_strerror(code, buf, buf.length) != 0) {
                return null;
            }
        } catch (RuntimeException | LinkageError e) {
            return null; // keep FFmpeg's own message
        }
        int len = 0;
        while (len < buf.length && buf[len] != 0) {
            len++;
        }
        String s = new String(buf, 0, len, java.nio.charset.StandardCharsets.UTF_8).trim();
        return s.isEmpty() ? null : s;
    }

    /**
     * {@code rtsp://user:secret@cam/stream} -> {@code rtsp://***@cam/stream}: never log a camera's
     * password. The engine's one rule for URLs with credentials ({@link KafkaProperties#redactUrls}).
     */
    public static String redact(String s) {
        return KafkaProperties.redactUrls(s);
    }
}

package io.engram.tools.ingest.video;

import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

/**
 * How {@link FrameSources#open} opens a {@code --source}.
 *
 * @param sourceFps frame rate for image directories (frame i at i/sourceFps s), and the rate asked of
 *     a V4L2 camera when positive; 0 = the default (10 for directories, the camera's own for devices)
 * @param live treat the source as live even when its scheme does not say so (an HTTP MJPEG camera):
 *     wall-clock timestamps, reconnect on failure
 * @param timeout network read/connect timeout for URLs (FFmpeg's {@code timeout} / {@code rw_timeout})
 * @param maxReconnects live sources: give up after this many reconnect attempts in a row without a
 *     frame; -1 = never give up
 * @param ffmpegOptions extra FFmpeg demuxer/protocol options (e.g. {@code rtsp_transport=udp}), applied last
 * @param log receives one line per reconnect attempt and similar notices (already prefixed {@code engram: })
 */
public record SourceOptions(double sourceFps, boolean live, Duration timeout, int maxReconnects,
        Map<String, String> ffmpegOptions, Consumer<String> log) {
    /** Frame rate of an image directory when none is given. */
    public static final double DEFAULT_DIRECTORY_FPS = 10;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public SourceOptions {
        if (sourceFps < 0 || !Double.isFinite(sourceFps)) {
            throw new IllegalArgumentException("sourceFps must be positive (0 = default), not " + sourceFps);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, not " + timeout);
        }
        if (maxReconnects < -1) {
            throw new IllegalArgumentException("maxReconnects must be -1 (unlimited) or more, not " + maxReconnects);
        }
        ffmpegOptions = ffmpegOptions == null ? Map.of() : Map.copyOf(ffmpegOptions);
        log = log == null ? line -> {} : log;
    }

    /** Defaults: directories at 10 fps, 10 s timeout, reconnect forever, notices to stderr. */
    public static SourceOptions defaults() {
        return new SourceOptions(0, false, DEFAULT_TIMEOUT, -1, Map.of(), System.err::println);
    }

    public SourceOptions withSourceFps(double fps) {
        return new SourceOptions(fps, live, timeout, maxReconnects, ffmpegOptions, log);
    }

    public SourceOptions withLive(boolean l) {
        return new SourceOptions(sourceFps, l, timeout, maxReconnects, ffmpegOptions, log);
    }

    public SourceOptions withTimeout(Duration t) {
        return new SourceOptions(sourceFps, live, t, maxReconnects, ffmpegOptions, log);
    }

    public SourceOptions withMaxReconnects(int n) {
        return new SourceOptions(sourceFps, live, timeout, n, ffmpegOptions, log);
    }

    public SourceOptions withFfmpegOptions(Map<String, String> o) {
        return new SourceOptions(sourceFps, live, timeout, maxReconnects, o, log);
    }

    public SourceOptions withLog(Consumer<String> l) {
        return new SourceOptions(sourceFps, live, timeout, maxReconnects, ffmpegOptions, l);
    }
}

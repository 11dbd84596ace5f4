package io.engram.tools.ingest.video;

import io.engram.engine.errors.ConfigException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Opens the right {@link FrameSource} for an {@code engram ingest video --source} string. */
public final class FrameSources {
    /** URL schemes that are live streams: reconnect on failure, wall-clock timestamps. */
    public static final Set<String> LIVE_SCHEMES = Set.of("rtsp", "rtsps", "rtmp", "rtmps", "rtp", "udp", "srt", "tcp");
    private static final Pattern URL = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*://.*");

    /** What a {@code --source} string names. */
    public enum Kind {
        /** A URL FFmpeg reads: {@code rtsp://}, {@code http://}, ... */
        URL,
        /** A V4L2 camera device, {@code /dev/...}. */
        DEVICE,
        /** A directory of images. */
        DIRECTORY,
        /** A video file. */
        FILE
    }

    private FrameSources() {}

    /** Classifies {@code source} (a path that does not exist counts as a {@link Kind#FILE}). */
    public static Kind kind(String source) {
        if (URL.matcher(source).matches()) {
            return Kind.URL;
        }
        if (source.startsWith("/dev/")) {
            return Kind.DEVICE;
        }
        try {
            return Files.isDirectory(Path.of(source)) ? Kind.DIRECTORY : Kind.FILE;
        } catch (InvalidPathException e) {
            return Kind.FILE;
        }
    }

    /** Whether {@code url}'s scheme is a live stream (rtsp, rtmp, udp, srt, ...). */
    public static boolean isLiveUrl(String url) {
        int colon = url.indexOf(':');
        return colon > 0 && LIVE_SCHEMES.contains(url.substring(0, colon).toLowerCase(Locale.ROOT));
    }

    /**
     * Opens {@code source}: a URL or V4L2 device with {@link GrabberFrameSource}, a directory with
     * {@link ImageDirectorySource} (at {@link SourceOptions#sourceFps()}, default 10), anything else
     * as a video file. The caller owns the result and must close it.
     *
     * @throws ConfigException when a file or directory is missing or unreadable
     */
    public static FrameSource open(String source, SourceOptions options) {
        if (source == null || source.isBlank()) {
            throw new ConfigException("--source is empty; give a video file, a directory of images, an rtsp:// URL or a camera such as /dev/video0");
        }
        return switch (kind(source)) {
            case URL -> GrabberFrameSource.openUrl(source, options);
            case DEVICE -> GrabberFrameSource.openDevice(source, options);
            case DIRECTORY -> new ImageDirectorySource(Path.of(source),
                    options.sourceFps() > 0 ? options.sourceFps() : SourceOptions.DEFAULT_DIRECTORY_FPS);
            case FILE -> {
                Path p;
                try {
                    p = Path.of(source);
                } catch (InvalidPathException e) {
                    throw new ConfigException("--source '" + source + "' is not a valid path; give a video file, "
                            + "a directory of images, an rtsp:// URL or a camera such as /dev/video0", e);
                }
                if (!Files.exists(p)) {
                    throw new ConfigException("--source " + source + " does not exist; give a video file, a directory of images "
                            + "(png, jpg, jpeg, bmp), an rtsp:// URL or a camera such as /dev/video0");
                }
                yield GrabberFrameSource.openFile(p, options);
            }
        };
    }
}

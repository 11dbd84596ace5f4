package io.engram.tools.ingest.video;

import java.io.IOException;
import java.util.function.BooleanSupplier;

/**
 * A sequence of video frames, from a file, a network stream, a camera or a directory of images.
 * {@link VideoReplay#send} reads one to the end; {@link FrameSources#open} picks the implementation
 * for an {@code --source} string.
 *
 * <p><b>Lifecycle.</b> A source is owned by one thread and must be closed:
 * {@link GrabberFrameSource} holds FFmpeg's native memory (demuxer, decoder, frame buffers) that the
 * garbage collector does not see, so a source that is dropped without {@link #close()} leaks it. Use
 * try-with-resources.
 *
 * <p><b>Frames are borrowed.</b> The {@link CapturedFrame} returned by {@link #next} (and the image it
 * decodes) is valid only until the next call to {@link #next}, {@link #rewind} or {@link #close}: the
 * FFmpeg grabber reuses its native frame, and the converter reuses its {@code BufferedImage}. A
 * caller that keeps an image longer must copy it first.
 *
 * <p><b>Time.</b> Every frame carries {@link CapturedFrame#offsetMicros()}, its capture time in
 * microseconds since the start of the source (0 for the first frame of a file or directory; a
 * monotonic clock for live sources), which never decreases within one pass. Live sources also carry
 * the wall-clock time of the grab, {@link CapturedFrame#epochMillis()}.
 */
public interface FrameSource extends AutoCloseable {
    /**
     * The next frame, or {@code null} at the end of a file or directory, or when {@code keepGoing}
     * turned false while a live source was waiting to reconnect.
     *
     * @param keepGoing checked while waiting (reconnect back-off); false makes the call return null soon
     * @throws SkippedFrameException when one frame cannot be read: the caller may count it and go on
     * @throws IOException when the source failed for good (e.g. a live stream gave up reconnecting)
     */
    CapturedFrame next(BooleanSupplier keepGoing) throws IOException;

    /** True for cameras and streams: frames arrive in real time, and there is no end to rewind to. */
    boolean live();

    /** The number of frames in one pass, when known (files, directories), else -1. May be an estimate for files. */
    long frameCount();

    /** The nominal frame rate in frames per second, or 0 when unknown. */
    double frameRate();

    /**
     * Restarts at the first frame, for {@code --loop}. Frame offsets start again at 0; the caller
     * (VideoReplay) adds the length of the previous passes.
     *
     * @return false when the source cannot restart (live sources)
     */
    default boolean rewind() throws IOException {
        return false;
    }

    /** How many times a live source tried to reconnect so far; 0 for other sources. */
    default long reconnectAttempts() {
        return 0;
    }

    /** A short name for messages, without credentials (e.g. {@code clip.mp4}, {@code rtsp://cam-1/stream}). */
    String description();

    /** Releases the source (native memory, file handles). Idempotent; never throws. */
    @Override
    void close();
}

package io.engram.tools.ingest.video;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * One frame from a {@link FrameSource}: when it was captured and how to get its pixels.
 *
 * <p>The image is decoded lazily, on the first call to {@link #image()}, so that frames dropped to
 * reach a target frame rate are never converted. The frame is <em>borrowed</em>: it (and its image)
 * is valid only until the source's next {@code next()}, {@code rewind()} or {@code close()}; after
 * that {@link #image()} throws {@link IllegalStateException}. Copy the image to keep it. Not
 * thread-safe.
 */
public final class CapturedFrame {
    /** Produces a frame's image; may throw {@link SkippedFrameException} for an unreadable frame. */
    @FunctionalInterface
    public interface ImageLoader {
        BufferedImage load() throws IOException;
    }

    private final long index;
    private final long offsetMicros;
    private final long epochMillis;
    private final String label;
    private ImageLoader loader;
    private BufferedImage image;
    private boolean valid = true;

    /**
     * @param index the frame's number in its source (per pass), from 0
     * @param offsetMicros capture time in microseconds since the start of the source (see {@link FrameSource})
     * @param epochMillis wall-clock capture time for live sources, or -1
     * @param label names the frame in messages, e.g. {@code img_0007.png} or {@code frame 17 (0.567 s) of clip.mp4}
     * @param loader decodes the image; called at most once
     */
    public CapturedFrame(long index, long offsetMicros, long epochMillis, String label, ImageLoader loader) {
        this.index = index;
        this.offsetMicros = offsetMicros;
        this.epochMillis = epochMillis;
        this.label = label;
        this.loader = loader;
    }

    /** A frame whose image is already in memory (for custom sources and tests). */
    public static CapturedFrame of(long index, long offsetMicros, String label, BufferedImage image) {
        return new CapturedFrame(index, offsetMicros, -1, label, () -> image);
    }

    public long index() {
        return index;
    }

    public long offsetMicros() {
        return offsetMicros;
    }

    /** Wall-clock capture time in epoch ms for live sources; -1 for files and directories. */
    public long epochMillis() {
        return epochMillis;
    }

    public String label() {
        return label;
    }

    /**
     * The frame's pixels, decoded on the first call.
     *
     * @throws SkippedFrameException when this frame cannot be decoded
     * @throws IllegalStateException when the source has moved on (see the class comment)
     */
    public BufferedImage image() throws IOException {
        if (!valid) {
            throw new IllegalStateException(label + " is no longer valid: its source has moved on; copy the image before the next frame");
        }
        if (image == null) {
            ImageLoader l = loader;
            loader = null;
            if (l == null) {
                throw new SkippedFrameException(label, "its image could not be decoded");
            }
            image = l.load();
        }
        return image;
    }

    /** Called by the source when it moves on: the frame's buffers are about to be reused. */
    void invalidate() {
        valid = false;
        image = null;
        loader = null;
    }
}

package io.engram.tools.ingest.video;

import java.io.IOException;

/**
 * One frame could not be read (an image file that is not a readable image, say); the source itself
 * is still good, so the caller counts the frame as refused and goes on with the next one.
 */
public final class SkippedFrameException extends IOException {
    private final String frame;

    /**
     * @param frame the frame's label, e.g. the image file's name
     * @param reason why, in a few words (no trailing period)
     */
    public SkippedFrameException(String frame, String reason) {
        super(frame + ": " + reason);
        this.frame = frame;
    }

    public SkippedFrameException(String frame, String reason, Throwable cause) {
        super(frame + ": " + reason, cause);
        this.frame = frame;
    }

    /** The frame's label. */
    public String frame() {
        return frame;
    }
}

package io.engram.engine.pipeline.pose;

import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FrameIntake;

/**
 * One person's record as the pose activity head reads it: the keypoints (a {@link FeatureRecord} of
 * 17 x (x, y, score), shares of the frame) and the frame's aspect ratio (width / height, from the
 * {@code frame-width} and {@code frame-height} headers the pose stage sets; 1 when a record lacks them).
 */
public record PersonRecord(FeatureRecord features, double aspect) {
    /** Header of a person record: the width of the frame the person was seen in, pixels. */
    public static final String H_FRAME_WIDTH = "frame-width";
    /** Header of a person record: the height of the frame the person was seen in, pixels. */
    public static final String H_FRAME_HEIGHT = "frame-height";

    /** The frame's aspect ratio from a person record's headers ({@link Travel#aspect}: 1 when they are missing or bad). */
    public static double aspect(org.apache.kafka.common.header.Headers headers) {
        return Travel.aspect(FrameIntake.header(headers, H_FRAME_WIDTH), FrameIntake.header(headers, H_FRAME_HEIGHT));
    }
}

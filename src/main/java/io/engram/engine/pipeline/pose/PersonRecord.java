package io.engram.engine.pipeline.pose;

import io.engram.engine.pipeline.video.FeatureRecord;

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
        return Travel.aspect(text(headers, H_FRAME_WIDTH), text(headers, H_FRAME_HEIGHT));
    }

    private static String text(org.apache.kafka.common.header.Headers headers, String name) {
        org.apache.kafka.common.header.Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
    }
}

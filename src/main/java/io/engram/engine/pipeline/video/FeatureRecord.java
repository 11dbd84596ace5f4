package io.engram.engine.pipeline.video;

/**
 * The CNN's features for one frame, as published on {@code frame-features}.
 *
 * @param encoder the encoder that produced them, {@code id@version}
 * @param sequence the frame's sequence number from the camera ({@code seq} header), or -1
 * @param values the feature vector
 */
public record FeatureRecord(String encoder, long sequence, float[] values) {}

package io.engram.engine.model;

/**
 * One person a {@link PoseEstimator} found in a frame, in the frame's pixel coordinates.
 *
 * @param score the model's person score, 0..1
 * @param box xmin, ymin, xmax, ymax in frame pixels
 * @param keypoints K x (x, y, score), x and y in frame pixels, in the order of {@link PoseSpec#keypoints()}
 */
public record Person(float score, float[] box, float[] keypoints) {
    public int keypointCount() {
        return keypoints.length / 3;
    }

    public float x(int k) {
        return keypoints[3 * k];
    }

    public float y(int k) {
        return keypoints[3 * k + 1];
    }

    public float keypointScore(int k) {
        return keypoints[3 * k + 2];
    }
}

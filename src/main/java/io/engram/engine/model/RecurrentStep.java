package io.engram.engine.model;

/**
 * One advance of a stream's recurrent state by one input, at batch 1: reads {@code x} and
 * {@code state}, writes the new state into {@code state} in place and the output into {@code y}.
 * {@link OnnxStep} is the one Engram runs (the model's step, O(1) per record); the benchmark's
 * windowed baseline plugs in a window rerun instead. Owns native buffers: one per task thread,
 * closed by its owner; {@link #close()} is idempotent.
 */
public interface RecurrentStep extends AutoCloseable {
    void step(float[] x, float[] state, float[] y);

    @Override
    void close();
}

package io.engram.engine.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs steps of a {@link StepSession} at a fixed batch size over reused native buffers: inputs are
 * tensors over direct native-order {@link FloatBuffer}s that are refilled in place, outputs are
 * pinned tensors that ONNX Runtime writes into. Nothing is allocated per step. Not thread-safe: one
 * stepper per thread. Owns its tensors; {@link #close()} is idempotent.
 */
public final class OnnxStep implements RecurrentStep {
    private final StepSession model;
    private final ModelManifest manifest;
    private final int batch;
    private final FloatBuffer input;
    private final FloatBuffer output;
    private final FloatBuffer[] stateIn;
    private final FloatBuffer[] stateOut;
    private final Map<String, OnnxTensor> inputs = new HashMap<>();
    private final Map<String, OnnxTensor> pinned = new HashMap<>();
    private boolean closed;

    OnnxStep(StepSession model, int batch) {
        this.model = model;
        this.manifest = model.manifest();
        this.batch = batch;
        List<ModelManifest.StatePair> pairs = manifest.state();
        stateIn = new FloatBuffer[pairs.size()];
        stateOut = new FloatBuffer[pairs.size()];
        try {
            input = Sessions.floats(batch * manifest.input().size());
            inputs.put(manifest.input().name(), tensor(input, manifest.input().size()));
            output = Sessions.floats(batch * manifest.output().size());
            pinned.put(manifest.output().name(), tensor(output, manifest.output().size()));
            for (int i = 0; i < pairs.size(); i++) {
                ModelManifest.StatePair p = pairs.get(i);
                stateIn[i] = Sessions.floats(batch * p.size());
                inputs.put(p.input(), tensor(stateIn[i], p.size()));
                stateOut[i] = Sessions.floats(batch * p.size());
                pinned.put(p.output(), tensor(stateOut[i], p.size()));
            }
        } catch (OrtException e) {
            close();
            throw new IllegalStateException("allocating tensors for model " + manifest.id(), e);
        }
    }

    private OnnxTensor tensor(FloatBuffer buf, int width) throws OrtException {
        return OnnxTensor.createTensor(model.env(), buf, new long[] {batch, width});
    }

    public int batch() {
        return batch;
    }

    /**
     * One step at batch 1. {@code state} holds all state pairs concatenated in manifest order
     * ({@link ModelManifest#stateFloats()} floats) and is updated in place; {@code out} receives the
     * output.
     */
    @Override
    public void step(float[] x, float[] state, float[] out) {
        if (batch != 1) {
            throw new IllegalStateException("step(float[]...) needs a batch-1 stepper");
        }
        input.clear();
        input.put(x, 0, manifest.input().size());
        int off = 0;
        for (int i = 0; i < stateIn.length; i++) {
            int n = manifest.state().get(i).size();
            stateIn[i].clear();
            stateIn[i].put(state, off, n);
            off += n;
        }
        run();
        output.clear();
        output.get(out, 0, manifest.output().size());
        off = 0;
        for (int i = 0; i < stateOut.length; i++) {
            int n = manifest.state().get(i).size();
            stateOut[i].clear();
            stateOut[i].get(state, off, n);
            off += n;
        }
    }

    /**
     * One step over a whole batch: {@code x} is {@code [batch * input.size]} row-major, {@code state}
     * {@code [batch * stateFloats]} with each row's pairs concatenated, {@code out}
     * {@code [batch * output.size]}.
     */
    public void stepBatch(float[] x, float[] state, float[] out) {
        int sf = manifest.stateFloats();
        input.clear();
        input.put(x, 0, batch * manifest.input().size());
        int pairOff = 0;
        for (int i = 0; i < stateIn.length; i++) {
            int n = manifest.state().get(i).size();
            stateIn[i].clear();
            for (int b = 0; b < batch; b++) {
                stateIn[i].put(state, b * sf + pairOff, n);
            }
            pairOff += n;
        }
        run();
        output.clear();
        output.get(out, 0, batch * manifest.output().size());
        pairOff = 0;
        for (int i = 0; i < stateOut.length; i++) {
            int n = manifest.state().get(i).size();
            stateOut[i].clear();
            for (int b = 0; b < batch; b++) {
                stateOut[i].get(state, b * sf + pairOff, n);
            }
            pairOff += n;
        }
    }

    private void run() {
        try (OrtSession.Result ignored = model.session().run(inputs, pinned)) {
            // Outputs were written into the pinned buffers; the Result owns nothing we read.
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime step failed for model " + manifest.id() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        inputs.values().forEach(OnnxTensor::close);
        pinned.values().forEach(OnnxTensor::close);
    }
}

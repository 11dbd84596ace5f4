package io.engram.engine.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.engram.engine.errors.ConfigException;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * A loaded per-frame encoder ({@code task: encode}): image {@code [B, C, H, W]} in, features
 * {@code [B, F]} out. Owns the ONNX Runtime session, shared by all stream threads; each thread takes
 * its own {@link Batch} (reusable native buffers). {@link #close()} is idempotent; close batches first.
 */
public final class EncoderModel implements AutoCloseable {
    private final ModelManifest manifest;
    private final OrtEnvironment env;
    private final OrtSession session;
    private volatile boolean closed;

    private EncoderModel(ModelManifest manifest, OrtEnvironment env, OrtSession session) {
        this.manifest = manifest;
        this.env = env;
        this.session = session;
    }

    /**
     * @param intraOpThreads 1 for per-record work on a stream thread; 2 pays off only for batches
     */
    public static EncoderModel load(ModelManifest manifest, int intraOpThreads) {
        if (!"encode".equals(manifest.task()) || manifest.image() == null) {
            throw new ConfigException("Model manifest " + manifest.manifestPath() + " is not an encoder (task: encode)."
                    + " Fix: point encoder.manifest at a frame encoder's manifest.");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = Sessions.open(manifest.onnxFile(), intraOpThreads, "Model file " + manifest.onnxFile() + " (manifest "
                + manifest.manifestPath() + ")", "re-export the encoder with its training script (see the model card), or restore the file.");
        return Sessions.checked(new EncoderModel(manifest, env, session), EncoderModel::check);
    }

    private void check() {
        try {
            Map<String, NodeInfo> in = session.getInputInfo();
            Map<String, NodeInfo> out = session.getOutputInfo();
            TensorInfo ti = Sessions.tensor(in, manifest.input().name());
            TensorInfo to = Sessions.tensor(out, manifest.output().name());
            if (ti == null || to == null || ti.getShape().length != 4 || to.getShape().length != 2) {
                throw new ConfigException("Encoder " + manifest.onnxFile() + " does not match its manifest " + manifest.manifestPath()
                        + ": expected input '" + manifest.input().name() + "' [B,C,H,W] and output '" + manifest.output().name()
                        + "' [B,F]; the graph has inputs " + in.keySet() + " and outputs " + out.keySet() + ". Fix the manifest or re-export.");
            }
        } catch (OrtException e) {
            throw new ConfigException("Encoder " + manifest.onnxFile() + ": cannot read its inputs: " + e.getMessage());
        }
    }

    public ModelManifest manifest() {
        return manifest;
    }

    /** A new batch of the given size; the caller owns it and must close it. */
    public Batch newBatch(int size) {
        if (closed) {
            throw new IllegalStateException("encoder closed");
        }
        return new Batch(size);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sessions.close(session, "encoder " + manifest.id());
    }

    /**
     * Reusable input and pinned output tensors for {@code size} frames. Not thread-safe; owns its
     * tensors; {@link #close()} is idempotent.
     */
    public final class Batch implements AutoCloseable {
        private final int size;
        private final FloatBuffer input;
        private final FloatBuffer output;
        private final OnnxTensor inTensor;
        private final OnnxTensor outTensor;
        private final Map<String, OnnxTensor> inputs;
        private final Map<String, OnnxTensor> outputs;
        private boolean batchClosed;

        private Batch(int size) {
            this.size = size;
            ModelManifest.Image im = manifest.image();
            int pixels = manifest.input().size();
            int features = manifest.output().size();
            input = Sessions.floats(size * pixels);
            output = Sessions.floats(size * features);
            try {
                inTensor = OnnxTensor.createTensor(env, input, new long[] {size, im.channels(), im.height(), im.width()});
                outTensor = OnnxTensor.createTensor(env, output, new long[] {size, features});
            } catch (OrtException e) {
                throw new IllegalStateException("allocating encoder tensors", e);
            }
            inputs = Map.of(manifest.input().name(), inTensor);
            outputs = Map.of(manifest.output().name(), outTensor);
        }

        public int size() {
            return size;
        }

        /** Runs the encoder: {@code pixels} holds {@code size} preprocessed frames, {@code features} receives {@code size * F}. */
        public void encode(float[] pixels, float[] features) {
            input.clear();
            input.put(pixels, 0, size * manifest.input().size());
            try (OrtSession.Result ignored = session.run(inputs, outputs)) {
                // written into the pinned output buffer
            } catch (OrtException e) {
                throw new IllegalStateException("encoder run failed: " + e.getMessage(), e);
            }
            output.clear();
            output.get(features, 0, size * manifest.output().size());
        }

        @Override
        public void close() {
            if (!batchClosed) {
                batchClosed = true;
                inTensor.close();
                outTensor.close();
            }
        }
    }
}

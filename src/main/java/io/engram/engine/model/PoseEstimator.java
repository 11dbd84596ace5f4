package io.engram.engine.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.engram.engine.errors.ConfigException;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A loaded per-frame multi-person pose model ({@code task: pose}, {@link PoseSpec}): a decoded
 * colour frame in, the people in it with their keypoints in frame pixels out. Owns the ONNX Runtime
 * session, shared by all threads; each thread takes its own {@link Runner} (reused native input and
 * output buffers, pinned tensors, preprocessing scratch). {@link #close()} is idempotent; close the
 * runners first.
 */
public final class PoseEstimator implements AutoCloseable {
    private final ModelManifest manifest;
    private final PoseSpec spec;
    private final OrtEnvironment env;
    private final OrtSession session;
    private volatile boolean closed;

    private PoseEstimator(ModelManifest manifest, PoseSpec spec, OrtEnvironment env, OrtSession session) {
        this.manifest = manifest;
        this.spec = spec;
        this.env = env;
        this.session = session;
    }

    /** @param intraOpThreads ONNX Runtime's threads for one frame (the model is a small CNN: 1 or 2) */
    public static PoseEstimator load(ModelManifest manifest, int intraOpThreads) {
        PoseSpec spec = PoseSpec.of(manifest);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = Sessions.open(manifest.onnxFile(), intraOpThreads, "Model file " + manifest.onnxFile() + " (manifest "
                + manifest.manifestPath() + ")", "rebuild it with models/pose/convert.sh (see models/pose/MODEL_CARD.md), or restore the file.");
        return Sessions.checked(new PoseEstimator(manifest, spec, env, session), PoseEstimator::check);
    }

    private void check() {
        try {
            Map<String, NodeInfo> in = session.getInputInfo();
            Map<String, NodeInfo> out = session.getOutputInfo();
            TensorInfo ti = Sessions.tensor(in, manifest.input().name());
            TensorInfo to = Sessions.tensor(out, manifest.output().name());
            if (ti == null || to == null || ti.getShape().length != 4 || ti.type != OnnxJavaType.INT32 || to.getShape().length != 3
                    || to.type != OnnxJavaType.FLOAT) {
                throw new ConfigException("Pose model " + manifest.onnxFile() + " does not match its manifest " + manifest.manifestPath()
                        + ": expected int32 input '" + manifest.input().name() + "' [1,H,W,3] and float output '" + manifest.output().name()
                        + "' [1,people,3K+5]; the graph has inputs " + in.keySet() + " and outputs " + out.keySet()
                        + ". Fix the manifest or re-convert.");
            }
        } catch (OrtException e) {
            throw new ConfigException("Pose model " + manifest.onnxFile() + ": cannot read its inputs: " + e.getMessage());
        }
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public PoseSpec spec() {
        return spec;
    }

    /** A new runner; the caller owns it and must close it. Not thread-safe: one per thread. */
    public Runner newRunner() {
        if (closed) {
            throw new IllegalStateException("pose estimator closed");
        }
        return new Runner();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sessions.close(session, "pose model " + manifest.id());
    }

    /**
     * Reusable input and pinned output tensors for one frame at a time, and the preprocessing's
     * scratch (kept while the frame size stays the same, as a camera's does). Not thread-safe;
     * {@link #close()} is idempotent.
     */
    public final class Runner implements AutoCloseable {
        private final int side = spec.inputSize();
        private final IntBuffer input;
        private final FloatBuffer output;
        private final OnnxTensor inTensor;
        private final OnnxTensor outTensor;
        private final Map<String, OnnxTensor> inputs;
        private final Map<String, OnnxTensor> outputs;
        private final float[] raw = new float[spec.maxPeople() * spec.rowSize()];
        private final PoseInput pre = new PoseInput(spec.inputSize());
        private byte[] rgb = new byte[0];
        private boolean runnerClosed;

        private Runner() {
            input = ByteBuffer.allocateDirect(side * side * 3 * Integer.BYTES).order(ByteOrder.nativeOrder()).asIntBuffer();
            output = Sessions.floats(raw.length);
            try {
                inTensor = OnnxTensor.createTensor(env, input, new long[] {1, side, side, 3});
                outTensor = OnnxTensor.createTensor(env, output, new long[] {1, spec.maxPeople(), spec.rowSize()});
            } catch (OrtException e) {
                throw new IllegalStateException("allocating pose tensors", e);
            }
            inputs = Map.of(manifest.input().name(), inTensor);
            outputs = Map.of(manifest.output().name(), outTensor);
        }

        /** The people in a decoded frame (any {@link BufferedImage} type; colour read as RGB) whose score is at least {@code minScore}. */
        public List<Person> estimate(BufferedImage frame, float minScore) {
            int w = frame.getWidth();
            int h = frame.getHeight();
            if (rgb.length != w * h * 3) {
                rgb = new byte[w * h * 3];
            }
            PoseInput.rgb(frame, rgb);
            return estimate(rgb, w, h, minScore);
        }

        /** As {@link #estimate(BufferedImage, float)} for interleaved 8-bit RGB pixels, row by row. */
        public List<Person> estimate(byte[] rgbPixels, int width, int height, float minScore) {
            if (runnerClosed) {
                throw new IllegalStateException("pose runner closed");
            }
            pre.toInput(rgbPixels, width, height, input);
            try (OrtSession.Result ignored = session.run(inputs, outputs)) {
                // written into the pinned output buffer
            } catch (OrtException e) {
                throw new IllegalStateException("pose model run failed: " + e.getMessage(), e);
            }
            output.clear();
            output.get(raw);
            return people(raw, Math.max(width, height), minScore);
        }

        /** The last frame's model output, {@code [maxPeople * (3K + 5)]} as the model wrote it; overwritten by the next frame. */
        public float[] rawOutput() {
            return raw;
        }

        @Override
        public void close() {
            if (!runnerClosed) {
                runnerClosed = true;
                inTensor.close();
                outTensor.close();
            }
        }
    }

    /** The rows of a raw output scoring at least {@code minScore}, scaled from the padded square of side {@code square} to frame pixels. */
    List<Person> people(float[] raw, int square, float minScore) {
        int k = spec.keypoints().size();
        int row = spec.rowSize();
        List<Person> people = new ArrayList<>(spec.maxPeople());
        for (int p = 0; p < spec.maxPeople(); p++) {
            int o = p * row;
            float score = raw[o + 3 * k + 4];
            if (!(score >= minScore)) {
                continue;
            }
            float[] kps = new float[3 * k];
            for (int j = 0; j < k; j++) {
                kps[3 * j] = raw[o + 3 * j + 1] * square;
                kps[3 * j + 1] = raw[o + 3 * j] * square;
                kps[3 * j + 2] = raw[o + 3 * j + 2];
            }
            int b = o + 3 * k;
            float[] box = {raw[b + 1] * square, raw[b] * square, raw[b + 3] * square, raw[b + 2] * square};
            people.add(new Person(score, box, kps));
        }
        return people;
    }
}

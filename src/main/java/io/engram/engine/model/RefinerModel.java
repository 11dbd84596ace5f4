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
 * A fixed-lag refiner ({@code task: refine}, docs/model-contract.md): the backward direction of a
 * bidirectional classifier, run over a window of the last L + 1 frames' inputs, newest first,
 * with the frame before the window and the forward model's state after the window's oldest frame;
 * it gives the class probabilities of that oldest frame. One ONNX session per model, shared by
 * all tasks and owned by whoever loaded it; each task runs it through its own {@link Window}.
 */
public final class RefinerModel implements AutoCloseable {
    private final ModelManifest manifest;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final int forwardSize;
    private boolean closed;

    private RefinerModel(ModelManifest manifest, OrtEnvironment env, OrtSession session, int forwardSize) {
        this.manifest = manifest;
        this.env = env;
        this.session = session;
        this.forwardSize = forwardSize;
    }

    /** Loads the refiner of {@code manifest} ({@code task: refine}) and checks its graph against the manifest. */
    public static RefinerModel load(ModelManifest manifest) {
        if (!"refine".equals(manifest.task()) || manifest.refine() == null) {
            throw new ConfigException("Model " + manifest.manifestPath() + " has task '" + manifest.task()
                    + "'; a refiner needs task: refine (docs/model-contract.md, \"Fixed-lag refiners\").");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = Sessions.open(manifest.onnxFile(), 1, "Refiner " + manifest.onnxFile() + " (manifest " + manifest.manifestPath()
                + ")", "re-export it with its training script (see its model card).");
        try {
            Map<String, NodeInfo> in = session.getInputInfo();
            ModelManifest.Refine r = manifest.refine();
            long[] x = shape(in, manifest.input().name(), manifest);
            long[] before = shape(in, r.before(), manifest);
            long[] fwd = shape(in, r.forwardState(), manifest);
            if (x.length != 3 || (x[2] > 0 && x[2] != manifest.input().size()) || before.length != 2 || fwd.length != 2
                    || in.size() != 3 || fwd[1] <= 0) {
                throw new ConfigException("Refiner " + manifest.onnxFile() + " does not match its manifest " + manifest.manifestPath()
                        + ": it needs inputs " + manifest.input().name() + " [window, batch, " + manifest.input().size() + "], "
                        + r.before() + " [batch, " + manifest.input().size() + "] and " + r.forwardState()
                        + " [batch, H]. Fix the manifest or re-export the model.");
            }
            return new RefinerModel(manifest, env, session, (int) fwd[1]);
        } catch (OrtException | RuntimeException e) {
            Sessions.close(session, manifest.id());
            if (e instanceof ConfigException c) {
                throw c;
            }
            throw new ConfigException("Refiner " + manifest.onnxFile() + ": its inputs could not be read: " + e.getMessage(), e);
        }
    }

    private static long[] shape(Map<String, NodeInfo> in, String name, ModelManifest m) {
        NodeInfo n = in.get(name);
        if (n == null || !(n.getInfo() instanceof TensorInfo t)) {
            throw new ConfigException("Refiner " + m.onnxFile() + " has no input '" + name + "' (it has " + in.keySet()
                    + "). Fix the manifest " + m.manifestPath() + " or re-export the model.");
        }
        return t.getShape();
    }

    public ModelManifest manifest() {
        return manifest;
    }

    /** The size of the forward model's state the refiner reads. */
    public int forwardSize() {
        return forwardSize;
    }

    /** A runner for windows of {@code window} frames (L + 1), batch 1; the caller owns it and must close it. */
    public Window newWindow(int window) {
        if (closed) {
            throw new IllegalStateException("refiner closed");
        }
        return new Window(window);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sessions.close(session, "refiner " + manifest.id());
    }

    /**
     * Runs the refiner over windows of a fixed length at batch 1, over reused native buffers and a
     * pinned output: nothing is allocated per frame. One per task thread; idempotent {@link #close()}.
     */
    public final class Window implements AutoCloseable {
        private final int window;
        private final int f = manifest.input().size();
        private final FloatBuffer x;
        private final FloatBuffer before;
        private final FloatBuffer fwd;
        private final FloatBuffer out;
        private final Map<String, OnnxTensor> feeds;
        private final Map<String, OnnxTensor> pinned;
        private boolean done;

        private Window(int window) {
            this.window = window;
            try {
                x = Sessions.floats(window * f);
                before = Sessions.floats(f);
                fwd = Sessions.floats(forwardSize);
                out = Sessions.floats(manifest.output().size());
                ModelManifest.Refine r = manifest.refine();
                feeds = Map.of(manifest.input().name(), OnnxTensor.createTensor(env, x, new long[] {window, 1, f}),
                        r.before(), OnnxTensor.createTensor(env, before, new long[] {1, f}),
                        r.forwardState(), OnnxTensor.createTensor(env, fwd, new long[] {1, forwardSize}));
                pinned = Map.of(manifest.output().name(), OnnxTensor.createTensor(env, out, new long[] {1, manifest.output().size()}));
            } catch (OrtException e) {
                throw new IllegalStateException("allocating the refiner's tensors", e);
            }
        }


        public int window() {
            return window;
        }

        /**
         * The probabilities of the window's oldest frame into {@code probs}.
         *
         * @param newestFirst the window's inputs, {@code window * input.size} floats, newest frame first
         * @param xBefore the frame before the oldest (zeros at a camera's first frame)
         * @param forward the forward model's state after the oldest frame, at {@code forwardOffset}
         */
        public void run(float[] newestFirst, float[] xBefore, float[] forward, int forwardOffset, float[] probs) {
            if (done) {
                throw new IllegalStateException("refiner window closed");
            }
            x.clear();
            x.put(newestFirst, 0, window * f);
            before.clear();
            before.put(xBefore, 0, f);
            fwd.clear();
            fwd.put(forward, forwardOffset, forwardSize);
            try (OrtSession.Result ignored = session.run(feeds, pinned)) {
                // probs written into the pinned output
            } catch (OrtException e) {
                throw new IllegalStateException("running refiner " + manifest.id(), e);
            }
            out.clear();
            out.get(probs, 0, manifest.output().size());
        }

        @Override
        public void close() {
            if (done) {
                return;
            }
            done = true;
            feeds.values().forEach(OnnxTensor::close);
            pinned.values().forEach(OnnxTensor::close);
        }
    }
}

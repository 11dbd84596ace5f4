package io.engram.engine.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.engram.engine.errors.ConfigException;
import java.util.Map;

/**
 * One loaded ONNX step model. Owns the ONNX Runtime session (native memory): create it once per
 * model and share it between all stream threads, since {@code OrtSession.run} is thread-safe. Each
 * thread takes its own {@link OnnxStep}, which owns that thread's reusable input/output buffers.
 * {@link #close()} releases the session and is idempotent; close every stepper first.
 */
public final class StepSession implements AutoCloseable {
    private final ModelManifest manifest;
    private final OrtEnvironment env;
    private final OrtSession session;
    private volatile boolean closed;

    private StepSession(ModelManifest manifest, OrtEnvironment env, OrtSession session) {
        this.manifest = manifest;
        this.env = env;
        this.session = session;
    }

    /** Loads the manifest's ONNX file and checks that its graph matches the manifest. */
    public static StepSession load(ModelManifest manifest) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = Sessions.open(manifest.onnxFile(), 1, "Model file " + manifest.onnxFile() + " (manifest "
                + manifest.manifestPath() + ")", "re-export the model with its training script (see the model card), or restore the file.");
        StepSession model = new StepSession(manifest, env, session);
        try {
            model.checkGraph();
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    private void checkGraph() {
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            checkTensor(inputs, manifest.input().name(), manifest.input().size(), "input");
            checkTensor(outputs, manifest.output().name(), manifest.output().size(), "output");
            for (ModelManifest.StatePair p : manifest.state()) {
                checkTensor(inputs, p.input(), p.size(), "state input");
                checkTensor(outputs, p.output(), p.size(), "state output");
            }
            int expectedInputs = 1 + manifest.state().size();
            if (inputs.size() != expectedInputs) {
                throw mismatch("the graph has inputs " + inputs.keySet() + " but the manifest declares "
                        + expectedInputs + " (input + state inputs)");
            }
        } catch (OrtException e) {
            throw mismatch("its inputs/outputs could not be read: " + e.getMessage());
        }
    }

    private void checkTensor(Map<String, NodeInfo> infos, String name, int size, String role) {
        NodeInfo info = infos.get(name);
        if (info == null) {
            throw mismatch("the manifest's " + role + " '" + name + "' is not in the graph (graph has " + infos.keySet() + ")");
        }
        if (!(info.getInfo() instanceof TensorInfo t) || t.getShape().length != 2) {
            throw mismatch(role + " '" + name + "' must be a 2-D tensor [batch, " + size + "]");
        }
        long last = t.getShape()[1];
        if (last > 0 && last != size) {
            throw mismatch(role + " '" + name + "' has width " + last + " in the graph but " + size + " in the manifest");
        }
    }

    private ConfigException mismatch(String what) {
        return new ConfigException("Model " + manifest.onnxFile() + " does not match its manifest "
                + manifest.manifestPath() + ": " + what + ". Fix the manifest or re-export the model.");
    }

    public ModelManifest manifest() {
        return manifest;
    }

    OrtEnvironment env() {
        return env;
    }

    OrtSession session() {
        return session;
    }

    /** A new stepper at the given batch size; the caller owns it and must close it. */
    public OnnxStep newStep(int batch) {
        if (closed) {
            throw new IllegalStateException("model closed");
        }
        return new OnnxStep(this, batch);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sessions.close(session, manifest.id());
    }
}

package io.engram.engine.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.engram.engine.errors.ConfigException;
import java.nio.file.Path;

/**
 * ONNX Runtime sessions and buffers as Engram makes them, for every kind of model. Sessions: the process's one
 * environment, {@code intraOpThreads} (1 for a recurrent step: threads cost more than they save on a
 * few small matrix products), one inter-op thread, all graph optimisations. The caller owns the
 * session.
 */
final class Sessions {
    private Sessions() {}

    /**
     * @param what e.g. "Model file x.onnx (manifest x.yaml)", the start of the error message
     * @param fix what to do if it cannot be loaded
     */
    static OrtSession open(Path onnx, int intraOpThreads, String what, String fix) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return OrtEnvironment.getEnvironment().createSession(onnx.toString(), options);
        } catch (OrtException e) {
            throw new ConfigException(what + " could not be loaded by ONNX Runtime: " + e.getMessage() + ". Fix: " + fix, e);
        }
    }

    /**
     * {@code model}, just made over a session it owns, once {@code check} accepts it (its graph
     * matches its manifest); when the check throws, the model is closed (its session with it) and
     * the error goes on.
     */
    static <M extends AutoCloseable> M checked(M model, java.util.function.Consumer<M> check) {
        try {
            check.accept(model);
            return model;
        } catch (RuntimeException e) {
            try {
                model.close();
            } catch (Exception closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** The tensor info of node {@code name} among {@code nodes} (a session's inputs or outputs), or null when it has none or it is no tensor. */
    static ai.onnxruntime.TensorInfo tensor(java.util.Map<String, ai.onnxruntime.NodeInfo> nodes, String name) {
        ai.onnxruntime.NodeInfo n = nodes.get(name);
        return n != null && n.getInfo() instanceof ai.onnxruntime.TensorInfo t ? t : null;
    }

    /** A direct, native-order buffer of {@code n} floats: what a tensor over reused memory needs. */
    static java.nio.FloatBuffer floats(int n) {
        return java.nio.ByteBuffer.allocateDirect(n * Float.BYTES).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Closes {@code session}; a failure is a bug, not a user's mistake. */
    static void close(OrtSession session, String name) {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX session of " + name, e);
        }
    }
}

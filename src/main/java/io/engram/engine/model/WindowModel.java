package io.engram.engine.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.engram.engine.errors.ConfigException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * A recurrent model in its full-sequence form, run over a whole window of inputs from a zero state:
 * {@code z [T, 1, F]} (oldest first) to {@code y [1, O]}, the output after the last input. This is
 * what a windowed job does for every record, and what Engram's one step per record replaces; the
 * benchmark's baseline runs it ({@code models/sensor-forecaster/export_window.py} exports one).
 *
 * <p>Owns its session and its native buffers, reused for every window (batch 1, a fixed T); not
 * thread-safe: one per thread. {@link #close()} is idempotent.
 */
public final class WindowModel implements AutoCloseable {
    private final Path file;
    private final int window;
    private final int features;
    private final int outputs;
    private final OrtSession session;
    private final FloatBuffer in;
    private final FloatBuffer out;
    private final OnnxTensor inTensor;
    private final OnnxTensor outTensor;
    private final Map<String, OnnxTensor> feeds;
    private final Map<String, OnnxTensor> pinned;
    private boolean closed;

    private WindowModel(Path file, int window, int features, int outputs, OrtSession session, String inName, String outName)
            throws OrtException {
        this.file = file;
        this.window = window;
        this.features = features;
        this.outputs = outputs;
        this.session = session;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        in = Sessions.floats(window * features);
        out = Sessions.floats(outputs);
        inTensor = OnnxTensor.createTensor(env, in, new long[] {window, 1, features});
        outTensor = OnnxTensor.createTensor(env, out, new long[] {1, outputs});
        feeds = Map.of(inName, inTensor);
        pinned = Map.of(outName, outTensor);
    }

    /**
     * Loads {@code file}, whose one input is {@code [time, batch, features]} and one output
     * {@code [batch, outputs]}, for windows of {@code window} inputs.
     */
    public static WindowModel load(Path file, int window, int features, int outputs) {
        String fix = "export it with models/sensor-forecaster/export_window.py.";
        OrtSession session = Sessions.open(file, 1, "Window model " + file, fix);
        try {
            if (session.getInputNames().size() != 1 || session.getOutputNames().size() != 1) {
                throw new ConfigException("Window model " + file + " must have one input [time, batch, features] and one output"
                        + " [batch, outputs]; it has inputs " + session.getInputNames() + " and outputs " + session.getOutputNames()
                        + ". Fix: " + fix);
            }
            return new WindowModel(file, window, features, outputs, session, session.getInputNames().iterator().next(),
                    session.getOutputNames().iterator().next());
        } catch (OrtException | RuntimeException e) {
            Sessions.close(session, file.toString());
            if (e instanceof ConfigException c) {
                throw c;
            }
            throw new ConfigException("Window model " + file + ": " + e.getMessage() + ". Fix: " + fix, e);
        }
    }

    public int window() {
        return window;
    }

    /**
     * Runs the model over {@code z} ({@code window * features} floats, oldest input first, each
     * input's features together) into {@code y} ({@code outputs} floats).
     */
    public void run(float[] z, float[] y) {
        if (closed) {
            throw new IllegalStateException("window model " + file + " closed");
        }
        in.clear();
        in.put(z, 0, window * features);
        try (OrtSession.Result ignored = session.run(feeds, pinned)) {
            // y is written into the pinned output buffer
        } catch (OrtException e) {
            throw new IllegalStateException("running window model " + file, e);
        }
        out.clear();
        out.get(y, 0, outputs);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        inTensor.close();
        outTensor.close();
        Sessions.close(session, "window model " + file);
    }
}

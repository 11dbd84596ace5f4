package io.engram.engine.model;

import io.engram.testkit.Golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One ONNX Runtime step equals PyTorch on the golden vectors, for every step model with golden
 * vectors of this shape: the sensor GRU and LSTM, and the video feature forecaster.
 */
class StepSessionParityTest {
    /** models/DIR/NAME: the manifest is models/DIR/NAME.yaml, the golden vectors models/DIR/golden/NAME.json. */
    static ModelManifest manifest(String name) {
        return ModelManifest.load(Path.of("models/" + name + ".yaml"));
    }

    static Golden golden(String name) throws Exception {
        Path p = Path.of("models/" + name);
        return new Golden(p.getParent().resolve("golden").resolve(p.getFileName() + ".json"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"sensor-forecaster/sensor-gru", "sensor-forecaster/sensor-lstm", "video-anomaly/feature-gru"})
    void oneBatchedStepEqualsPyTorchTo1e5(String name) throws Exception {
        ModelManifest m = manifest(name);
        JsonNode g = golden(name).root.get("single_step");
        int batch = g.get("x").size();
        float[] x = Golden.rowsFloat(g.get("x"));
        int sf = m.stateFloats();
        float[] state = new float[batch * sf];
        int off = 0;
        for (ModelManifest.StatePair p : m.state()) {
            float[] s = Golden.rowsFloat(g.get("state_in").get(p.input()));
            for (int b = 0; b < batch; b++) {
                System.arraycopy(s, b * p.size(), state, b * sf + off, p.size());
            }
            off += p.size();
        }
        float[] out = new float[batch * m.output().size()];
        try (StepSession model = StepSession.load(m); OnnxStep stepper = model.newStep(batch)) {
            stepper.stepBatch(x, state, out);
        }
        float[] expectedOut = Golden.rowsFloat(g.get("output"));
        for (int i = 0; i < out.length; i++) {
            assertEquals(expectedOut[i], out[i], 1e-5, "output " + i);
        }
        off = 0;
        for (ModelManifest.StatePair p : m.state()) {
            float[] e = Golden.rowsFloat(g.get("state_out").get(p.output()));
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < p.size(); j++) {
                    assertEquals(e[b * p.size() + j], state[b * sf + off + j], 1e-5, p.output() + "[" + b + "][" + j + "]");
                }
            }
            off += p.size();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sensor-forecaster/sensor-gru", "sensor-forecaster/sensor-lstm", "video-anomaly/feature-gru"})
    void fiftyStepsFedBackEqualTheFullSequenceTo1e4(String name) throws Exception {
        ModelManifest m = manifest(name);
        JsonNode seq = golden(name).root.get("sequence");
        double[][] z = Golden.rowsDouble(seq.get("z"));
        double[][] y = Golden.rowsDouble(seq.get("y"));
        float[] state = new float[m.stateFloats()];
        float[] x = new float[m.input().size()];
        float[] out = new float[m.output().size()];
        try (StepSession model = StepSession.load(m); OnnxStep stepper = model.newStep(1)) {
            for (int t = 0; t < z.length; t++) {
                for (int c = 0; c < x.length; c++) x[c] = (float) z[t][c];
                stepper.step(x, state, out);
                for (int c = 0; c < out.length; c++) {
                    assertEquals(y[t][c], out[c], 1e-4, "step " + t);
                }
            }
        }
    }
}

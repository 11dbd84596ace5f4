package io.engram.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One ONNX Runtime step equals PyTorch on the golden vectors, for the GRU and the LSTM. */
class StepModelParityTest {
    static final Path DIR = Path.of("models/sensor-forecaster");

    @ParameterizedTest
    @ValueSource(strings = {"gru", "lstm"})
    void oneBatchedStepEqualsPyTorchTo1e5(String cell) throws Exception {
        ModelManifest m = ModelManifest.load(DIR.resolve("sensor-" + cell + ".yaml"));
        JsonNode g = new Golden(DIR.resolve("golden/sensor-" + cell + ".json")).root.get("single_step");
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
        try (StepModel model = StepModel.load(m); Stepper stepper = model.newStepper(batch)) {
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
    @ValueSource(strings = {"gru", "lstm"})
    void fiftyStepsFedBackEqualTheFullSequenceTo1e4(String cell) throws Exception {
        ModelManifest m = ModelManifest.load(DIR.resolve("sensor-" + cell + ".yaml"));
        JsonNode seq = new Golden(DIR.resolve("golden/sensor-" + cell + ".json")).root.get("sequence");
        double[][] z = Golden.rowsDouble(seq.get("z"));
        double[][] y = Golden.rowsDouble(seq.get("y"));
        float[] state = new float[m.stateFloats()];
        float[] x = new float[m.input().size()];
        float[] out = new float[m.output().size()];
        try (StepModel model = StepModel.load(m); Stepper stepper = model.newStepper(1)) {
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

package io.engram.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.tools.bench.WindowedBaseline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The windowed baseline's model ({@code sensor-gru-window.onnx}, made by
 * {@code models/sensor-forecaster/export_window.py} from the released step model's weights) is the
 * released forecaster: over a window it gives PyTorch's forecasts (golden vectors), and the same
 * as the step model stepped over that window from a zero state.
 */
class WindowModelTest {
    static final Path STEP = Path.of("models/sensor-forecaster/sensor-gru.yaml");

    @Test
    void theWindowExportGivesPyTorchsForecastsOnTheGoldenWindows() throws Exception {
        JsonNode g = new ObjectMapper().readTree(Path.of("models/sensor-forecaster/golden/sensor-gru-window.json").toFile());
        int t = g.get("T").asInt();
        Path file = WindowedBaseline.windowModelOf(ModelManifest.load(STEP));
        assertTrue(Files.exists(file), file.toString());
        try (WindowModel w = WindowModel.load(file, t, 1, 1)) {
            float[] y = new float[1];
            for (int i = 0; i < g.get("windows").size(); i++) {
                float[] z = new float[t];
                for (int j = 0; j < t; j++) {
                    z[j] = (float) g.get("windows").get(i).get(j).asDouble();
                }
                w.run(z, y);
                assertEquals(g.get("y").get(i).asDouble(), y[0], 1e-5, "window " + i);
            }
        }
    }

    @Test
    void theWindowExportEqualsTheStepModelSteppedOverTheWindowFromAZeroState() {
        ModelManifest m = ModelManifest.load(STEP);
        int t = 64;
        Random rnd = new Random(3);
        try (StepSession step = StepSession.load(m); OnnxStep s = step.newStep(1);
                WindowModel w = WindowModel.load(WindowedBaseline.windowModelOf(m), t, 1, 1)) {
            for (int trial = 0; trial < 5; trial++) {
                float[] z = new float[t];
                float[] h = new float[m.stateFloats()];
                float[] y = new float[1];
                for (int i = 0; i < t; i++) {
                    z[i] = (float) (Math.sin(i / 7.0 + trial) + 0.3 * rnd.nextGaussian());
                    s.step(new float[] {z[i]}, h, y);
                }
                float[] yw = new float[1];
                w.run(z, yw);
                assertEquals(y[0], yw[0], 1e-5, "trial " + trial);
            }
        }
    }
}

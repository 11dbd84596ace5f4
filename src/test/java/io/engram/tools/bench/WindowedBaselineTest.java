package io.engram.tools.bench;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.Normalizer;
import io.engram.engine.model.StepSession;
import io.engram.engine.model.OnnxStep;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's windowed baseline is what it says: every record's forecast is the released GRU
 * rerun, from a zero state, over that stream's last T normalised readings (zeros in front while
 * fewer have come), through the same head as the stateful pipeline.
 */
class WindowedBaselineTest {
    @Test
    void eachForecastIsTheModelRerunOverTheStreamsLastTReadings() throws Exception {
        PipelineSpec sensor = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        ModelManifest m = ModelManifest.load(sensor.modelManifest());
        int t = 8;
        PipelineSpec spec = WindowedBaseline.of(sensor, WindowedBaseline.windowModelOf(m), t);
        ObjectMapper json = new ObjectMapper();
        int n = 30;
        double[] readings = new double[n];
        for (int i = 0; i < n; i++) {
            readings[i] = 20 + 5 * Math.sin(i / 3.0) + (i % 7 == 0 ? 4 : 0);
        }
        List<JsonNode> preds = new ArrayList<>();
        try (PipelineDriver pd = new PipelineDriver(spec)) {
            var in = pd.stepInput();
            for (int i = 0; i < n; i++) {
                String v = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.6f]}", 1_700_000_000_000L + 60_000L * i, readings[i]);
                in.pipeInput("s1".getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8), 1_700_000_000_000L + 60_000L * i);
            }
            for (String p : pd.output(ForecastHead.PREDICTIONS).readValuesToList()) {
                preds.add(json.readTree(p));
            }
        }
        assertEquals(n, preds.size());
        // Expected: the step model stepped from a zero state over the window (zeros in front), denormalised with the running stats.
        Normalizer norm = new Normalizer(m.preprocessing());
        double[] z = new double[n];
        double[] stats = new double[2];
        double[][] after = new double[n][];
        for (int i = 0; i < n; i++) {
            z[i] = (float) norm.normalize(readings[i], i, stats[0], stats[1]);
            norm.update(readings[i], i, stats);
            after[i] = stats.clone();
        }
        try (StepSession model = StepSession.load(m); OnnxStep s = model.newStep(1)) {
            for (int i = 0; i < n; i++) {
                float[] h = new float[m.stateFloats()];
                float[] y = new float[1];
                for (int k = i - t + 1; k <= i; k++) {
                    s.step(new float[] {k < 0 ? 0f : (float) z[k]}, h, y);
                }
                double expected = norm.denormalize(y[0], after[i][0], after[i][1]);
                assertEquals(expected, preds.get(i).get("next_forecast").get(0).asDouble(), 1e-4 * Math.max(1, Math.abs(expected)),
                        "record " + i);
                assertEquals(i, preds.get(i).get("step").asLong());
            }
        }
    }
}

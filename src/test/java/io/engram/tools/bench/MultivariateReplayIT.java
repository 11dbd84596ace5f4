package io.engram.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `engram nab` on a multivariate CSV ({@code timestamp,Flow,Pressure,Temperature}, committed under
 * src/test/resources/multivariate): each row one vector reading through the real topology on the
 * in-process broker, one scored row per input row, and the level reason naming its column.
 */
class MultivariateReplayIT {
    @TempDir
    Path tmp;

    @Test
    void eachRowIsOneVectorReadingAndALevelShiftNamesItsColumn() throws Exception {
        Path data = tmp.resolve("data/rig");
        Files.createDirectories(data);
        Path csv = Path.of("src/test/resources/multivariate/rig/step.csv");
        Files.copy(csv, data.resolve("step.csv"));
        Path out = tmp.resolve("out");
        PipelineSpec spec = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        // The level reason is what this checks: without the joint channel, which alerts on such
        // independent noise now and then (JointChannelTest; docs/benchmarks.md, "Multivariate: SKAB").
        var fs = (io.engram.engine.pipeline.anomaly.ForecastSettings) spec.settings();
        spec = spec.withSettings(fs.withScoring(fs.scoring().without(io.engram.engine.pipeline.anomaly.ScoringConfig.Channel.JOINT)));
        NabReplay.Report report = NabReplay.run(spec, tmp.resolve("data"), out, null);
        assertEquals(1, report.files());
        assertEquals(800, report.rows());

        List<String> in = Files.readAllLines(csv);
        List<String> lines = Files.readAllLines(out.resolve("rig/step.csv"));
        assertEquals("timestamp,Flow,Pressure,Temperature,anomaly_score,raw_score,alert,reasons", lines.get(0));
        assertEquals(in.size(), lines.size(), "one scored row per input row");
        int firstAlert = -1;
        boolean named = false;
        for (int i = 1; i < lines.size(); i++) {
            String[] p = lines.get(i).split(",", -1);
            String[] q = in.get(i).split(",");
            assertEquals(q[0], p[0], "same timestamps, same order (row " + i + ")");
            for (int c = 1; c <= 3; c++) {
                assertEquals(Double.parseDouble(q[c]), Double.parseDouble(p[c]), 1e-9, "the reading's values (row " + i + ")");
            }
            double s = Double.parseDouble(p[4]);
            assertTrue(s >= 0 && s <= 1, "score in [0,1]: " + s);
            if (p[6].equals("1") && firstAlert < 0) {
                firstAlert = i - 1;
            }
            if (i - 1 >= 600 && i - 1 < 700 && List.of(p[7].split("\\|")).contains("level:Pressure")) {
                named = true;
            }
            assertTrue(!p[7].contains("level:Flow") && !p[7].contains("level:Temperature"), "only Pressure moved: row " + i + " " + p[7]);
        }
        assertTrue(firstAlert >= 600 && firstAlert < 620, "the step in Pressure at row 600 alerts, nothing before: " + firstAlert);
        assertTrue(named, "and the level reason names the column: level:Pressure");
    }
}

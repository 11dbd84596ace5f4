package io.engram.tools.bench;

import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.tools.ingest.SensorCsv;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.config.OutOfOrder;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `engram nab` on a small NAB-format folder, through the real topology on the in-process broker. */
class NabReplayIT {
    @TempDir
    Path tmp;

    private static List<String> write(Path file, int rows, int spikeAt, long seed) throws Exception {
        Files.createDirectories(file.getParent());
        SplittableRandom r = new SplittableRandom(seed);
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
        LocalDateTime t = LocalDateTime.of(2014, 4, 1, 0, 0);
        List<String> lines = new ArrayList<>();
        lines.add("timestamp,value");
        for (int i = 0; i < rows; i++) {
            if (i != 200) { // row 200 repeats row 199's timestamp, as some NAB files do
                t = t.plusMinutes(5);
            }
            double v = 20 + 3 * Math.sin(2 * Math.PI * i / 288.0) + 0.2 * r.nextGaussian() + (i == spikeAt ? 15 : 0);
            lines.add(t.format(f) + "," + String.format(Locale.ROOT, "%.3f", v));
        }
        Files.write(file, lines);
        return lines;
    }

    @Test
    void writesOneScoreRowPerInputRowInFileOrderPerCategory() throws Exception {
        Path data = tmp.resolve("data");
        List<String> a = write(data.resolve("realTest/a.csv"), 900, 700, 1);
        List<String> b = write(data.resolve("artificialTest/b.csv"), 600, 500, 2);
        Path out = tmp.resolve("out");
        PipelineSpec spec = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        NabReplay.Report report = NabReplay.run(spec, data, out, null);
        assertEquals(2, report.files());
        assertEquals(1500, report.rows());
        check(a, out.resolve("realTest/a.csv"), 700);
        check(b, out.resolve("artificialTest/b.csv"), 500);
        // Each row's score is its own prediction's: the replay stops reading at one prediction per row,
        // so a duplicate would leave a row without its score (0) or with another's, which shows here.
        sameScoresAsTheTopology(spec, data.resolve("realTest/a.csv"), "realTest/a", out.resolve("realTest/a.csv"));
        sameScoresAsTheTopology(spec, data.resolve("artificialTest/b.csv"), "artificialTest/b", out.resolve("artificialTest/b.csv"));
    }

    /**
     * The scores of a result file equal, row by row, those of the same rows stepped once each, in
     * order, through the same topology in a TopologyTestDriver (as the replay runs it: out-of-order
     * readings processed).
     */
    private static void sameScoresAsTheTopology(PipelineSpec spec, Path csv, String stream, Path result) throws Exception {
        JsonSerde<ForecastPrediction> serde = new JsonSerde<>(ForecastPrediction.class);
        List<String> expected = new ArrayList<>();
        try (PipelineDriver d = new PipelineDriver(spec.withOutOfOrder(OutOfOrder.PROCESS))) {
            var in = d.input(AnomalyPipeline.INPUT);
            var preds = d.output(ForecastHead.PREDICTIONS);
            for (SensorCsv.Row row : SensorCsv.read(csv).rows()) {
                String json = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", row.ts(), Double.toString(row.values()[0]));
                in.pipeInput(stream.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8), row.ts());
            }
            for (var r : preds.readRecordsToList()) {
                expected.add(String.format(Locale.ROOT, "%.8f", NabReplay.nabScore(serde.deserialize("t", r.value().getBytes(StandardCharsets.UTF_8)))));
            }
        }
        List<String> lines = Files.readAllLines(result);
        assertEquals(expected.size() + 1, lines.size(), "one row per prediction of the topology");
        for (int i = 1; i < lines.size(); i++) {
            assertEquals(expected.get(i - 1), lines.get(i).split(",")[2], result.getFileName() + " row " + i + ": its own prediction's score");
        }
    }

    private static void check(List<String> in, Path result, int spike) throws Exception {
        List<String> lines = Files.readAllLines(result);
        assertEquals("timestamp,value,anomaly_score,raw_score,alert,reasons", lines.get(0));
        assertEquals(in.size(), lines.size(), "one row per input row");
        int best = -1;
        double bestScore = -1;
        for (int i = 1; i < lines.size(); i++) {
            String[] p = lines.get(i).split(",");
            assertEquals(in.get(i).split(",")[0], p[0], "same timestamps, same order (row " + i + ")");
            assertEquals(Double.parseDouble(in.get(i).split(",")[1]), Double.parseDouble(p[1]), 1e-9);
            double s = Double.parseDouble(p[2]);
            assertTrue(s >= 0 && s <= 1, "score in [0,1]: " + s);
            if (s > bestScore) {
                bestScore = s;
                best = i - 1;
            }
        }
        assertEquals(spike, best, "the injected spike scores highest in " + result.getFileName());
        String[] top = lines.get(best + 1).split(",", -1);
        assertEquals("1", top[4], "the spike alerted");
        assertTrue(!top[5].isEmpty(), "and the row says why");
    }
}

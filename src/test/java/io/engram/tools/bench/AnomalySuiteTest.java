package io.engram.tools.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The suite's generator and scoring, without the pipeline. */
class AnomalySuiteTest {
    @TempDir
    Path dir;

    @Test
    void theSameSeedGivesTheSameLabelledSeries() {
        List<AnomalySuite.Series> a = AnomalySuite.generate(AnomalySuite.SEED);
        List<AnomalySuite.Series> b = AnomalySuite.generate(AnomalySuite.SEED);
        assertEquals(8 * 6 + 12, a.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).name(), b.get(i).name());
            assertArrayEquals(a.get(i).values(), b.get(i).values(), 0.0);
            assertEquals(a.get(i).anomalyStart(), b.get(i).anomalyStart());
        }
        assertNotEquals(a.get(0).values()[100], AnomalySuite.generate(1).get(0).values()[100]);
        for (AnomalySuite.Series s : a) {
            assertEquals(AnomalySuite.LENGTH, s.values().length);
            if (s.type().equals("none")) {
                assertEquals(-1, s.anomalyStart());
            } else {
                // After five days: past the warm-up, with the time-of-day profile learnt.
                assertTrue(s.anomalyStart() >= 5 * AnomalySuite.STEPS_PER_DAY && s.anomalyStart() < AnomalySuite.LENGTH - 60, s.name());
            }
        }
    }

    @Test
    void dropoutsAndStuckSensorsStartAtTheirLabel() {
        // The anomaly is injected at its labelled start (checked for the types whose readings show it alone).
        for (AnomalySuite.Series s : AnomalySuite.generate(AnomalySuite.SEED)) {
            int t = s.anomalyStart();
            switch (s.type()) {
                case "dropout" -> assertEquals(0.0, s.values()[t], 0.0, s.name());
                case "stuck" -> assertEquals(s.values()[t], s.values()[t + 100], 0.0, s.name());
                default -> { }
            }
        }
    }

    @Test
    void recallCountsAnAlertWithinADayOfTheStartAndFalseAlarmsOnlyOnCleanSeries() throws Exception {
        List<AnomalySuite.Series> suite = List.of(
                new AnomalySuite.Series("level_shift/a", "level_shift", false, new double[AnomalySuite.LENGTH], 1600),
                new AnomalySuite.Series("level_shift/b", "level_shift", false, new double[AnomalySuite.LENGTH], 1600),
                new AnomalySuite.Series("none/c", "none", false, new double[AnomalySuite.LENGTH], -1));
        result("level_shift/a", 1650, 100); // caught, 50 readings late (an earlier false alarm does not count as a catch)
        result("level_shift/b", 1600 + AnomalySuite.CATCH_WITHIN); // a day late: missed
        result("none/c", 500, 900);
        AnomalySuite.Report r = AnomalySuite.score(suite, dir, 1.0);
        AnomalySuite.TypeResult t = r.types().get("level_shift");
        assertEquals(2, t.series());
        assertEquals(1, t.caught());
        assertEquals(50.0, t.meanDelaySteps());
        assertEquals(2, r.cleanAlerts());
        assertEquals(10_000.0 * 2 / AnomalySuite.LENGTH, r.falseAlarmsPer10k(), 1e-9);
        assertTrue(AnomalySuite.table(r).contains("| level_shift | 2 | 1 | 0.50 | 50 |"), AnomalySuite.table(r));
    }

    private void result(String name, int... alertsAt) throws Exception {
        Path f = dir.resolve(name + ".csv");
        Files.createDirectories(f.getParent());
        StringBuilder sb = new StringBuilder("timestamp,value,anomaly_score,raw_score,alert,reasons\n");
        for (int i = 0; i < AnomalySuite.LENGTH; i++) {
            boolean a = false;
            for (int x : alertsAt) {
                a |= x == i;
            }
            sb.append("2026-01-05 00:00:00,0,0,0,").append(a ? 1 : 0).append(a ? ",forecast" : ",").append('\n');
        }
        Files.writeString(f, sb.toString());
    }
}

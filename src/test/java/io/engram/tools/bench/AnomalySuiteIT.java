package io.engram.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.runtime.Pipelines;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The labelled synthetic anomaly suite through the real sensor pipeline on the in-process broker
 * ({@code engram anomaly-suite}). The floors are the figures of the report in docs/benchmarks.md
 * ("Synthetic anomaly suite") less one series per type, so that a floating-point difference on
 * another CPU that flips one knife-edge alert does not fail the build, while a real regression does;
 * the false-alarm ceiling is the report's figure plus half.
 */
class AnomalySuiteIT {
    /** Series caught within a day, of 6 per type, in the report. */
    static final Map<String, Integer> REPORTED = Map.of("cron_spikes", 3, "spike_density", 6, "daily_shape", 5, "level_shift", 5,
            "variance_change", 6, "stuck", 6, "dropout", 6, "slow_drift", 3);
    static final double REPORTED_FALSE_ALARMS_PER_10K = 13.7;

    @TempDir
    Path work;

    @Test
    void everyAnomalyTypeIsCaughtAtTheReportedRateAndCleanSeriesStayQuiet() throws Exception {
        AnomalySuite.Report r = AnomalySuite.run(Pipelines.load(Path.of("topology/sensor-anomaly.yaml")), work, null);
        System.out.print(AnomalySuite.table(r));
        assertEquals(AnomalySuite.TYPES, java.util.List.copyOf(r.types().keySet()));
        for (AnomalySuite.TypeResult t : r.types().values()) {
            assertEquals(2 * AnomalySuite.SEEDS_PER_VARIANT, t.series(), t.type());
            assertTrue(t.caught() >= 1, t.type() + " is caught at least once");
            int floor = Math.max(1, REPORTED.get(t.type()) - 1);
            assertTrue(t.caught() >= floor, t.type() + ": " + t.caught() + " caught, floor " + floor);
        }
        assertEquals(12L * AnomalySuite.LENGTH, r.cleanReadings());
        assertTrue(r.falseAlarmsPer10k() <= 1.5 * REPORTED_FALSE_ALARMS_PER_10K,
                "false alarms per 10,000 clean readings: " + r.falseAlarmsPer10k());
    }
}

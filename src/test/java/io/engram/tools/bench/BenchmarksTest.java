package io.engram.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The sensor figures are medians of the rounds after the first (a warm-up), not the best round. */
class BenchmarksTest {
    static SensorBenchmark.Pass pass(String name, double rate) {
        return new SensorBenchmark.Pass(name, (long) rate, 1.0);
    }

    @Test
    void theFirstRoundIsDroppedAndTheMedianOfTheRestTaken() {
        List<SensorBenchmark.Pass> passes = List.of(pass("no-model", 9_000), pass("model", 1_000), pass("no-model", 300),
                pass("model", 200), pass("no-model", 100), pass("model", 400), pass("no-model", 200), pass("model", 300));
        assertEquals(200, Benchmarks.median(passes, "no-model"), "median of 300, 100, 200; the warm-up 9,000 dropped");
        assertEquals(300, Benchmarks.median(passes, "model"), "median of 200, 400, 300");
        assertEquals(200, Benchmarks.median(passes.subList(0, 6), "no-model"), "an even count (300, 100): the mean of the middle two");
        assertEquals(9_000, Benchmarks.median(passes.subList(0, 1), "no-model"), "one round: that one");
        assertTrue(Double.isNaN(Benchmarks.median(passes, "windowed")));
    }

    @Test
    void theBarePassKeepsOnlyTheForecastChannelOfTheShippedFile() {
        var spec = io.engram.engine.runtime.Pipelines.load(java.nio.file.Path.of("topology/sensor-anomaly.yaml"));
        var shipped = ((io.engram.engine.pipeline.anomaly.ForecastSettings) spec.settings()).scoring().channels();
        assertTrue(shipped.size() > 1, "the shipped file has channels beyond the forecast: " + shipped);
        var bare = ((io.engram.engine.pipeline.anomaly.ForecastSettings) SensorBenchmark.forecastChannelOnly(spec).settings()).scoring();
        assertEquals(java.util.EnumSet.of(io.engram.engine.pipeline.anomaly.ScoringConfig.Channel.FORECAST), bare.channels());
    }
}

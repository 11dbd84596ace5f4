package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The scorer's memory beyond one step is part of the stream's state: stored, changelogged and
 * restored exactly as the hidden state is, within 2 KB per sensor stream, and states written before
 * it existed (forecast payload version 1) still restore, with the memory starting afresh.
 */
class ForecastMemoryStateTest {
    static final long T0 = 1_767_571_200_000L; // 2026-01-05T00:00Z
    static final long STEP = 300_000L;

    /** A stream that has been scored for {@code n} readings of a daily shape with noise and a few spikes. */
    static ForecastState scored(AnomalyScorer scorer, int n) {
        ForecastState f = ForecastState.fresh(1);
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 1; i <= n; i++) {
            double x = 50 + 20 * Math.sin(2 * Math.PI * i / 288) + r.nextGaussian() + (i % 500 == 0 ? 30 : 0);
            scorer.score(f, i, Math.abs(r.nextGaussian()), new double[] {x}, T0 + i * STEP);
        }
        return f;
    }

    static StreamState<ForecastState> stream(ForecastState f, long steps) {
        float[] hidden = new float[64];
        for (int i = 0; i < hidden.length; i++) {
            hidden[i] = (float) Math.sin(i);
        }
        return new StreamState<>("sensor-forecaster-gru", "2.0.0", "gru-h64-v2", steps, T0 + steps * STEP, hidden, f);
    }

    @Test
    void aSensorStreamsWholeStateWithItsMemoryRoundTripsWithin2KB() {
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS);
        ForecastState f = scored(scorer, 3000);
        assertNotNull(f.memory, "a one-value stream has the memory");
        assertEquals(96, f.memory.binsReady, "every time-of-day bin seen twice");
        assertTrue(f.memory.wordTotal > 900, "words counted");
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        byte[] bytes = serde.serialize("t", stream(f, 3000));
        assertTrue(bytes.length <= 2048, "state of one sensor stream is " + bytes.length + " bytes");
        ForecastState noMemory = scored(new AnomalyScorer(ScoringConfig.DEFAULTS.without(ScoringConfig.Channel.SEASONAL)
                .without(ScoringConfig.Channel.SHAPE).without(ScoringConfig.Channel.STUCK).without(ScoringConfig.Channel.ROUTINE)), 10);
        // docs/benchmarks.md quotes this line.
        System.out.printf("state of one sensor stream: %d bytes (%d without the memory channels)%n", bytes.length,
                serde.serialize("t", stream(noMemory, 10)).length);
        StreamState<ForecastState> back = serde.deserialize("t", bytes);
        assertEquals(f, back.payload(), "every field of the memory comes back");
        assertArrayEquals(bytes, serde.serialize("t", back), "re-serialised: the same bytes");

        // A restored stream goes on exactly as the one that never stopped.
        ForecastState twin = back.payload();
        SplittableRandom r1 = new SplittableRandom(9);
        SplittableRandom r2 = new SplittableRandom(9);
        for (int i = 3001; i <= 3600; i++) {
            double x1 = 50 + 20 * Math.sin(2 * Math.PI * (i + 96) / 288) + r1.nextGaussian();
            double x2 = 50 + 20 * Math.sin(2 * Math.PI * (i + 96) / 288) + r2.nextGaussian();
            AnomalyScorer.Score a = scorer.score(f, i, 0.5, new double[] {x1}, T0 + i * STEP);
            AnomalyScorer.Score b = scorer.score(twin, i, 0.5, new double[] {x2}, T0 + i * STEP);
            assertEquals(a, b, "step " + i);
        }
    }

    @Test
    void aStateWrittenBeforeTheMemoryExistedRestoresAndTheMemoryStartsAfresh() throws Exception {
        var fx = new ObjectMapper().readTree(Path.of("src/test/resources/state-fixtures/sensor-state-v3-payload1.json").toFile());
        byte[] old = HexFormat.of().parseHex(fx.get("state_hex").asText());
        assertEquals(3, old[0], "StateSerde format 3");
        StreamState<ForecastState> s = new StateSerde<>(new ForecastCodec()).deserialize("t", old);
        assertEquals(340, s.steps());
        assertNull(s.payload().memory, "payload version 1 had no memory");
        long scoredBefore = s.payload().scored;
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS);
        scorer.score(s.payload(), 341, 0.3, new double[] {17.0}, T0);
        assertNotNull(s.payload().memory, "the memory starts with the next reading");
        assertEquals(scoredBefore + 1, s.payload().scored, "the rest of the scorer's state went on");
        // and it is written in the current payload version from then on
        byte[] now = new StateSerde<>(new ForecastCodec()).serialize("t", s);
        assertEquals(s.payload(), new StateSerde<>(new ForecastCodec()).deserialize("t", now).payload());
    }

    @Test
    void aVectorStateWrittenBeforeThePerValueRunsRestoresAndTheRunsStartAfresh() throws Exception {
        var fx = new ObjectMapper().readTree(Path.of("src/test/resources/state-fixtures/sensor-state-v3-payload2-vector.json").toFile());
        byte[] old = HexFormat.of().parseHex(fx.get("state_hex").asText());
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        StreamState<ForecastState> s = serde.deserialize("t", old);
        assertEquals(340, s.steps());
        assertEquals(192, s.hidden().length);
        assertEquals(3, s.payload().channels());
        assertEquals(320, s.payload().scored, "340 readings, the first 20 not scored");
        assertNull(s.payload().memory);
        assertNull(s.payload().stuckLast, "payload version 2 had no per-value runs");
        assertEquals(5.0, s.payload().levelMean[1], 1e-12, "the level statistics came back");
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS);
        scorer.score(s.payload(), 341, 0.3, new double[] {10, 5.0, -3}, T0);
        assertArrayEquals(new double[] {10, 5.0, -3}, s.payload().stuckLast, "the runs start with the next reading");
        assertEquals(321, s.payload().scored, "the rest of the scorer's state went on");
        byte[] now = serde.serialize("t", s);
        assertEquals(s.payload(), serde.deserialize("t", now).payload(), "written in the current payload version from then on, runs included");
        assertEquals(old.length + 1 + 3 * 24 + 1 + ForecastCodec.jointSize(3), now.length,
                "a presence byte and 24 bytes a value more for the runs, and a presence byte and the joint statistics");
    }

    @Test
    void aMemoryOfOtherSizesThanTheConfigurationsStartsAfresh() {
        ForecastState f = scored(new AnomalyScorer(ScoringConfig.DEFAULTS), 1000);
        ScoringConfig d = ScoringConfig.DEFAULTS;
        AnomalyScorer hourly = new AnomalyScorer(new ScoringConfig(d.shortAlpha(), d.longAlpha(), d.warmupSteps(), d.threshold(),
                d.suppressSteps(), d.rawClip(), d.levelWeight(), d.channels(), new ScoringConfig.Seasonal(0.8, 24, 0.5, 0.1), d.routine(),
                d.shape(), d.stuck()));
        assertTrue(!hourly.fits(f.memory), "96 bins stored, 24 configured");
        hourly.score(f, 1001, 0.3, new double[] {50}, T0);
        assertEquals(24, f.memory.binMean.length);
        int seen = 0;
        for (short c : f.memory.binCount) {
            seen += c;
        }
        assertEquals(1, seen, "one reading in the new profile");
    }

    @Test
    void streamsOfSeveralValuesHaveNoMemory() {
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS);
        ForecastState f = ForecastState.fresh(3);
        for (int i = 1; i <= 100; i++) {
            scorer.score(f, i, 0.5, new double[] {1, 2, 3}, T0 + i * STEP);
        }
        assertNull(f.memory);
        ForecastState one = ForecastState.fresh(1);
        AnomalyScorer off = new AnomalyScorer(ScoringConfig.DEFAULTS.without(ScoringConfig.Channel.SEASONAL)
                .without(ScoringConfig.Channel.SHAPE).without(ScoringConfig.Channel.STUCK).without(ScoringConfig.Channel.ROUTINE)
                .without(ScoringConfig.Channel.JOINT));
        for (int i = 1; i <= 100; i++) {
            off.score(one, i, 0.5, new double[] {1}, T0 + i * STEP);
        }
        assertNull(one.memory, "no memory channel on: no memory kept");
        assertEquals(EnumSet.of(ScoringConfig.Channel.FORECAST, ScoringConfig.Channel.LEVEL), off.config().channels());
    }
}

package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.NEWS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JointChannelTest {
    final JointChannel joint = new JointChannel(ScoringConfig.DEFAULTS);
    final LevelChannel level = new LevelChannel(ScoringConfig.DEFAULTS);

    /**
     * Three values: the first two follow one common factor (sd 1) with a little noise of their own (sd
     * 0.05), the third is noise. From {@code shiftAt} on, the first moves up and the second down by
     * {@code shift}: each stays well inside its own range, but the two no longer move together.
     */
    static double[][] rig(int n, int shiftAt, double shift, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) {
            double z = r.nextGaussian();
            double s = i >= shiftAt ? shift : 0;
            x[i] = new double[] {10 + z + 0.05 * r.nextGaussian() + s, 20 + z + 0.05 * r.nextGaussian() - s, 3 + r.nextGaussian()};
        }
        return x;
    }

    static double[] feed(ScoreChannel c, ForecastState s, double[][] x, int from, int to, int[] tops) {
        double[] out = new double[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = c.score(s, x[i], ChannelKit.T0 + i * 1000L);
            if (tops != null) {
                tops[i - from] = c.component(s);
            }
            s.scored++;
        }
        return out;
    }

    @Test
    void aCorrelatedShiftThatThePerValueLevelChecksMissIsNewsAndNamesAMovedValue() {
        double[][] x = rig(2000, 1500, 0.5, 1);
        int[] tops = new int[2000];
        double[] j = feed(joint, ForecastState.fresh(3), x, 0, 2000, tops);
        double[] l = feed(level, ForecastState.fresh(3), x, 0, 2000, null);
        int first = -1;
        for (int i = 1500; i < 1600 && first < 0; i++) {
            if (j[i] <= NEWS) {
                first = i;
            }
        }
        assertTrue(first >= 0, "the joint channel reaches the threshold within 100 readings of the shift: " + ChannelKit.min(j, 1500, 1600));
        assertTrue(tops[first] == 0 || tops[first] == 1, "its reason names a moved value, not " + tops[first]);
        assertTrue(ChannelKit.min(l, 1500, 2000) > NEWS, "the level channel stays below the threshold: " + ChannelKit.min(l, 1500, 2000));
    }

    @Test
    void correlatedNoiseReachesTheThresholdRarely() {
        double[][] x = rig(20_000, Integer.MAX_VALUE, 0, 2);
        double[] j = feed(joint, ForecastState.fresh(3), x, 0, 20_000, null);
        int over = 0;
        for (int i = 300; i < 20_000; i++) {
            over += j[i] <= NEWS ? 1 : 0;
        }
        // The tail is the stream's own (its histogram and an exponential tail beyond its 95th
        // percentile), so it is calibrated: weight w puts a reading at the threshold (one in a million)
        // with probability 10^(-6 / w), 0.66% at the default 2.75 (130 of 19,700; 135 at this seed).
        // The Gaussian fit of the log distance it replaced, at weight 5, put 423 there (2.1%).
        assertTrue(over < 0.01 * 19_700, "readings at the threshold on noise: " + over + ", expected about 130");
        assertTrue(over > 0.004 * 19_700, "readings at the threshold on noise: " + over + ", expected about 130 (update docs/benchmarks.md)");
    }

    @Test
    void aOneValueStreamIsNotItsBusiness() {
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        double[] t = ChannelKit.feed(joint, s, ChannelKit.noise(500, 5, 1, 3), 0, 500);
        assertEquals(0.0, ChannelKit.min(t, 0, 500));
        assertNull(s.jointShort, "no state kept");
        assertEquals(0, joint.stateBytes(s));
    }

    @Test
    void theStateRoundTripsAndTheRestoredStreamGoesOn() {
        double[][] x = rig(1500, 1000, 0.5, 4);
        ForecastState s = ForecastState.fresh(3);
        feed(joint, s, x, 0, 800, null);
        ForecastState back = ChannelKit.roundTrip(s);
        assertEquals(s, back, "every field comes back");
        assertArrayEquals(feed(joint, s, x, 800, 1500, null), feed(joint, back, x, 800, 1500, null), "the same log tails after the restore");
        assertEquals(s, back);
        assertEquals(16 * 3 + 8 * 6 + 16 + 8 * JointChannel.BINS, joint.stateBytes(s));
    }

    @Test
    void theReasonNamesTheColumn() {
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS.without(ScoringConfig.Channel.LEVEL));
        double[][] x = rig(2000, 1500, 0.5, 5);
        ForecastState s = ForecastState.fresh(3);
        List<String> names = List.of("Flow", "Pressure", "Temperature");
        String reason = null;
        for (int i = 0; i < 2000 && reason == null; i++) {
            AnomalyScorer.Score sc = scorer.score(s, i + 1, 0.5, x[i], ChannelKit.T0 + i * 1000L);
            if (i >= 1500 && (sc.reasons() & AnomalyScorer.JOINT) != 0) {
                reason = AnomalyScorer.reasonNames(sc.reasons(), sc.components(), names::get).stream()
                        .filter(n -> n.startsWith("joint")).findFirst().orElse(null);
            }
        }
        assertNotNull(reason);
        assertTrue(reason.equals("joint:Flow") || reason.equals("joint:Pressure"), reason);
    }

    @Test
    void aStateOfPayloadVersion4RestoresWithItsCovarianceAndItsDistanceStatisticsStartAfresh() throws Exception {
        var fx = new ObjectMapper().readTree(Path.of("src/test/resources/state-fixtures/sensor-state-v3-payload4-vector.json").toFile());
        byte[] old = HexFormat.of().parseHex(fx.get("state_hex").asText());
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        StreamState<ForecastState> s = serde.deserialize("t", old);
        ForecastState f = s.payload();
        assertEquals(340, s.steps());
        assertEquals(320, f.scored);
        assertEquals(3, f.jointShort.length, "the joint channel's short average, mean and covariance come back");
        assertEquals(6, f.jointCov.length);
        assertEquals(319, f.jointCount);
        assertTrue(f.jointCov[0] > 0.01 && f.jointCov[0] < 1, "the first value's variance (of its short average): " + f.jointCov[0]);
        assertEquals(0, f.jointDistCount, "version 4's log-distance mean and variance are dropped: the histogram starts afresh");
        assertArrayEquals(new double[JointChannel.BINS], f.jointHist);
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS);
        scorer.score(f, 341, 0.3, new double[] {10, 5.0, -3}, ChannelKit.T0);
        assertEquals(1, f.jointDistCount, "the distance statistics go on from the next reading");
        assertEquals(320, f.jointCount);
        byte[] now = serde.serialize("t", s);
        assertEquals(f, serde.deserialize("t", now).payload(), "written in payload version 5 from then on");
        assertEquals(old.length - 16 + 8 * JointChannel.BINS, now.length, "the histogram in place of the mean and variance");
    }

    @Test
    void aVectorStateWrittenBeforeTheJointChannelRestoresAndItStartsAfresh() throws Exception {
        var fx = new ObjectMapper().readTree(Path.of("src/test/resources/state-fixtures/sensor-state-v3-payload3-vector.json").toFile());
        byte[] old = HexFormat.of().parseHex(fx.get("state_hex").asText());
        assertEquals(3, old[0], "StateSerde format 3");
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        StreamState<ForecastState> s = serde.deserialize("t", old);
        assertEquals(340, s.steps());
        assertEquals(3, s.payload().channels());
        assertEquals(320, s.payload().scored);
        assertNotNull(s.payload().stuckLast, "payload version 3 had the per-value runs");
        assertNull(s.payload().jointShort, "and no joint statistics");
        AnomalyScorer scorer = new AnomalyScorer(ScoringConfig.DEFAULTS);
        scorer.score(s.payload(), 341, 0.3, new double[] {10, 5.0, -3}, ChannelKit.T0);
        assertArrayEquals(new double[] {10, 5.0, -3}, s.payload().jointShort, "the joint statistics start with the next reading");
        assertEquals(321, s.payload().scored, "the rest of the scorer's state went on");
        byte[] now = serde.serialize("t", s);
        assertEquals(s.payload(), serde.deserialize("t", now).payload(), "written in payload version 5 from then on");
        assertEquals(old.length + 1 + ForecastCodec.jointSize(3), now.length, "one presence byte and the joint statistics more");
    }
}

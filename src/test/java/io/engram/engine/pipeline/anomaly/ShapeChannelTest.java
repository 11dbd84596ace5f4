package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.NEWS;
import static io.engram.engine.pipeline.anomaly.ChannelKit.T0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ShapeChannelTest {
    static final ScoringConfig NOVEL = withNovelWeight(2.0);
    final ShapeChannel shape = new ShapeChannel(ScoringConfig.DEFAULTS);

    static ScoringConfig withNovelWeight(double w) {
        ScoringConfig d = ScoringConfig.DEFAULTS;
        ScoringConfig.Shape sh = d.shape();
        return new ScoringConfig(d.shortAlpha(), d.longAlpha(), d.warmupSteps(), d.threshold(), d.suppressSteps(), d.rawClip(),
                d.levelWeight(), d.channels(), d.seasonal(), d.routine(),
                new ScoringConfig.Shape(sh.memorySteps(), sh.minSteps(), sh.familiarCount(), sh.familiarWeight(), w, sh.novelBand()),
                d.stuck());
    }

    /**
     * Feeds readings with the raw score's short average {@code departure} (which the scorer keeps),
     * as the scorer does: the forecast channel's cap is asked first, then the record is scored and
     * counted. Returns {caps, log tails}.
     */
    static double[][] feed(ShapeChannel c, ForecastState s, double[] x, double[] departure, int from, int to) {
        double[][] out = new double[2][to - from];
        for (int i = from; i < to; i++) {
            s.shortAvg = departure[i];
            out[0][i - from] = c.cap(s, x[i]);
            out[1][i - from] = c.score(s, new double[] {x[i]}, T0 + i * ChannelKit.STEP);
            s.scored++;
        }
        return out;
    }

    @Test
    void aRecurringSpikeBecomesFamiliarAndCapsTheForecastChannelBelowNews() {
        double[][] d = ScoringChannelsTest.recurringSpikes(3000);
        double[][] out = feed(shape, ChannelKit.stream(ScoringConfig.DEFAULTS), d[0], d[1], 0, 3000);
        assertEquals(Double.NEGATIVE_INFINITY, out[0][50], "the memory is too young to speak");
        assertEquals(Double.NEGATIVE_INFINITY, out[0][250], "seen twice, decayed below familiar_count: no cap");
        for (int i = 1050; i < 3000; i += 100) {
            assertTrue(out[0][i] > NEWS, "a familiar spike is not news, at " + i + ": " + out[0][i]);
        }
        assertEquals(0.0, ChannelKit.min(out[1], 0, 3000), "novel_weight 0: no signal of its own");
    }

    @Test
    void aQuietReadingIsCappedOnlyByItsOwnAndLargerDepartures() {
        double[][] d = ScoringChannelsTest.recurringSpikes(3000);
        double[][] out = feed(shape, ChannelKit.stream(ScoringConfig.DEFAULTS), d[0], d[1], 0, 3000);
        // The quiet word is nearly every reading: its cap is about familiar_weight * log(1), no rarity at all.
        assertTrue(out[0][2999] > -0.1 && out[0][2999] <= 0.0, "quiet: " + out[0][2999]);
    }

    @Test
    void aNeverSeenWordWithALargeDepartureIsASignalWhenTheNoveltyWeightIsOn() {
        int n = 2000;
        double[] x = ChannelKit.noise(n, 10, 1, 10);
        double[] dep = new double[n];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            dep[i] = 3 * Math.abs(r.nextGaussian());
        }
        x[1500] = -40; // far below any level seen
        dep[1500] = 4; // an ordinary departure here, but band 5 >= novel_band 4
        x[1700] = -40;
        dep[1700] = 0.2; // the same level with a small departure: never news
        ShapeChannel novel = new ShapeChannel(NOVEL);
        double[][] on = feed(novel, ChannelKit.stream(NOVEL), x, dep, 0, n);
        double[][] off = feed(shape, ChannelKit.stream(ScoringConfig.DEFAULTS), x, dep, 0, n);
        assertTrue(on[1][1500] <= NEWS, "a never-seen word: " + on[1][1500]);
        assertEquals(0.0, on[1][1700], "below novel_band");
        assertEquals(0.0, off[1][1500], "novel_weight 0");
        assertArrayEquals(on[0], off[0], "the novelty weight does not change the caps");
    }

    @Test
    void itsSliceRoundTripsAndItSaysNovelShape() {
        double[][] d = ScoringChannelsTest.recurringSpikes(2000);
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        feed(shape, s, d[0], d[1], 0, 1500);
        ForecastState back = ChannelKit.roundTrip(s);
        assertEquals(s, back);
        double[][] a = feed(shape, s, d[0], d[1], 1500, 2000);
        double[][] b = feed(shape, back, d[0], d[1], 1500, 2000);
        assertArrayEquals(a[0], b[0]);
        assertArrayEquals(a[1], b[1]);
        assertEquals(s, back);
        assertEquals("novel_shape", shape.reason());
        assertEquals(ScoringConfig.Channel.SHAPE, shape.key());
        assertEquals(AnomalyScorer.NOVEL_SHAPE, AnomalyScorer.reasonBit(shape.reason()));
        assertTrue(shape.needsMemory());
        assertEquals(36 + 4 * 64, shape.stateBytes(s));
    }
}

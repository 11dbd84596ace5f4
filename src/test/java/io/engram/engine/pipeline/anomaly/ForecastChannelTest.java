package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.NEWS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ForecastChannelTest {
    static final ScoringConfig CFG = ScoringConfig.DEFAULTS;
    final ForecastChannel forecast = new ForecastChannel(CFG, null);

    /** Raw scores as the scorer feeds them: averaged, judged, then learnt. Returns the log tails. */
    static double[] feed(ForecastChannel c, ForecastState s, double[] raw, int from, int to) {
        double[] out = new double[to - from];
        for (int i = from; i < to; i++) {
            ForecastChannel.average(s, raw[i], CFG);
            out[i - from] = c.score(s, null, 0L);
            ForecastChannel.learn(s, CFG);
            s.scored++;
        }
        return out;
    }

    @Test
    void aSustainedLargeErrorIsNewsAndQuietErrorsAreNot() {
        double[] raw = ScoringChannelsTest.quietRaw(1500, 1);
        for (int i = 1000; i < 1006; i++) {
            raw[i] = 12;
        }
        double[] t = feed(forecast, ForecastState.fresh(1), raw, 0, 1500);
        assertEquals(Math.log(0.5), t[0]);
        assertEquals(Math.log(0.5), t[1], "no spread before two records");
        assertTrue(ChannelKit.min(t, 300, 1000) > NEWS, "quiet: " + ChannelKit.min(t, 300, 1000));
        assertTrue(ChannelKit.min(t, 1000, 1006) <= NEWS, "six large errors: " + ChannelKit.min(t, 1000, 1006));
    }

    @Test
    void oneExtremeRecordMovesTheBaselineByAtMostFourSpreads() {
        double[] raw = ScoringChannelsTest.quietRaw(1001, 2);
        ForecastState s = ForecastState.fresh(1);
        feed(forecast, s, raw, 0, 1000);
        double mean = s.longMean;
        double limit = CFG.longAlpha() * ForecastChannel.MAX_UPDATE_STD * Math.max(Math.sqrt(s.longVar), ForecastChannel.MIN_STD);
        raw[1000] = 1e6;
        feed(forecast, s, raw, 1000, 1001);
        assertEquals(mean + limit, s.longMean, 1e-12, "winsorised");
    }

    @Test
    void aFamiliarShapeCapsItsRarity() {
        double[][] d = ScoringChannelsTest.recurringSpikes(3000);
        ShapeChannel shape = new ShapeChannel(CFG);
        ForecastChannel capped = new ForecastChannel(CFG, shape);
        ForecastState s = ChannelKit.stream(CFG);
        int news = 0;
        int cappedNews = 0;
        for (int i = 0; i < 3000; i++) {
            ForecastChannel.average(s, d[1][i], CFG);
            double[] x = {d[0][i]};
            double plain = forecast.score(s, x, 0L);
            double withCap = capped.score(s, x, 0L);
            assertTrue(withCap >= plain, "a cap only raises the log tail");
            shape.score(s, x, 0L);
            ForecastChannel.learn(s, CFG);
            s.scored++;
            if (i >= 2000 && i % 100 == 50) {
                news += plain <= NEWS ? 1 : 0;
                cappedNews += withCap <= NEWS ? 1 : 0;
            }
        }
        assertEquals(10, news, "the forecast error alone finds every repeat news");
        assertEquals(0, cappedNews, "the familiar word caps it");
    }

    @Test
    void itsBaselineRoundTripsAndItSaysForecast() {
        double[] raw = ScoringChannelsTest.quietRaw(1500, 3);
        ForecastState s = ForecastState.fresh(1);
        feed(forecast, s, raw, 0, 1000);
        ForecastState back = ChannelKit.roundTrip(s);
        assertEquals(s, back);
        assertArrayEquals(feed(forecast, s, raw, 1000, 1500), feed(forecast, back, raw, 1000, 1500));
        assertEquals(s, back);
        assertEquals("forecast", forecast.reason());
        assertEquals(ScoringConfig.Channel.FORECAST, forecast.key());
        assertEquals(AnomalyScorer.FORECAST, AnomalyScorer.reasonBit(forecast.reason()));
        assertFalse(forecast.needsMemory());
        assertEquals(24, forecast.stateBytes(s));
    }
}

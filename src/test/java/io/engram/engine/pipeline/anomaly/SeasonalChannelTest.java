package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.DAY;
import static io.engram.engine.pipeline.anomaly.ChannelKit.NEWS;
import static io.engram.engine.pipeline.anomaly.ChannelKit.feed;
import static io.engram.engine.pipeline.anomaly.ChannelKit.min;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SeasonalChannelTest {
    final SeasonalChannel seasonal = new SeasonalChannel(ScoringConfig.DEFAULTS);

    /** Days of an afternoon hump with noise; the day {@code lateDay} (or none, -1) comes {@code lateSteps} late. */
    static double[] days(int n, int lateDay, int lateSteps, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            int j = i / DAY == lateDay ? i - lateSteps : i;
            x[i] = 50 + 20 * Math.exp(2.5 * (Math.cos(2 * Math.PI * j / DAY) - 1)) + 0.5 * r.nextGaussian();
        }
        return x;
    }

    @Test
    void itIsSilentUntilEveryBinHasBeenSeenTwiceThenQuietOnUsualDays() {
        double[] x = days(5 * DAY, -1, 0, 1);
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        double[] t = feed(seasonal, s, x, 0, 5 * DAY);
        assertEquals(0.0, min(t, 0, DAY - 1), "96 bins of 3 readings: every bin is seen twice with the first day's last reading");
        assertEquals(96, s.memory.binsReady);
        assertTrue(min(t, 3 * DAY, 5 * DAY) > NEWS / 2, "usual days: " + min(t, 3 * DAY, 5 * DAY));
    }

    @Test
    void aDayWhoseShapeComesEightHoursLateIsNews() {
        double[] x = days(6 * DAY, 5, 96, 2);
        double[] t = feed(seasonal, ChannelKit.stream(ScoringConfig.DEFAULTS), x, 0, 6 * DAY);
        assertTrue(min(t, 5 * DAY, 6 * DAY) <= NEWS, "the late day: " + min(t, 5 * DAY, 6 * DAY));
    }

    @Test
    void aStreamWithoutADailyShapeIsLeftToTheOtherChannelsEvenThroughALevelShift() {
        double[] x = ChannelKit.noise(6 * DAY, 50, 3, 3);
        for (int i = 4 * DAY; i < 6 * DAY; i++) {
            x[i] += 10;
        }
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        double[] t = feed(seasonal, s, x, 0, 6 * DAY);
        assertEquals(0.0, min(t, 0, 6 * DAY), "the gate: the profile explains too little of the variance");
        assertEquals(0.0, s.memory.residualShort);
    }

    @Test
    void itsSliceRoundTripsAndItsSizeFollowsTheBins() {
        double[] x = days(4 * DAY, -1, 0, 4);
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        feed(seasonal, s, x, 0, 3 * DAY);
        ChannelKit.assertRestoredStreamGoesOn(seasonal, s, x, 3 * DAY, 4 * DAY);
        assertEquals("seasonal", seasonal.reason());
        assertEquals(ScoringConfig.Channel.SEASONAL, seasonal.key());
        assertEquals(AnomalyScorer.SEASONAL, AnomalyScorer.reasonBit(seasonal.reason()));
        assertTrue(seasonal.needsMemory());
        assertEquals(40 + 6 * 96, seasonal.stateBytes(s));
        ScoringConfig d = ScoringConfig.DEFAULTS;
        ScoringConfig hourly = new ScoringConfig(d.shortAlpha(), d.longAlpha(), d.warmupSteps(), d.threshold(), d.suppressSteps(),
                d.rawClip(), d.levelWeight(), d.channels(), new ScoringConfig.Seasonal(0.8, 24, 0.5, 0.1), d.routine(), d.shape(),
                d.stuck());
        assertEquals(40 + 6 * 24, new SeasonalChannel(hourly).stateBytes(ChannelKit.stream(hourly)));
    }
}

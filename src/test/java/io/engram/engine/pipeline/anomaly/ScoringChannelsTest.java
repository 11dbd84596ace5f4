package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.pipeline.anomaly.ScoringConfig.Channel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Each channel of the scorer on its own, on series whose answer is known: the seasonal channel, the
 * routine-incident memory, the shape memory and the stuck channel, and the reasons they give.
 * Readings are 5 minutes apart (288 a day) from a Monday midnight UTC; the forecast error is given
 * as a quiet raw score except where a test says otherwise.
 */
class ScoringChannelsTest {
    static final long T0 = 1_767_571_200_000L; // 2026-01-05T00:00Z, a Monday
    static final long STEP = 300_000L;
    static final int DAY = 288;

    static ScoringConfig only(Channel... on) {
        ScoringConfig d = ScoringConfig.DEFAULTS;
        return new ScoringConfig(d.shortAlpha(), d.longAlpha(), d.warmupSteps(), d.threshold(), d.suppressSteps(), d.rawClip(),
                d.levelWeight(), EnumSet.copyOf(List.of(on)), d.seasonal(), d.routine(), d.shape(), d.stuck());
    }

    /** Scores readings {@code x} with raw forecast errors {@code raw}; returns every outcome. */
    static List<AnomalyScorer.Score> run(ScoringConfig cfg, double[] x, double[] raw) {
        AnomalyScorer scorer = new AnomalyScorer(cfg);
        ForecastState f = ForecastState.fresh(1);
        List<AnomalyScorer.Score> out = new ArrayList<>();
        out.add(new AnomalyScorer.Score(0, 0.5, 0, false)); // step 0 is not scored (no forecast yet)
        for (int i = 1; i < x.length; i++) {
            out.add(scorer.score(f, i + 1, raw[i], new double[] {x[i]}, T0 + i * STEP));
        }
        return out;
    }

    static double[] quietRaw(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = Math.abs(r.nextGaussian()) * 0.8;
        }
        return d;
    }

    static double bump(double i) {
        return Math.exp(2.5 * (Math.cos(2 * Math.PI * i / DAY) - 1));
    }

    static List<Integer> alerts(List<AnomalyScorer.Score> s, int from, int to) {
        List<Integer> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (s.get(i).anomaly()) {
                out.add(i);
            }
        }
        return out;
    }

    static boolean hasReason(AnomalyScorer.Score s, String reason) {
        return AnomalyScorer.reasonNames(s.reasons()).contains(reason);
    }

    @Test
    void theSeasonalChannelCatchesADayWhoseShapeComesEightHoursLate() {
        int n = 7 * DAY;
        double[] x = new double[n];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            boolean late = i >= 5 * DAY && i < 6 * DAY;
            x[i] = 50 + 20 * bump(late ? i - 96 : i) + 0.5 * r.nextGaussian();
        }
        List<AnomalyScorer.Score> s = run(only(Channel.SEASONAL), x, quietRaw(n, 4));
        assertEquals(List.of(), alerts(s, 0, 5 * DAY), "the usual days are quiet");
        List<Integer> late = alerts(s, 5 * DAY, 6 * DAY);
        assertFalse(late.isEmpty(), "the late day alerts");
        assertTrue(hasReason(s.get(late.get(0)), "seasonal"), "and says why: " + AnomalyScorer.reasonNames(s.get(late.get(0)).reasons()));
    }

    @Test
    void theSeasonalChannelIsSilentForAStreamWithoutADailyShape() {
        int n = 6 * DAY;
        double[] x = new double[n];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < n; i++) {
            x[i] = 50 + 3 * r.nextGaussian() + (i > 4 * DAY ? 10 : 0); // a level shift is not a seasonal matter
        }
        List<AnomalyScorer.Score> s = run(only(Channel.SEASONAL), x, quietRaw(n, 6));
        for (int i = 0; i < n; i++) {
            assertEquals(0.0, s.get(i).score(), 0.0, "the gate keeps the profile quiet (reading " + i + ")");
        }
    }

    @Test
    void anIncidentAtTheTimeOfDayOfIncidentsOnTwoEarlierDaysIsRoutineAndDoesNotAlert() {
        int n = 7 * DAY;
        double[] x = new double[n];
        double[] raw = quietRaw(n, 7);
        int cron = 36; // 03:00
        for (int d = 1; d < 7; d++) {
            raw[d * DAY + cron] = 15; // a nightly job the forecaster never learns to expect
            raw[d * DAY + cron + 1] = 15;
        }
        raw[5 * DAY + 180] = 15; // 15:00 on day 5: not routine
        raw[5 * DAY + 181] = 15;
        ScoringConfig cfg = only(Channel.FORECAST, Channel.ROUTINE);
        List<AnomalyScorer.Score> s = run(cfg, x, raw);
        assertEquals(List.of(DAY + cron, 2 * DAY + cron), alerts(s, 0, 3 * DAY), "the first two nights alert");
        for (int d = 3; d < 7; d++) {
            AnomalyScorer.Score night = s.get(d * DAY + cron);
            assertTrue(night.score() >= cfg.threshold(), "night " + d + " still reaches the threshold");
            assertFalse(night.anomaly(), "but is routine from the third night on");
            assertTrue(hasReason(night, "routine") && hasReason(night, "forecast"), AnomalyScorer.reasonNames(night.reasons()).toString());
        }
        assertTrue(s.get(5 * DAY + 180).anomaly(), "an incident at another time of day still alerts");
        // Without the routine memory every night alerts.
        assertEquals(6, alerts(run(only(Channel.FORECAST), x, raw), 0, n).stream().filter(i -> i % DAY == cron).count());
    }

    /** Spikes of the same size every 100 readings: the forecaster is surprised by each one, equally. */
    static double[][] recurringSpikes(int n) {
        double[] x = new double[n];
        double[] raw = new double[n];
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < n; i++) {
            // Quiet readings well inside one level letter: a word is (level letter, departure letter),
            // and readings that straddle a letter's edge make two words of one shape, each half as familiar.
            x[i] = 10 + 0.05 * r.nextGaussian();
            raw[i] = 0.3;
            if (i % 100 == 50) {
                x[i] = 30;
                raw[i] = 12;
            }
        }
        return new double[][] {x, raw};
    }

    @Test
    void aFamiliarRecurringShapeStopsAlertingWhileTheForecastChannelAloneAlertsOnEveryRepeat() {
        int n = 4000;
        double[][] d = recurringSpikes(n);
        int without = alerts(run(only(Channel.FORECAST), d[0], d[1]), 2000, n).size();
        int with = alerts(run(only(Channel.FORECAST, Channel.SHAPE), d[0], d[1]), 2000, n).size();
        assertEquals(20, without, "the forecast channel alone alerts on every repeat");
        assertEquals(0, with, "the shape memory knows the spike by the second half");
    }

    @Test
    void aNeverSeenWordIsASignalWhenTheNoveltyWeightIsOn() {
        // A noisy stream whose forecast errors are often large, so that the forecast channel is calm
        // about one more; then a reading far below any level seen, with an ordinary error.
        int n = 3000;
        double[] x = new double[n];
        double[] raw = new double[n];
        SplittableRandom r = new SplittableRandom(10);
        for (int i = 0; i < n; i++) {
            x[i] = 10 + r.nextGaussian();
            raw[i] = 3 * Math.abs(r.nextGaussian());
        }
        x[2500] = -40;
        raw[2500] = 4;
        ScoringConfig base = only(Channel.FORECAST, Channel.SHAPE);
        ScoringConfig.Shape sh = base.shape();
        ScoringConfig novel = new ScoringConfig(base.shortAlpha(), base.longAlpha(), base.warmupSteps(), base.threshold(),
                base.suppressSteps(), base.rawClip(), base.levelWeight(), base.channels(), base.seasonal(), base.routine(),
                new ScoringConfig.Shape(sh.memorySteps(), sh.minSteps(), sh.familiarCount(), sh.familiarWeight(), 2.0, sh.novelBand()),
                base.stuck());
        AnomalyScorer.Score off = run(base, x, raw).get(2500);
        AnomalyScorer.Score on = run(novel, x, raw).get(2500);
        assertFalse(off.anomaly(), "the forecast channel alone sees an ordinary error: " + off.score());
        assertTrue(on.anomaly() && hasReason(on, "novel_shape"), on.score() + " " + AnomalyScorer.reasonNames(on.reasons()));
    }

    @Test
    void aSensorStuckForLongerThanEverBeforeAlertsWithReasonStuck() {
        int n = 2000;
        double[] x = new double[n];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            x[i] = Math.round(20 + 2 * r.nextGaussian()); // integer readings: short runs of repeats happen
        }
        for (int i = 1500; i < 1700; i++) {
            x[i] = x[1500];
        }
        List<AnomalyScorer.Score> s = run(only(Channel.STUCK), x, quietRaw(n, 12));
        assertEquals(List.of(), alerts(s, 0, 1500), "short runs of repeats are normal here");
        List<Integer> stuck = alerts(s, 1500, 1700);
        assertEquals(1, stuck.size(), "one alert for the stuck run: " + stuck);
        assertTrue(hasReason(s.get(stuck.get(0)), "stuck"));
        assertTrue(stuck.get(0) < 1540, "within a few dozen readings: " + stuck.get(0));
    }

    @Test
    void theLevelChannelLooksAtBothTailsSoADropoutToZeroAlerts() {
        int n = 2000;
        double[] x = new double[n];
        SplittableRandom r = new SplittableRandom(13);
        for (int i = 0; i < n; i++) {
            x[i] = 100 + 3 * r.nextGaussian();
        }
        for (int i = 1500; i < 1524; i++) {
            x[i] = 0;
        }
        List<AnomalyScorer.Score> s = run(only(Channel.LEVEL), x, quietRaw(n, 14));
        List<Integer> drop = alerts(s, 1500, 1524);
        assertEquals(List.of(), alerts(s, 0, 1500));
        assertFalse(drop.isEmpty(), "a drop to zero alerts");
        assertTrue(hasReason(s.get(drop.get(0)), "level"));
    }

    @Test
    void reasonsAreNamedInAFixedOrderAndRoundTripThroughTheirBits() {
        int all = AnomalyScorer.FORECAST | AnomalyScorer.LEVEL | AnomalyScorer.SEASONAL | AnomalyScorer.NOVEL_SHAPE
                | AnomalyScorer.STUCK | AnomalyScorer.ROUTINE | AnomalyScorer.JOINT;
        List<String> names = AnomalyScorer.reasonNames(all);
        assertEquals(List.of("forecast", "level", "seasonal", "novel_shape", "stuck", "routine", "joint"), names);
        int back = 0;
        for (String nm : names) {
            back |= AnomalyScorer.reasonBit(nm);
        }
        assertEquals(all, back);
        assertEquals(List.of(), AnomalyScorer.reasonNames(0));
    }
}

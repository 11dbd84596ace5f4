package io.engram.engine.pipeline.anomaly;

import static io.engram.engine.pipeline.anomaly.ChannelKit.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RoutineChannelTest {
    static final long MINUTE = 60_000L;
    static final long DAY_MS = 1440 * MINUTE;
    final RoutineChannel routine = new RoutineChannel(ScoringConfig.DEFAULTS);

    static long at(int day, int hour, int minute) {
        return T0 + day * DAY_MS + (hour * 60L + minute) * MINUTE;
    }

    @Test
    void anIncidentAtTheTimeOfDayOfIncidentsOnTwoEarlierDaysIsVetoed() {
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        assertFalse(routine.vetoes(s, at(0, 3, 0)), "the first night");
        assertFalse(routine.vetoes(s, at(0, 3, 10)), "the same night again: one day, not two");
        assertFalse(routine.vetoes(s, at(1, 2, 55)), "the second night, 5 minutes early: one earlier day");
        assertTrue(routine.vetoes(s, at(2, 3, 25)), "the third night, within 30 minutes of both: routine");
        assertFalse(routine.vetoes(s, at(2, 15, 0)), "another time of day is not");
        assertFalse(routine.vetoes(s, at(3, 4, 0)), "nor 40 minutes off");
        assertEquals(6, s.memory.incidentCount, "every alert asked about is remembered");
    }

    @Test
    void theToleranceReachesAcrossMidnight() {
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        routine.vetoes(s, at(0, 23, 50));
        routine.vetoes(s, at(2, 0, 5));
        assertTrue(routine.vetoes(s, at(4, 23, 55)), "23:50 and 00:05 are both within 30 minutes of 23:55");
    }

    @Test
    void itIsNoSignalOfItsOwn() {
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        double[] t = ChannelKit.feed(routine, s, ChannelKit.noise(500, 0, 100, 1), 0, 500);
        assertEquals(0.0, ChannelKit.min(t, 0, 500));
        assertEquals(0, s.memory.incidentCount, "scoring alone remembers no incident");
    }

    @Test
    void theRingKeepsTheLatestIncidentsAndRoundTrips() {
        ForecastState s = ChannelKit.stream(ScoringConfig.DEFAULTS);
        for (int d = 0; d < 20; d++) {
            routine.vetoes(s, at(d, 12, d)); // noon, a minute later each day
        }
        assertEquals(20, s.memory.incidentCount);
        assertEquals((int) (at(19, 12, 19) / MINUTE), s.memory.incidents[19 % 16], "the 20th incident overwrote the 4th");
        ForecastState back = ChannelKit.roundTrip(s);
        assertEquals(s, back);
        assertEquals(routine.vetoes(s, at(20, 12, 0)), routine.vetoes(back, at(20, 12, 0)));
        assertEquals(s, back, "the same incident remembered by both");
        assertEquals("routine", routine.reason());
        assertEquals(ScoringConfig.Channel.ROUTINE, routine.key());
        assertEquals(AnomalyScorer.ROUTINE, AnomalyScorer.reasonBit(routine.reason()));
        assertTrue(routine.needsMemory());
        assertEquals(12 + 4 * 16, routine.stateBytes(s));
    }
}

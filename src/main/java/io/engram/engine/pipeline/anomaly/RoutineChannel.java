package io.engram.engine.pipeline.anomaly;

/**
 * The routine-incident memory: an alert whose incident starts within
 * {@code scoring.routine.tolerance_minutes} of the time of day of incidents on at least
 * {@code days} distinct earlier days is routine (a nightly job), and is vetoed with reason
 * {@code routine}. It is no signal of its own: its log tail is always 0.
 *
 * <p>Its slice, in {@link ForecastState.Memory}: the ring of incident starts ({@code incidents}, in
 * minutes since the epoch) and {@code incidentCount}: 12 + 4 bytes per remembered incident.
 */
final class RoutineChannel implements ScoreChannel {
    private static final long MINUTES_PER_DAY = 1440L;

    private final ScoringConfig.Routine cfg;

    RoutineChannel(ScoringConfig config) {
        this.cfg = config.routine();
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.ROUTINE;
    }

    @Override
    public boolean needsMemory() {
        return true;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return 4 + 4 * s.memory.incidents.length + 8;
    }

    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        return 0.0;
    }

    /** Records this incident's start, and says whether it is routine. */
    @Override
    public boolean vetoes(ForecastState s, long eventTime) {
        ForecastState.Memory m = s.memory;
        long minutes = Math.floorDiv(eventTime, 60_000L);
        long day = Math.floorDiv(minutes, MINUTES_PER_DAY);
        long minuteOfDay = Math.floorMod(minutes, MINUTES_PER_DAY);
        int n = (int) Math.min(m.incidentCount, m.incidents.length);
        // Distinct earlier days with an incident near this time of day; n is small (memory <= 64), and
        // this runs once per alert, not per record.
        long[] days = new long[n];
        int distinct = 0;
        for (int i = 0; i < n; i++) {
            long t = m.incidents[i];
            long d = Math.floorDiv(t, MINUTES_PER_DAY);
            long diff = Math.abs(Math.floorMod(t, MINUTES_PER_DAY) - minuteOfDay);
            if (d < day && Math.min(diff, MINUTES_PER_DAY - diff) <= cfg.toleranceMinutes()) {
                boolean seen = false;
                for (int j = 0; j < distinct; j++) {
                    seen |= days[j] == d;
                }
                if (!seen) {
                    days[distinct++] = d;
                }
            }
        }
        m.incidents[(int) (m.incidentCount % m.incidents.length)] = (int) minutes;
        m.incidentCount++;
        return distinct >= cfg.days();
    }
}

package io.engram.tools.ingest.video;

/**
 * Drops frames to reach a target frame rate, by capture timestamps rather than by counting, so that
 * it is right for variable-rate sources and across gaps.
 *
 * <p>Time is cut into slots of {@code 1/fps} seconds from the first frame; the first frame that
 * falls in each slot is kept and the others dropped. A 30 fps source at 10 fps keeps every third
 * frame; a 25 fps source at 10 fps keeps 2 frames in 5 (at 0, 120, 200, 320, 400 ms: 10 fps on
 * average); a source at or below the target keeps every frame. A frame up to 1% of a slot early
 * counts as on time, so that timestamps rounded to whole microseconds (33,333 / 66,667 / 99,999)
 * do not miss their slot. A frame whose time goes back (before the last kept slot) is dropped.
 *
 * <p>One instance per stream; not thread-safe.
 */
public final class FrameRateFilter {
    /** Tolerance for early frames, as a fraction of a slot. */
    private static final double EARLY = 0.01;

    private final double fps;
    private long firstMicros;
    private long lastSlot;
    private boolean started;

    /** @param fps the target rate in frames per second; 0 or less keeps every frame */
    public FrameRateFilter(double fps) {
        this.fps = fps;
    }

    /** Whether the frame captured at {@code timeMicros} is kept. */
    public boolean keep(long timeMicros) {
        if (fps <= 0) {
            return true;
        }
        if (!started) {
            started = true;
            firstMicros = timeMicros;
            lastSlot = 0;
            return true;
        }
        long slot = (long) Math.floor((timeMicros - firstMicros) * fps / 1_000_000.0 + EARLY);
        if (slot > lastSlot) {
            lastSlot = slot;
            return true;
        }
        return false;
    }
}

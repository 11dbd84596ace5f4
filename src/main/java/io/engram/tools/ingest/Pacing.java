package io.engram.tools.ingest;

import java.util.function.BooleanSupplier;

/** Real-time pacing for the replay commands (sensor rows, video frames). Stateless. */
public final class Pacing {
    private Pacing() {}

    /**
     * Sleeps until {@code due} ({@link System#nanoTime}) in steps of at most {@code maxSleepMs}, so that a
     * stop request is never late, running {@code tick} after each step (e.g. to redraw progress).
     *
     * @return true when {@code due} was reached; false when {@code keepGoing} turned false or the thread was interrupted
     */
    public static boolean sleepUntil(long due, BooleanSupplier keepGoing, long maxSleepMs, Runnable tick) {
        while (true) {
            if (!keepGoing.getAsBoolean()) {
                return false;
            }
            long left = due - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            try {
                Thread.sleep(Math.min(maxSleepMs, Math.max(1, left / 1_000_000)));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return false;
            }
            tick.run();
        }
    }
}

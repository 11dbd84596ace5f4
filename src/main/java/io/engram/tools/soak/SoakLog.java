package io.engram.tools.soak;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The soak's progress lines, each stamped with the seconds since {@link #start}; also the soak's
 * clock. One per soak; it writes to a stream it does not own (and never closes).
 */
final class SoakLog {
    private final PrintStream out;
    private long t0;

    SoakLog(PrintStream out) {
        this.out = out;
    }

    /** Starts the clock: the soak begins. */
    void start() {
        t0 = System.nanoTime();
    }

    /** Seconds since {@link #start}. */
    double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    void say(String format, Object... args) {
        out.printf(Locale.ROOT, "[%6.1f s] %s%n", t0 == 0 ? 0.0 : seconds(), String.format(Locale.ROOT, format, args));
        out.flush();
    }
}

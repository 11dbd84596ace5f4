package io.engram.tools.console;

import java.io.PrintStream;

/**
 * One line of progress text that keeps changing: on a terminal it is redrawn in place with a
 * carriage return at most every {@code minRedrawNanos}; elsewhere ({@link Terminal}) printed as a
 * plain line of its own every {@link Terminal#PLAIN_INTERVAL_NANOS}, since a log or pipe would keep
 * every redraw. What the line says is the caller's ({@link ProgressBar}, {@link StatusLine}).
 *
 * <p>Owned by one thread, the caller's. Call {@link #end} once, after the last {@link #draw}, to end
 * the line on a terminal.
 */
final class LineWriter {
    private final PrintStream out;
    private final boolean redraw;
    private final long minRedrawNanos;
    private long lastDraw = Long.MIN_VALUE;
    private int lastLength;
    private boolean drawn;

    /**
     * @param redraw true: redraw in place (a terminal); false: a plain line every 5 s
     * @param minRedrawNanos the least time between two redraws in place
     */
    LineWriter(PrintStream out, boolean redraw, long minRedrawNanos) {
        this.out = out;
        this.redraw = redraw;
        this.minRedrawNanos = minRedrawNanos;
    }

    /** Whether a line is due at {@code now} ({@link System#nanoTime}); when it is, the time counts as drawn. */
    boolean due(long now) {
        if (lastDraw != Long.MIN_VALUE && now - lastDraw < (redraw ? minRedrawNanos : Terminal.PLAIN_INTERVAL_NANOS)) {
            return false;
        }
        lastDraw = now;
        return true;
    }

    /** Draws {@code line}: over the previous one on a terminal, else as a line of its own. */
    void draw(String line) {
        drawn = true;
        if (!redraw) {
            out.println(line);
            out.flush();
            return;
        }
        // Pad over the previous, possibly longer, line: \r alone does not clear it.
        int pad = Math.max(0, lastLength - line.length());
        out.print("\r" + line + " ".repeat(pad));
        out.flush();
        lastLength = line.length();
    }

    /** Whether anything was drawn yet. */
    boolean drawn() {
        return drawn;
    }

    /** Ends the redrawn line (a newline on a terminal; plain lines are ended already). */
    void end() {
        if (redraw) {
            out.println();
        }
        out.flush();
    }
}

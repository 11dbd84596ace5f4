package io.engram.tools.console;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line text progress bar ({@code [#####.....]  52%  5,400/10,320 rows  4,812 rows/s}),
 * redrawn in place with a carriage return on a terminal; elsewhere ({@link Terminal}) printed as a
 * plain line every 5 s. Meant for stderr, so that stdout keeps only results.
 *
 * <p>Owned by one thread. {@link #update} may be called once per row: it redraws at most every
 * 200 ms (about 5 times a second), because drawing per row would cost more than sending. Call
 * {@link #finish} once at the end to draw the final state and end the line.
 */
public final class ProgressBar {
    private static final long MIN_REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final LineWriter line;
    private final long total;
    private final String unit;
    private final long startNanos = System.nanoTime();
    private boolean finished;

    /**
     * @param out where to draw (usually System.err)
     * @param total the count at 100%
     * @param unit what is counted, e.g. "rows"
     */
    public ProgressBar(PrintStream out, long total, String unit) {
        this(out, total, unit, Terminal.interactive());
    }

    /** @param redraw true: redraw in place (a terminal); false: a plain line every 5 s */
    public ProgressBar(PrintStream out, long total, String unit, boolean redraw) {
        this.line = new LineWriter(out, redraw, MIN_REDRAW_NANOS);
        this.total = total;
        this.unit = unit;
    }

    /** Records progress; redraws when the last redraw is at least 200 ms old. */
    public void update(long done) {
        long now = System.nanoTime();
        if (line.due(now)) {
            draw(done, now);
        }
    }

    /** Draws the final count and ends the line; later calls do nothing. */
    public void finish(long done) {
        if (finished) {
            return;
        }
        finished = true;
        draw(done, System.nanoTime());
        line.end();
    }

    private void draw(long done, long now) {
        line.draw(render(done, total, unit, (now - startNanos) / 1e9));
    }
    /** The bar's text for {@code done} of {@code total} after {@code seconds}. */
    static String render(long done, long total, String unit, double seconds) {
        double fraction = total <= 0 ? 1.0 : Math.min(1.0, (double) done / total);
        int filled = (int) Math.round(fraction * WIDTH);
        double rate = seconds > 0 ? done / seconds : 0;
        return String.format(Locale.ROOT, "[%s%s] %3d%%  %,d/%,d %s  %,.0f %s/s",
                "#".repeat(filled), ".".repeat(WIDTH - filled), (int) Math.floor(fraction * 100), done, total, unit, rate, unit);
    }
}

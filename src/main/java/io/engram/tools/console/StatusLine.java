package io.engram.tools.console;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line status for sources without a known length (live cameras, {@code --loop}), redrawn in
 * place at most once a second on a terminal (elsewhere a plain line every 5 s, {@link Terminal}): {@code camera cam-1: 1,234 frames sent  9.9 frames/s  (read 3,702)}.
 * The counterpart of {@link ProgressBar} when there is no 100%. Owned by one thread;
 * {@link #finish} ends the line.
 */
public final class StatusLine {
    private static final long MIN_REDRAW_NANOS = 1_000_000_000L;

    private final LineWriter line;
    private final String camera;
    private final long startNanos = System.nanoTime();
    private boolean finished;

    public StatusLine(PrintStream out, String camera) {
        this(out, camera, Terminal.interactive());
    }

    /** @param redraw true: redraw in place (a terminal); false: a plain line every 5 s */
    public StatusLine(PrintStream out, String camera, boolean redraw) {
        this.line = new LineWriter(out, redraw, MIN_REDRAW_NANOS);
        this.camera = camera;
    }

    /** Records progress; redraws when the last redraw is at least a second old. */
    public void update(long read, long sent) {
        long now = System.nanoTime();
        if (line.due(now)) {
            draw(read, sent, now);
        }
    }

    /** Draws the final counts and ends the line, if it was ever drawn; later calls do nothing. */
    public void finish(long read, long sent) {
        if (finished) {
            return;
        }
        finished = true;
        if (line.drawn()) {
            draw(read, sent, System.nanoTime());
            line.end();
        }
    }

    private void draw(long read, long sent, long now) {
        line.draw(render(camera, read, sent, (now - startNanos) / 1e9));
    }
    static String render(String camera, long read, long sent, double seconds) {
        return String.format(Locale.ROOT, "camera %s: %,d frame%s sent  %.1f frames/s  (read %,d)",
                camera, sent, sent == 1 ? "" : "s", seconds > 0 ? sent / seconds : 0.0, read);
    }
}

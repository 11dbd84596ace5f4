package io.engram.tools.console;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line status for sources without a known length (live cameras, {@code --loop}), redrawn in
 * place at most once a second on a terminal (elsewhere a plain line every 5 s, {@link io.engram.tools.console.Terminal}): {@code camera cam-1: 1,234 frames sent  9.9 frames/s  (read 3,702)}.
 * The counterpart of {@link io.engram.tools.console.ProgressBar} when there is no 100%. Owned by one thread;
 * {@link #finish} ends the line.
 */
public final class StatusLine {
    private static final long MIN_REDRAW_NANOS = 1_000_000_000L;

    private final PrintStream out;
    private final String camera;
    private final boolean redraw;
    private final long startNanos = System.nanoTime();
    private long lastDraw = Long.MIN_VALUE;
    private int lastLength;
    private boolean drawn;
    private boolean finished;

    public StatusLine(PrintStream out, String camera) {
        this(out, camera, io.engram.tools.console.Terminal.interactive());
    }

    /** @param redraw true: redraw in place (a terminal); false: a plain line every 5 s */
    public StatusLine(PrintStream out, String camera, boolean redraw) {
        this.out = out;
        this.camera = camera;
        this.redraw = redraw;
    }

    /** Records progress; redraws when the last redraw is at least a second old. */
    public void update(long read, long sent) {
        long now = System.nanoTime();
        if (lastDraw != Long.MIN_VALUE && now - lastDraw < (redraw ? MIN_REDRAW_NANOS : io.engram.tools.console.Terminal.PLAIN_INTERVAL_NANOS)) {
            return;
        }
        lastDraw = now;
        draw(read, sent, now);
    }

    /** Draws the final counts and ends the line; later calls do nothing. */
    public void finish(long read, long sent) {
        if (finished) {
            return;
        }
        finished = true;
        if (drawn) {
            draw(read, sent, System.nanoTime());
            if (redraw) {
                out.println();
            }
            out.flush();
        }
    }

    private void draw(long read, long sent, long now) {
        String line = render(camera, read, sent, (now - startNanos) / 1e9);
        drawn = true;
        if (!redraw) {
            out.println(line);
            out.flush();
            return;
        }
        int pad = Math.max(0, lastLength - line.length());
        out.print("\r" + line + " ".repeat(pad));
        out.flush();
        lastLength = line.length();
        drawn = true;
    }

    static String render(String camera, long read, long sent, double seconds) {
        return String.format(Locale.ROOT, "camera %s: %,d frame%s sent  %.1f frames/s  (read %,d)",
                camera, sent, sent == 1 ? "" : "s", seconds > 0 ? sent / seconds : 0.0, read);
    }
}

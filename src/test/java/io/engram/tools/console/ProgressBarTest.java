package io.engram.tools.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void rendersFractionCountsAndRate() {
        assertEquals("[###############...............]  50%  500/1,000 rows  250 rows/s", ProgressBar.render(500, 1000, "rows", 2.0));
    }

    @Test
    void redrawsAtMostFiveTimesASecondAndFinishEndsTheLine() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 100_000, "rows", true);
        for (int i = 1; i <= 100_000; i++) {
            bar.update(i);
        }
        bar.finish(100_000);
        String out = buf.toString(StandardCharsets.UTF_8);
        long draws = out.chars().filter(c -> c == '\r').count();
        assertTrue(draws >= 2 && draws <= 10, "draws: " + draws); // first update + finish, far fewer than one per row
        assertTrue(out.endsWith("\n"));
        assertTrue(out.contains("100%  100,000/100,000 rows"), out);
    }

    @Test
    void withoutATerminalItPrintsPlainLinesNoCarriageReturns() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(buf, true, StandardCharsets.UTF_8), 100_000, "rows", false);
        for (int i = 1; i <= 100_000; i++) {
            bar.update(i);
        }
        bar.finish(100_000);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.indexOf('\r') < 0, "no carriage return: " + out);
        // The first update, one line per 5 s after it, and the final count: not one per update.
        assertTrue(out.lines().count() >= 2 && out.lines().count() < 100, out);
        assertTrue(out.endsWith("\n"), out);
        assertTrue(out.lines().reduce((a, b) -> b).orElse("").contains("100%  100,000/100,000 rows"), out);
    }
}

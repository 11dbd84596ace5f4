package io.engram.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** When failures in processing stop a pipeline: more than the share of the window, counted in records, never in time. */
class ProcessingErrorsTest {
    @Test
    void byDefaultMoreThanHalfOfTheLast100RecordsFailingStops() {
        ProcessingErrors e = new ProcessingErrors(ProcessingErrors.DEFAULT_WINDOW, ProcessingErrors.DEFAULT_MAX_SHARE);
        for (int i = 0; i < 50; i++) {
            assertFalse(e.failed("in-0@" + i), "failure " + (i + 1));
        }
        assertNull(e.verdict());
        assertTrue(e.failed("in-0@50"), "the 51st of 51");
        assertTrue(e.verdict().startsWith("51 of the last 51 records failed in processing, more than processing.max_error_share 0.5"
                + " of processing.error_window 100"), e.verdict());
        assertTrue(e.verdict().endsWith("the last at in-0@50"), e.verdict());
    }

    @Test
    void halfFailingIsNotMoreThanHalf() {
        ProcessingErrors e = new ProcessingErrors(100, 0.5);
        for (int i = 0; i < 1000; i++) {
            e.succeeded();
            assertFalse(e.failed("in-0@" + i), "every other record fails: exactly half");
        }
        assertNull(e.verdict());
    }

    @Test
    void failuresSpreadWiderThanTheWindowDoNotStop() {
        ProcessingErrors e = new ProcessingErrors(100, 0.5);
        // 50 failures, 50 records through, then 50 failures again: 50 of any 100 at most.
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 50; i++) {
                assertFalse(e.failed("x"), "round " + round);
            }
            for (int i = 0; i < 50; i++) {
                e.succeeded();
            }
        }
        // Then 49 failures, one record through, and failures: the 51st of the last 100 stops.
        for (int i = 0; i < 49; i++) {
            assertFalse(e.failed("x"));
        }
        e.succeeded();
        assertFalse(e.failed("x"), "50 of the last 100");
        assertTrue(e.failed("x"), "51 of the last 100");
    }

    @Test
    void everyOneOfTheLast100IsShare099() {
        ProcessingErrors e = new ProcessingErrors(100, 0.99);
        for (int round = 0; round < 10; round++) {
            for (int i = 0; i < 99; i++) {
                assertFalse(e.failed("x"));
            }
            e.succeeded();
        }
        for (int i = 0; i < 99; i++) {
            assertFalse(e.failed("x"));
        }
        assertTrue(e.failed("x"), "100 in a row");
        assertTrue(e.verdict().startsWith("100 of the last 100 records"), e.verdict());
    }

    @Test
    void shareZeroStopsAtTheFirstFailureAndShareOneNever() {
        ProcessingErrors first = new ProcessingErrors(100, 0);
        first.succeeded();
        assertTrue(first.failed("x"));
        ProcessingErrors never = new ProcessingErrors(100, 1.0);
        for (int i = 0; i < 10_000; i++) {
            assertFalse(never.failed("x"));
        }
        assertThrows(IllegalArgumentException.class, () -> new ProcessingErrors(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new ProcessingErrors(100, 1.5));
    }

    @Test
    void theStopsCauseIsTheVerdictOnceReached() {
        ProcessingErrors e = new ProcessingErrors(1, 0);
        RuntimeException boom = new IllegalStateException("boom");
        assertSame(boom, e.explain(boom), "no verdict: the exception as it is");
        assertTrue(e.failed("in-0@7"));
        Throwable t = e.explain(boom);
        assertEquals(e.verdict(), t.getMessage());
        assertSame(boom, t.getCause());
    }
}

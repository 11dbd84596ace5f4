package io.engram.tools.soak;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.tools.harness.RunOutputs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the soak counts lost, duplicated and different records against the reference run. */
class SoakCountsTest {
    static RunOutputs.Rec rec(long ts, String v) {
        return new RunOutputs.Rec(ts, v.getBytes(StandardCharsets.UTF_8), null, null);
    }

    static RunOutputs outputs(Map<String, List<RunOutputs.Rec>> predictions) {
        return RunOutputs.of(Map.of(ForecastHead.PREDICTIONS, predictions));
    }

    @Test
    void equalRunsCountNothing() {
        RunOutputs ref = outputs(Map.of("a", List.of(rec(1, "x"), rec(2, "y")), "b", List.of(rec(1, "z"))));
        RunOutputs run = outputs(Map.of("a", List.of(rec(1, "x"), rec(2, "y")), "b", List.of(rec(1, "z"))));
        assertEquals(new Soak.Counts(3, 3, 0, 0, 0), Soak.Counts.of(ref, run));
        assertEquals(List.of(), ref.diff(run));
    }

    @Test
    void aRecordTwiceIsDuplicatedAMissingOneLostAnotherValueDifferent() {
        RunOutputs ref = outputs(Map.of("a", List.of(rec(1, "x"), rec(2, "y"), rec(3, "w")), "b", List.of(rec(1, "z"))));
        // a: y twice (duplicated), w missing (lost); b: z with another value (z lost, z' different); c: a key the reference never had
        RunOutputs run = outputs(Map.of("a", List.of(rec(1, "x"), rec(2, "y"), rec(2, "y")), "b", List.of(rec(1, "z'")),
                "c", List.of(rec(5, "q"))));
        assertEquals(new Soak.Counts(4, 5, 2, 1, 2), Soak.Counts.of(ref, run));
    }

    @Test
    void theSameBytesAtAnotherTimestampAreDifferent() {
        RunOutputs ref = outputs(Map.of("a", List.of(rec(1, "x"))));
        RunOutputs run = outputs(Map.of("a", List.of(rec(2, "x"))));
        assertEquals(new Soak.Counts(1, 1, 1, 0, 1), Soak.Counts.of(ref, run));
    }
}

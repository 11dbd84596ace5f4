package io.engram.tools.ingest.video;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FrameRateFilterTest {
    /** Indices of the frames kept among {@code n} frames at {@code sourceFps}, timestamps rounded to whole microseconds. */
    private static List<Integer> kept(double sourceFps, double targetFps, int n) {
        FrameRateFilter f = new FrameRateFilter(targetFps);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (f.keep(Math.round(i * 1_000_000.0 / sourceFps))) {
                out.add(i);
            }
        }
        return out;
    }

    @Test
    void thirtyFpsAtTenFpsKeepsEveryThirdFrame() {
        assertEquals(IntStream.range(0, 30).filter(i -> i % 3 == 0).boxed().toList(), kept(30, 10, 90).subList(0, 10));
        assertEquals(30, kept(30, 10, 90).size());
    }

    @Test
    void timestampsTruncatedAMicrosecondEarlyStillFallInTheirSlot() {
        // 33,333 / 66,666 / 99,999 µs: frame 3 is 1 µs before 100 ms but is the frame for that slot.
        FrameRateFilter f = new FrameRateFilter(10);
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            if (f.keep(i * 33_333L)) {
                kept.add(i);
            }
        }
        assertEquals(List.of(0, 3, 6, 9), kept);
    }

    @Test
    void twentyFiveFpsAtTenFpsKeepsTwoInFiveOnAverage() {
        assertEquals(List.of(0, 3, 5, 8, 10, 13, 15, 18, 20, 23), kept(25, 10, 25));
    }

    @Test
    void aTargetAtOrAboveTheSourceRateKeepsEveryFrame() {
        assertEquals(20, kept(10, 10, 20).size());
        assertEquals(20, kept(10, 30, 20).size());
        assertEquals(20, kept(10, 0, 20).size());
    }

    @Test
    void afterAGapTheNextFrameIsKeptWithoutABurst() {
        FrameRateFilter f = new FrameRateFilter(10);
        assertEquals(true, f.keep(0));
        assertEquals(true, f.keep(5_000_000)); // 5 s later: one frame, not 50
        assertEquals(false, f.keep(5_033_333));
        assertEquals(true, f.keep(5_100_000));
    }

    @Test
    void aFrameWhoseTimeGoesBackIsDropped() {
        FrameRateFilter f = new FrameRateFilter(10);
        f.keep(0);
        f.keep(200_000);
        assertEquals(false, f.keep(100_000));
    }
}

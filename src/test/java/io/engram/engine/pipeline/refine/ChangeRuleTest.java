package io.engram.engine.pipeline.refine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The change rule that every head's live and refined labels share: a new top label is announced at
 * its {@code minFrames}-th frame in a row; a flicker, or a return to the label announced, is none;
 * its memory ({@link Labels}) is three ints that a payload writes and reads back.
 */
class ChangeRuleTest {
    /** The frames (index:previous->label) at which {@code tops} announce a change. */
    static List<String> events(ChangeRule rule, Labels l, int... tops) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < tops.length; i++) {
            int previous = l.announced();
            if (rule.next(l, tops[i])) {
                out.add(i + ":" + previous + "->" + tops[i]);
            }
        }
        return out;
    }

    @Test
    void aNewTopLabelIsAnnouncedAtItsMinFramesthFrameInARowAndAFlickerIsNot() {
        ChangeRule rule = new ChangeRule(3);
        Labels l = new Labels();
        // 0 from frame 0 (announced at 2); 1 flickers at 3-4; back to 0: no event; 2 from 7 (announced at 9)
        assertEquals(List.of("2:-1->0", "9:0->2"), events(rule, l, 0, 0, 0, 1, 1, 0, 0, 2, 2, 2, 2));
        assertEquals(new Labels(2, 4, 2), l);
        assertEquals(List.of("0:-1->5"), events(new ChangeRule(1), new Labels(), 5, 5), "min_frames 1: every change at once");
        assertThrows(IllegalArgumentException.class, () -> new ChangeRule(0));
    }

    @Test
    void theTopLabelIsTheFirstOfTheLargest() {
        assertEquals(1, ChangeRule.top(new float[] {0.1f, 0.4f, 0.4f, 0.1f}));
        assertEquals(0, ChangeRule.top(new float[] {0.9f, 0.1f}));
    }

    @Test
    void theRulesMemoryIsThreeIntsWrittenAndReadBack() {
        Labels l = new Labels(4, 7, -1);
        ByteBuffer b = ByteBuffer.allocate(Labels.BYTES);
        l.write(b);
        assertEquals("00000004" + "00000007" + "ffffffff", java.util.HexFormat.of().formatHex(b.array()), "last, run, announced");
        assertEquals(l, Labels.read(ByteBuffer.wrap(b.array())));
    }
}

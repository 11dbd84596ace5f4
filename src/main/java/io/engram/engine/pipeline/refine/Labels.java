package io.engram.engine.pipeline.refine;

import java.nio.ByteBuffer;

/**
 * The memory of the {@link ChangeRule} for one stream of labels (a camera's or a person's live
 * labels, or their refined ones): the last frame's top label, how many frames in a row it has been
 * on top, and the label last announced. A slice of a head's payload, moved on by the rule only;
 * the payload's codec writes it with {@link #write} (three ints, in this order) and reads it back
 * with {@link #read}.
 */
public final class Labels {
    /** Index of the last frame's top label, or -1 before the first. */
    int last = -1;
    /** Frames in a row, up to the last, whose top label was {@link #last}. */
    int run;
    /** Index of the label last announced, or -1 (none yet). */
    int announced = -1;

    /** A stream's first: nothing seen, nothing announced. */
    public Labels() {}

    /** Labels read from a payload (or, for an old format, made up from what it had). */
    public Labels(int last, int run, int announced) {
        this.last = last;
        this.run = run;
        this.announced = announced;
    }

    public int last() {
        return last;
    }

    public int run() {
        return run;
    }

    public int announced() {
        return announced;
    }

    /** Bytes {@link #write} takes. */
    public static final int BYTES = 12;

    /** int last label; int run; int announced label. */
    public void write(ByteBuffer b) {
        b.putInt(last).putInt(run).putInt(announced);
    }

    /** Reads what {@link #write} wrote. */
    public static Labels read(ByteBuffer b) {
        return new Labels(b.getInt(), b.getInt(), b.getInt());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Labels l && l.last == last && l.run == run && l.announced == announced;
    }

    @Override
    public int hashCode() {
        return (last * 31 + run) * 31 + announced;
    }

    @Override
    public String toString() {
        return "label=" + last + ", run=" + run + ", announced=" + announced;
    }
}

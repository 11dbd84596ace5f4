package io.engram.engine.pipeline.refine;

/**
 * The change rule, written once for every stream of labels (live and refined, per camera and per
 * person): a new top label is announced once it has been on top {@code minFrames} frames in a row,
 * this frame the last of them, so that a one-frame flicker between two likely labels is no event.
 * Its memory is a {@link Labels} in the stream's payload, so a restart goes on where it stopped.
 * Immutable and thread-safe.
 */
public final class ChangeRule {
    private final int minFrames;

    public ChangeRule(int minFrames) {
        if (minFrames < 1) {
            throw new IllegalArgumentException("events.min_frames must be at least 1, not " + minFrames);
        }
        this.minFrames = minFrames;
    }

    public int minFrames() {
        return minFrames;
    }

    /** The index of the largest probability (the first of equals): a frame's top label. */
    public static int top(float[] probs) {
        int best = 0;
        for (int i = 1; i < probs.length; i++) {
            if (probs[i] > probs[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Moves {@code l} on by a frame whose top label is {@code best}. True when this frame announces
     * {@code best}: {@code l.announced()} is then {@code best}, so a caller that names the label
     * announced before reads it first.
     */
    public boolean next(Labels l, int best) {
        l.run = best == l.last ? l.run + 1 : 1;
        l.last = best;
        if (best != l.announced && l.run >= minFrames) {
            l.announced = best;
            return true;
        }
        return false;
    }
}

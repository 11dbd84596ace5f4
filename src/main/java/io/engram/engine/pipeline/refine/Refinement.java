package io.engram.engine.pipeline.refine;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RefinerModel;

/**
 * Fixed-lag bidirectional refinement, written once for every head with a recurrent classifier (the
 * video pipeline's per camera, the person pipeline's per person). Each frame joins the stream's
 * {@link RefineWindow} (its input, the forward model's state after it, its sequence number and
 * capture time); once the window holds L + 1 frames, the refiner (the backward direction, {@link
 * RefinerModel}) runs over it newest first and gives the refined probabilities of the frame L back,
 * and the {@link ChangeRule} over the refined labels says whether that frame announces a refined
 * change. O(L) work per frame, state bounded by L. The head shapes the records (refined role, refined
 * events role). A state reset (control record, gap, model change, expiry) deletes the window with
 * the rest of the state: the frames in it get no refined record, and the stream's next frames fill
 * a new window first.
 *
 * <p>One instance per task, made and closed by its head: it owns the refiner's native buffers
 * ({@link RefinerModel.Window}), made at the first refined frame and released by {@link #close()};
 * the refiner's session is shared and owned by whoever loaded it (the pipeline kind's build). Kafka
 * Streams may re-initialise a closed processor (a task revived after a broker restart), so a closed
 * refinement makes new buffers when it is used again.
 */
public final class Refinement implements AutoCloseable {
    /** Each frame's refined prediction, L frames later. */
    public static final TopicRole REFINED = new TopicRole("refined");
    /** Changes of the refined label, by the change rule. */
    public static final TopicRole REFINED_EVENTS = new TopicRole("refined_events");

    private final RefinerModel refiner;
    private final int lag;
    private final int features;
    private final int forwardOffset;
    private final int forwardSize;
    private final ChangeRule rule;
    private final float[] newestFirst;
    private final float[] probs;
    private RefinerModel.Window window;

    /**
     * @param classifier the forward model, whose state the refiner reads
     * @param refiner the refiner, shared and owned by the caller
     * @param lag L: a frame's refined prediction comes L frames after it
     * @param rule the change rule for the refined labels (the live labels' own)
     */
    public Refinement(ModelManifest classifier, RefinerModel refiner, int lag, ChangeRule rule) {
        this.refiner = refiner;
        this.lag = lag;
        this.rule = rule;
        this.features = classifier.input().size();
        this.forwardSize = refiner.forwardSize();
        this.forwardOffset = forwardOffset(classifier, refiner.manifest());
        this.newestFirst = new float[(lag + 1) * features];
        this.probs = new float[classifier.output().size()];
    }

    /** Whether a topic role is one of refinement's (written only with refinement on). */
    public static boolean isRefinedRole(TopicRole role) {
        return role.equals(REFINED) || role.equals(REFINED_EVENTS);
    }

    /** Where the refiner's forward state is in the classifier's state: the offset of the state pair it names. */
    public static int forwardOffset(ModelManifest classifier, ModelManifest refiner) {
        int off = 0;
        for (ModelManifest.StatePair p : classifier.state()) {
            if (p.input().equals(refiner.refine().forwardPair())) {
                return off;
            }
            off += p.size();
        }
        throw new ConfigException("Refiner " + refiner.manifestPath() + " reads the forward state pair '"
                + refiner.refine().forwardPair() + "', which classifier " + classifier.manifestPath() + " does not have (its state: "
                + classifier.state() + "). Fix: pair a refiner with the classifier it was trained on.");
    }

    public int lag() {
        return lag;
    }

    /**
     * A refined frame: the frame L back, with its own sequence number, capture time and step, its
     * refined probabilities (a copy, the record's own) and top label, and whether it announces a
     * change of the refined label ({@code previous}: the refined label announced before, or -1).
     */
    public record Refined(long seq, long time, long step, int label, float[] probs, boolean changed, int previous) {
        public float probability() {
            return probs[label];
        }
    }

    /**
     * Adds a frame to the stream's window and, once the window holds L + 1 frames, refines its oldest.
     *
     * @param w the stream's window (its payload's slice), moved on in place
     * @param x the frame's model input
     * @param hidden the stream's model state after this frame (the forward state is read from it)
     * @param seq the frame's sequence number
     * @param time the frame's event time
     * @param step the stream's step count after this frame (the refined frame's is L less)
     * @return the refined frame L back, or null while the window fills
     */
    public Refined add(RefineWindow w, float[] x, float[] hidden, long seq, long time, long step) {
        return add(w, x, hidden, seq, time, step, null);
    }

    /**
     * As {@link #add(RefineWindow, float[], float[], long, long, long)}, with {@code adjust} (or null)
     * applied to the refined probabilities, in place, before the top label and the change rule read
     * them: a head's own correction (the person pipeline's travel gate).
     */
    public Refined add(RefineWindow w, float[] x, float[] hidden, long seq, long time, long step,
            java.util.function.Consumer<float[]> adjust) {
        int nf = features;
        if (!w.present() || w.lag != lag || w.features != nf || w.forward != forwardSize) {
            // A new stream, a state from before refinement, or another lag or model in the file: start an empty window.
            w.reset(lag, nf, forwardSize);
        }
        if (w.filled == lag + 1) { // the oldest leaves; it is the new window's frame before
            System.arraycopy(w.xs, 0, w.before, 0, nf);
            System.arraycopy(w.xs, nf, w.xs, 0, lag * nf);
            System.arraycopy(w.hs, forwardSize, w.hs, 0, lag * forwardSize);
            System.arraycopy(w.seqs, 1, w.seqs, 0, lag);
            System.arraycopy(w.times, 1, w.times, 0, lag);
            w.filled--;
        }
        int i = w.filled++;
        System.arraycopy(x, 0, w.xs, i * nf, nf);
        System.arraycopy(hidden, forwardOffset, w.hs, i * forwardSize, forwardSize);
        w.seqs[i] = seq;
        w.times[i] = time;
        if (w.filled < lag + 1) {
            return null;
        }
        for (int k = 0; k <= lag; k++) {
            System.arraycopy(w.xs, (lag - k) * nf, newestFirst, k * nf, nf);
        }
        if (window == null) {
            window = refiner.newWindow(lag + 1);
        }
        window.run(newestFirst, w.before, w.hs, 0, probs);
        if (adjust != null) {
            adjust.accept(probs);
        }
        int best = ChangeRule.top(probs);
        int previous = w.labels.announced;
        boolean changed = rule.next(w.labels, best);
        return new Refined(w.seqs[0], w.times[0], step - lag, best, probs.clone(), changed, previous);
    }

    /** Releases the refiner buffers; idempotent (a later {@link #add} makes new ones). */
    @Override
    public void close() {
        if (window != null) {
            window.close();
            window = null;
        }
    }
}

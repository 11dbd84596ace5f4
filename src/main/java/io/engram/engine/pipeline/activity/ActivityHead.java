package io.engram.engine.pipeline.activity;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.step.Head;
import io.engram.engine.step.Outputs;
import io.engram.engine.step.HeadType;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.StreamState;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.pipeline.video.FeatureInput;
import io.engram.engine.pipeline.video.FeatureRecord;
import java.util.List;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The recurrent classifier head over frame features: per camera, the activity after each frame
 * (top label and every class probability) on the predictions topic, and an event on the events
 * topic when a new top label has held for {@code eventMinFrames} frames in a row (a one-frame
 * flicker between two likely labels is not an event). Its payload is {@link ActivityState}.
 *
 * <p>With a refiner (fixed-lag bidirectional refinement, {@code refine:} in the pipeline file), it
 * also keeps each camera's last L + 1 frames (features, the forward GRU's state after each,
 * sequence number, capture time) in the payload, and at every frame runs the refiner (the backward
 * direction) over that window, newest first: the refined activity of the frame L frames back goes
 * to the refined topic, and refined activity changes, by the same rule, to the refined events
 * topic. O(L) work per frame, state bounded by L. A state reset (control record, gap, model change,
 * expiry) discards the window with the rest of the state: the frames in it get no refined record.
 *
 * <p>One instance per task (see {@link io.engram.engine.step.Head}); owns its refiner window (native
 * buffers), released by {@link #close()}.
 */
public final class ActivityHead implements Head<FeatureRecord, ActivityState> {
    public static final TopicRole PREDICTIONS = new TopicRole("predictions");
    public static final TopicRole EVENTS = new TopicRole("events");
    public static final TopicRole REFINED = new TopicRole("refined");
    public static final TopicRole REFINED_EVENTS = new TopicRole("refined_events");
    static final ActivityCodec CODEC = new ActivityCodec();

    private final ModelManifest manifest;
    private final int eventMinFrames;
    private final PipelineMeters meters;
    private final int lag;
    private final io.engram.engine.model.RefinerModel refiner;
    /**
     * This task's refiner buffers: made at the first refined frame and released by {@link #close()}.
     * Kafka Streams may re-initialise a closed processor (a task revived after a broker restart), so
     * a closed head makes new ones when it is used again.
     */
    private io.engram.engine.model.RefinerModel.Window window;
    private final int forwardOffset;
    private final int forwardSize;
    private final float[] newestFirst;
    private final float[] refined;

    public ActivityHead(ModelManifest manifest, int eventMinFrames, PipelineMeters meters) {
        this(manifest, eventMinFrames, meters, null, 0);
    }

    /**
     * @param refiner the fixed-lag refiner, shared and owned by the caller, or null for none
     * @param lag L: the refined label of a frame is known L frames later
     */
    public ActivityHead(ModelManifest manifest, int eventMinFrames, PipelineMeters meters, io.engram.engine.model.RefinerModel refiner, int lag) {
        this.manifest = manifest;
        this.eventMinFrames = eventMinFrames;
        this.meters = meters;
        this.lag = lag;
        this.refiner = refiner;
        this.forwardSize = refiner == null ? 0 : refiner.forwardSize();
        this.forwardOffset = refiner == null ? 0 : forwardOffset(manifest, refiner.manifest());
        int f = manifest.input().size();
        this.newestFirst = new float[(lag + 1) * f];
        this.refined = new float[manifest.output().size()];
    }

    /** Where the refiner's forward state is in the classifier's state: the offset of the state pair it names. */
    static int forwardOffset(ModelManifest classifier, ModelManifest refiner) {
        int off = 0;
        for (ModelManifest.StatePair p : classifier.state()) {
            if (p.input().equals(refiner.refine().forwardPair())) {
                return off;
            }
            off += p.size();
        }
        throw new io.engram.engine.errors.ConfigException("Refiner " + refiner.manifestPath() + " reads the forward state pair '"
                + refiner.refine().forwardPair() + "', which classifier " + classifier.manifestPath() + " does not have (its state: "
                + classifier.state() + "). Fix: pair a refiner with the classifier it was trained on.");
    }

    /**
     * The activity head, one per task made with these arguments; with a refiner (shared, owned by
     * the caller) it also writes the refined roles.
     */
    public static HeadType<FeatureRecord, ActivityState> type(ModelManifest manifest, int eventMinFrames, PipelineMeters meters,
            io.engram.engine.model.RefinerModel refiner, int lag) {
        List<TopicRole> roles = refiner == null ? List.of(PREDICTIONS, EVENTS) : List.of(PREDICTIONS, EVENTS, REFINED, REFINED_EVENTS);
        return HeadType.of(CODEC, roles, () -> new ActivityHead(manifest, eventMinFrames, meters, refiner, lag));
    }

    @Override
    public FeatureRecord decode(String key, Record<String, byte[]> record) {
        return FeatureInput.decode(record.value(), manifest);
    }

    /** A frame's event time is its record's timestamp: the capture time that ingest sets. */
    @Override
    public long eventTime(FeatureRecord in, Record<String, byte[]> record) {
        return record.timestamp();
    }

    @Override
    public ActivityState freshPayload(ModelManifest model) {
        return new ActivityState();
    }

    @Override
    public boolean fits(ActivityState payload, ModelManifest model) {
        return true;
    }

    @Override
    public void input(FeatureRecord in, StreamState<ActivityState> s, float[] x) {
        System.arraycopy(in.values(), 0, x, 0, x.length);
    }

    @Override
    public void output(String camera, FeatureRecord f, long t, StreamState<ActivityState> s, float[] probs, long step, Outputs out) {
        ActivityState a = s.payload();
        int best = 0;
        for (int i = 1; i < probs.length; i++) {
            if (probs[i] > probs[best]) {
                best = i;
            }
        }
        int previous = a.announced;
        a.lastSequence = f.sequence();
        a.run = best == a.lastLabel ? a.run + 1 : 1;
        a.lastLabel = best;
        boolean announce = best != a.announced && a.run >= eventMinFrames;
        if (announce) {
            a.announced = best;
        }
        Probabilities all = new Probabilities(manifest.labels(), probs.clone());
        String label = manifest.labels().get(best);
        out.add(PREDICTIONS, new ActivityPrediction(camera, t, f.sequence(), step, label, probs[best], all, f.encoder(), s.modelId(),
                s.modelVersion(), null));
        if (announce) {
            meters.activityChange();
            out.add(EVENTS, new ActivityEvent(camera, t, f.sequence(), step, label, probs[best],
                    previous < 0 ? null : manifest.labels().get(previous), s.modelId(), s.modelVersion(), null));
        }
        if (refiner != null) {
            refine(camera, f, t, s, step, out);
        }
    }

    /** Adds this frame to the camera's window and, once it holds L + 1 frames, refines its oldest. */
    private void refine(String camera, FeatureRecord f, long t, StreamState<ActivityState> s, long step, Outputs out) {
        ActivityState a = s.payload();
        int nf = manifest.input().size();
        if (!a.hasWindow() || a.lag != lag || a.features != nf || a.forward != forwardSize) {
            // A new camera, a state from before refinement, or another lag in the file: start an empty window.
            a.window(lag, nf, forwardSize);
        }
        if (a.filled == lag + 1) { // the oldest leaves; it is the new window's frame before
            System.arraycopy(a.xs, 0, a.before, 0, nf);
            System.arraycopy(a.xs, nf, a.xs, 0, lag * nf);
            System.arraycopy(a.hs, forwardSize, a.hs, 0, lag * forwardSize);
            System.arraycopy(a.seqs, 1, a.seqs, 0, lag);
            System.arraycopy(a.times, 1, a.times, 0, lag);
            a.filled--;
        }
        int i = a.filled++;
        System.arraycopy(f.values(), 0, a.xs, i * nf, nf);
        System.arraycopy(s.hidden(), forwardOffset, a.hs, i * forwardSize, forwardSize);
        a.seqs[i] = f.sequence();
        a.times[i] = t;
        if (a.filled < lag + 1) {
            return;
        }
        for (int k = 0; k <= lag; k++) {
            System.arraycopy(a.xs, (lag - k) * nf, newestFirst, k * nf, nf);
        }
        if (window == null) {
            window = refiner.newWindow(lag + 1);
        }
        window.run(newestFirst, a.before, a.hs, 0, refined);
        int best = 0;
        for (int c = 1; c < refined.length; c++) {
            if (refined[c] > refined[best]) {
                best = c;
            }
        }
        int previous = a.refinedAnnounced;
        a.refinedRun = best == a.refinedLabel ? a.refinedRun + 1 : 1;
        a.refinedLabel = best;
        boolean announce = best != a.refinedAnnounced && a.refinedRun >= eventMinFrames;
        if (announce) {
            a.refinedAnnounced = best;
        }
        String label = manifest.labels().get(best);
        long refinedStep = step - lag;
        out.add(REFINED, new ActivityPrediction(camera, a.times[0], a.seqs[0], refinedStep, label, refined[best],
                new Probabilities(manifest.labels(), refined.clone()), f.encoder(), s.modelId(), s.modelVersion(), lag));
        if (announce) {
            out.add(REFINED_EVENTS, new ActivityEvent(camera, a.times[0], a.seqs[0], refinedStep, label, refined[best],
                    previous < 0 ? null : manifest.labels().get(previous), s.modelId(), s.modelVersion(), lag));
        }
    }

    @Override
    public void close() {
        if (window != null) {
            window.close();
            window = null;
        }
    }
}

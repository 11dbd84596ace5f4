package io.engram.engine.pipeline.activity;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RefinerModel;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.refine.ChangeRule;
import io.engram.engine.pipeline.refine.Refinement;
import io.engram.engine.pipeline.video.FeatureInput;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.state.StreamState;
import io.engram.engine.step.Head;
import io.engram.engine.step.HeadType;
import io.engram.engine.step.Outputs;
import java.util.List;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The recurrent classifier head over frame features: per camera, the activity after each frame
 * (top label and every class probability) on the predictions topic, and an event on the events
 * topic by the {@link ChangeRule} (a new top label held {@code eventMinFrames} frames in a row; a
 * one-frame flicker between two likely labels is not an event). Its payload is {@link ActivityState}.
 *
 * <p>With a refiner ({@code refine:} in the pipeline file), it also runs fixed-lag refinement
 * ({@link Refinement}, shared with the person pipeline's head) over each camera's window, kept in
 * the payload: the refined activity of the frame L frames back goes to the refined topic, and
 * refined activity changes, by the same rule, to the refined events topic. A state reset discards
 * the window with the rest of the state: the frames in it get no refined record.
 *
 * <p>One instance per task (see {@link io.engram.engine.step.Head}); owns its {@link Refinement}
 * (the refiner's native buffers), released by {@link #close()}.
 */
public final class ActivityHead implements Head<FeatureRecord, ActivityState> {
    public static final TopicRole PREDICTIONS = new TopicRole("predictions");
    public static final TopicRole EVENTS = new TopicRole("events");
    public static final TopicRole REFINED = Refinement.REFINED;
    public static final TopicRole REFINED_EVENTS = Refinement.REFINED_EVENTS;
    static final ActivityCodec CODEC = new ActivityCodec();

    private final ModelManifest manifest;
    private final ChangeRule rule;
    private final PipelineMeters meters;
    /** Null without a refiner. */
    private final Refinement refinement;

    public ActivityHead(ModelManifest manifest, int eventMinFrames, PipelineMeters meters) {
        this(manifest, eventMinFrames, meters, null, 0);
    }

    /**
     * @param refiner the fixed-lag refiner, shared and owned by the caller, or null for none
     * @param lag L: the refined label of a frame is known L frames later
     */
    public ActivityHead(ModelManifest manifest, int eventMinFrames, PipelineMeters meters, RefinerModel refiner, int lag) {
        this.manifest = manifest;
        this.rule = new ChangeRule(eventMinFrames);
        this.meters = meters;
        this.refinement = refiner == null ? null : new Refinement(manifest, refiner, lag, rule);
    }

    /**
     * The activity head, one per task made with these arguments; with a refiner (shared, owned by
     * the caller) it also writes the refined roles.
     */
    public static HeadType<FeatureRecord, ActivityState> type(ModelManifest manifest, int eventMinFrames, PipelineMeters meters,
            RefinerModel refiner, int lag) {
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
        int best = ChangeRule.top(probs);
        int previous = a.live.announced();
        a.lastSequence = f.sequence();
        boolean announce = rule.next(a.live, best);
        List<String> labels = manifest.labels();
        Probabilities all = new Probabilities(labels, probs.clone());
        String label = labels.get(best);
        out.add(PREDICTIONS, new ActivityPrediction(camera, t, f.sequence(), step, label, probs[best], all, f.encoder(), s.modelId(),
                s.modelVersion(), null));
        if (announce) {
            meters.activityChange();
            out.add(EVENTS, new ActivityEvent(camera, t, f.sequence(), step, label, probs[best],
                    previous < 0 ? null : labels.get(previous), s.modelId(), s.modelVersion(), null));
        }
        if (refinement == null) {
            return;
        }
        Refinement.Refined r = refinement.add(a.window, f.values(), s.hidden(), f.sequence(), t, step);
        if (r == null) {
            return;
        }
        int lag = refinement.lag();
        String refined = labels.get(r.label());
        out.add(REFINED, new ActivityPrediction(camera, r.time(), r.seq(), r.step(), refined, r.probability(),
                new Probabilities(labels, r.probs()), f.encoder(), s.modelId(), s.modelVersion(), lag));
        if (r.changed()) {
            out.add(REFINED_EVENTS, new ActivityEvent(camera, r.time(), r.seq(), r.step(), refined, r.probability(),
                    r.previous() < 0 ? null : labels.get(r.previous()), s.modelId(), s.modelVersion(), lag));
        }
    }

    @Override
    public void close() {
        if (refinement != null) {
            refinement.close();
        }
    }
}

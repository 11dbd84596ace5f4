package io.engram.engine.pipeline.pose;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RefinerModel;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.activity.Probabilities;
import io.engram.engine.pipeline.refine.ChangeRule;
import io.engram.engine.pipeline.refine.Refinement;
import io.engram.engine.pipeline.video.FeatureInput;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.state.StreamState;
import io.engram.engine.step.Head;
import io.engram.engine.step.HeadType;
import io.engram.engine.step.Outputs;
import java.util.List;
import java.util.Set;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The head of the person activity pipeline: per person (stream key {@code camera/track}), the
 * activity after each frame on the predictions topic (top label and every class probability); a
 * change of activity on the events topic, once a new top label has held {@code eventMinFrames}
 * frames in a row (the {@link ChangeRule}, the video pipeline's: a one-frame flicker is no event);
 * and a fall on the falls topic: the top label goes from an upright one ({@value #UPRIGHT_LABELS}) to
 * {@value #FALL_LABEL} and stays there {@code fallFrames} frames in a row, the first of them at most
 * {@code withinFrames} frames after the last upright frame (a fall may pass through a few frames of
 * another label; lying down after sitting for a minute is not a fall). One event per fall: the
 * person must be upright again before the next. All of it is in the payload ({@link PoseState}),
 * so it survives restarts and moves with the stream. Its input is the pose stage's per-person
 * record ({@link PoseFrameProcessor}), decoded as a feature record of the model's input size.
 *
 * <p>With a refiner ({@code refine:} in the pipeline file), it also runs fixed-lag refinement
 * ({@link Refinement}, the video pipeline's) over each person's window of keypoints, kept in the
 * payload: the refined activity of the frame L frames back goes to the refined topic, and its
 * changes, by the same change rule, to the refined events topic. The fall rule stays on the live
 * labels: a fall must page someone at once, not L frames later. A state reset (control record,
 * gap, model change, an ended track's expiry) discards the window: the frames in it get no refined
 * record.
 *
 * <p>With travel on ({@code travel:}, {@link Travel}), the person's speed, measured on their track,
 * decides between standing and moving before any rule reads the label: the live label, the
 * refined one (with the speed measured up to the refined record's emission), the events and the
 * fall rule all see the gated probabilities. The live record carries the speed.
 *
 * <p>One instance per task; owns its {@link Refinement} (the refiner's native buffers), released by
 * {@link #close()}.
 */
public final class PoseHead implements Head<PersonRecord, PoseState> {
    public static final TopicRole PREDICTIONS = new TopicRole("predictions");
    public static final TopicRole EVENTS = new TopicRole("events");
    public static final TopicRole FALLS = new TopicRole("falls");
    public static final TopicRole REFINED = Refinement.REFINED;
    public static final TopicRole REFINED_EVENTS = Refinement.REFINED_EVENTS;
    public static final String UPRIGHT_LABELS = "stand, walk, run, wave";
    public static final String FALL_LABEL = "fall_lying";
    static final Set<String> UPRIGHT = Set.of("stand", "walk", "run", "wave");
    static final PoseCodec CODEC = new PoseCodec();

    private final ModelManifest manifest;
    private final ChangeRule rule;
    private final int fallFrames;
    private final int withinFrames;
    private final PipelineMeters meters;
    private final boolean[] upright;
    private final int fall;
    /** Null without a refiner. */
    private final Refinement refinement;
    private final Travel travel;
    /** The speed the refined probabilities are gated with: this frame's, set before each refinement (one head per task, one thread). */
    private double refinedSpeed = Double.NaN;
    /** The travel gate on the refined probabilities, made once (no per-record allocation); null with travel off. */
    private final java.util.function.Consumer<float[]> gateRefined;

    public PoseHead(ModelManifest manifest, int eventMinFrames, int fallFrames, int withinFrames, PipelineMeters meters) {
        this(manifest, eventMinFrames, fallFrames, withinFrames, meters, null, 0, Travel.Settings.OFF);
    }

    /**
     * @param refiner the fixed-lag refiner, shared and owned by the caller, or null for none
     * @param lag L: the refined label of a frame is known L frames later
     * @param travel the travel gate's settings ({@link Travel.Settings#OFF}: the model's labels as they are)
     */
    public PoseHead(ModelManifest manifest, int eventMinFrames, int fallFrames, int withinFrames, PipelineMeters meters,
            RefinerModel refiner, int lag, Travel.Settings travel) {
        this.manifest = manifest;
        this.rule = new ChangeRule(eventMinFrames);
        this.fallFrames = fallFrames;
        this.withinFrames = withinFrames;
        this.meters = meters;
        List<String> labels = manifest.labels();
        this.fall = labels.indexOf(FALL_LABEL);
        this.upright = new boolean[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            upright[i] = UPRIGHT.contains(labels.get(i));
        }
        this.refinement = refiner == null ? null : new Refinement(manifest, refiner, lag, rule);
        this.travel = new Travel(travel, labels);
        this.gateRefined = this.travel.on() ? q -> this.travel.gate(q, refinedSpeed) : null;
    }

    /** The head type without refinement: one head per task. */
    public static HeadType<PersonRecord, PoseState> type(ModelManifest manifest, int eventMinFrames, int fallFrames, int withinFrames,
            PipelineMeters meters) {
        return type(manifest, eventMinFrames, fallFrames, withinFrames, meters, null, 0, Travel.Settings.OFF);
    }

    /**
     * The head type: one head per task made with these arguments; with a refiner (shared, owned by
     * the caller) it also writes the refined roles; with travel on, the {@link Travel} gate decides
     * between standing and moving. Refuses a model without the labels the fall rule reads.
     */
    public static HeadType<PersonRecord, PoseState> type(ModelManifest manifest, int eventMinFrames, int fallFrames, int withinFrames,
            PipelineMeters meters, RefinerModel refiner, int lag, Travel.Settings travel) {
        if (!manifest.labels().contains(FALL_LABEL) || manifest.labels().stream().noneMatch(UPRIGHT::contains)) {
            throw new ConfigException("Model " + manifest.manifestPath() + " has labels " + manifest.labels() + "; the pose activity head"
                    + " needs '" + FALL_LABEL + "' and at least one of " + UPRIGHT_LABELS + ". Fix: point model.manifest at a pose"
                    + " activity classifier (models/pose-activity/keypoint-gru.yaml).");
        }
        List<TopicRole> roles = refiner == null ? List.of(PREDICTIONS, EVENTS, FALLS)
                : List.of(PREDICTIONS, EVENTS, FALLS, REFINED, REFINED_EVENTS);
        return HeadType.of(CODEC, roles, () -> new PoseHead(manifest, eventMinFrames, fallFrames, withinFrames, meters, refiner, lag,
                travel));
    }

    @Override
    public PersonRecord decode(String key, Record<String, byte[]> record) {
        return new PersonRecord(FeatureInput.decode(record.value(), manifest), PersonRecord.aspect(record.headers()));
    }

    /** A person's record carries its frame's capture time. */
    @Override
    public long eventTime(PersonRecord in, Record<String, byte[]> record) {
        return record.timestamp();
    }

    @Override
    public PoseState freshPayload(ModelManifest model) {
        return new PoseState();
    }

    @Override
    public boolean fits(PoseState payload, ModelManifest model) {
        return payload.live.last() < model.labels().size() && payload.upright < model.labels().size();
    }

    @Override
    public void input(PersonRecord in, StreamState<PoseState> s, float[] x) {
        System.arraycopy(in.features().values(), 0, x, 0, x.length);
    }

    @Override
    public void output(String person, PersonRecord in, long t, StreamState<PoseState> s, float[] modelProbs, long step, Outputs out) {
        PoseState p = s.payload();
        FeatureRecord f = in.features();
        float[] probs = modelProbs.clone();
        double speed = Double.NaN;
        if (travel.on()) {
            speed = travel.update(p.travel, f.values(), t, in.aspect());
            travel.gate(probs, speed);
        }
        int best = ChangeRule.top(probs);
        p.lastSequence = f.sequence();
        int announcedBefore = p.live.announced();
        boolean announce = rule.next(p.live, best);
        int sep = person.lastIndexOf(PoseFrameProcessor.SEPARATOR);
        String camera = sep < 0 ? person : person.substring(0, sep);
        long track = -1;
        if (sep >= 0) {
            try {
                track = Long.parseLong(person.substring(sep + 1));
            } catch (NumberFormatException e) {
                track = -1; // a key not written by the pose stage (sent to the keypoints topic by hand)
            }
        }
        List<String> labels = manifest.labels();
        out.add(PREDICTIONS, new PosePrediction(person, camera, track, t, f.sequence(), step, labels.get(best), probs[best],
                new Probabilities(labels, probs), f.encoder(), s.modelId(), s.modelVersion(), null,
                Double.isNaN(speed) ? null : speed));
        if (announce) {
            meters.activityChange();
            out.add(EVENTS, new PersonEvent(person, camera, track, t, f.sequence(), step, labels.get(best), probs[best],
                    announcedBefore < 0 ? null : labels.get(announcedBefore), p.live.run(), s.modelId(), s.modelVersion(), null));
        }
        // The fall rule reads the live label: a fall pages at once, never L frames late.
        int previous = fell(p, best);
        if (previous >= 0) {
            meters.fall();
            out.add(FALLS, new PersonEvent(person, camera, track, t, f.sequence(), step, FALL_LABEL, probs[best], labels.get(previous),
                    fallFrames, s.modelId(), s.modelVersion(), null));
        }
        if (refinement == null) {
            return;
        }
        // The refined frame is L frames back; the travel gate uses the speed measured up to now, which
        // is centred nearer that frame than the live one (its averages span about a stride).
        refinedSpeed = speed;
        Refinement.Refined r = refinement.add(p.window, f.values(), s.hidden(), f.sequence(), t, step, gateRefined);
        if (r == null) {
            return;
        }
        int lag = refinement.lag();
        String refined = labels.get(r.label());
        out.add(REFINED, new PosePrediction(person, camera, track, r.time(), r.seq(), r.step(), refined, r.probability(),
                new Probabilities(labels, r.probs()), f.encoder(), s.modelId(), s.modelVersion(), lag, null));
        if (r.changed()) {
            out.add(REFINED_EVENTS, new PersonEvent(person, camera, track, r.time(), r.seq(), r.step(), refined, r.probability(),
                    r.previous() < 0 ? null : labels.get(r.previous()), p.window.labels().run(), s.modelId(), s.modelVersion(), lag));
        }
    }

    @Override
    public void close() {
        if (refinement != null) {
            refinement.close();
        }
    }

    /**
     * Moves the fall rule on by a frame whose top label is {@code label}: the upright label the
     * person fell from when this frame completes a fall, else -1.
     */
    int fell(PoseState p, int label) {
        if (upright[label]) {
            p.upright = label;
            p.sinceUpright = 0;
            p.fallRun = 0;
            return -1;
        }
        if (p.upright < 0) {
            p.fallRun = label == fall ? p.fallRun + 1 : 0;
            return -1;
        }
        p.sinceUpright++;
        if (label != fall) {
            p.fallRun = 0;
            if (p.sinceUpright > withinFrames) {
                p.upright = -1; // too long since upright: what follows is not a fall from it
            }
            return -1;
        }
        p.fallRun++;
        if (p.fallRun == 1 && p.sinceUpright - 1 > withinFrames) {
            p.upright = -1;
            return -1;
        }
        if (p.fallRun < fallFrames) {
            return -1;
        }
        int from = p.upright;
        p.upright = -1; // announced: the next fall needs the person upright again
        return from;
    }
}

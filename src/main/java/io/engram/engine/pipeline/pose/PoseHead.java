package io.engram.engine.pipeline.pose;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.activity.Probabilities;
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
 * frames in a row (the video pipeline's rule: a one-frame flicker is no event); and a fall on the
 * falls topic: the top label goes from an upright one ({@value #UPRIGHT_LABELS}) to
 * {@value #FALL_LABEL} and stays there {@code fallFrames} frames in a row, the first of them at most
 * {@code withinFrames} frames after the last upright frame (a fall may pass through a few frames of
 * another label; lying down after sitting for a minute is not a fall). One event per fall: the
 * person must be upright again before the next. All of it is in the payload ({@link PoseState}),
 * so it survives restarts and moves with the stream. Its input is the pose stage's per-person
 * record ({@link PoseFrameProcessor}), decoded as a feature record of the model's input size.
 */
public final class PoseHead implements Head<FeatureRecord, PoseState> {
    public static final TopicRole PREDICTIONS = new TopicRole("predictions");
    public static final TopicRole EVENTS = new TopicRole("events");
    public static final TopicRole FALLS = new TopicRole("falls");
    public static final String UPRIGHT_LABELS = "stand, walk, run, wave";
    public static final String FALL_LABEL = "fall_lying";
    static final Set<String> UPRIGHT = Set.of("stand", "walk", "run", "wave");
    static final PoseCodec CODEC = new PoseCodec();

    private final ModelManifest manifest;
    private final int eventMinFrames;
    private final int fallFrames;
    private final int withinFrames;
    private final PipelineMeters meters;
    private final boolean[] upright;
    private final int fall;

    public PoseHead(ModelManifest manifest, int eventMinFrames, int fallFrames, int withinFrames, PipelineMeters meters) {
        this.manifest = manifest;
        this.eventMinFrames = eventMinFrames;
        this.fallFrames = fallFrames;
        this.withinFrames = withinFrames;
        this.meters = meters;
        List<String> labels = manifest.labels();
        this.fall = labels.indexOf(FALL_LABEL);
        this.upright = new boolean[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            upright[i] = UPRIGHT.contains(labels.get(i));
        }
    }

    /** The head type: one head per task. Refuses a model without the labels the fall rule reads. */
    public static HeadType<FeatureRecord, PoseState> type(ModelManifest manifest, int eventMinFrames, int fallFrames, int withinFrames,
            PipelineMeters meters) {
        if (!manifest.labels().contains(FALL_LABEL) || manifest.labels().stream().noneMatch(UPRIGHT::contains)) {
            throw new ConfigException("Model " + manifest.manifestPath() + " has labels " + manifest.labels() + "; the pose activity head"
                    + " needs '" + FALL_LABEL + "' and at least one of " + UPRIGHT_LABELS + ". Fix: point model.manifest at a pose"
                    + " activity classifier (models/pose-activity/keypoint-gru.yaml).");
        }
        return HeadType.of(CODEC, List.of(PREDICTIONS, EVENTS, FALLS),
                () -> new PoseHead(manifest, eventMinFrames, fallFrames, withinFrames, meters));
    }

    @Override
    public FeatureRecord decode(String key, Record<String, byte[]> record) {
        return FeatureInput.decode(record.value(), manifest);
    }

    /** A person's record carries its frame's capture time. */
    @Override
    public long eventTime(FeatureRecord in, Record<String, byte[]> record) {
        return record.timestamp();
    }

    @Override
    public PoseState freshPayload(ModelManifest model) {
        return new PoseState();
    }

    @Override
    public boolean fits(PoseState payload, ModelManifest model) {
        return payload.lastLabel < model.labels().size() && payload.upright < model.labels().size();
    }

    @Override
    public void input(FeatureRecord in, StreamState<PoseState> s, float[] x) {
        System.arraycopy(in.values(), 0, x, 0, x.length);
    }

    @Override
    public void output(String person, FeatureRecord f, long t, StreamState<PoseState> s, float[] probs, long step, Outputs out) {
        PoseState p = s.payload();
        int best = 0;
        for (int i = 1; i < probs.length; i++) {
            if (probs[i] > probs[best]) {
                best = i;
            }
        }
        p.lastSequence = f.sequence();
        p.run = best == p.lastLabel ? p.run + 1 : 1;
        p.lastLabel = best;
        int announcedBefore = p.announced;
        boolean announce = best != p.announced && p.run >= eventMinFrames;
        if (announce) {
            p.announced = best;
        }
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
                new Probabilities(labels, probs.clone()), f.encoder(), s.modelId(), s.modelVersion()));
        if (announce) {
            meters.activityChange();
            out.add(EVENTS, new PersonEvent(person, camera, track, t, f.sequence(), step, labels.get(best), probs[best],
                    announcedBefore < 0 ? null : labels.get(announcedBefore), p.run, s.modelId(), s.modelVersion()));
        }
        int previous = fell(p, best);
        if (previous >= 0) {
            meters.fall();
            out.add(FALLS, new PersonEvent(person, camera, track, t, f.sequence(), step, FALL_LABEL, probs[best], labels.get(previous),
                    fallFrames, s.modelId(), s.modelVersion()));
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

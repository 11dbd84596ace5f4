package io.engram.pipeline.activity;

import io.engram.core.Head;
import io.engram.core.Outputs;
import io.engram.core.PayloadCodec;
import io.engram.core.PipelineMeters;
import io.engram.core.StreamState;
import io.engram.model.ModelManifest;
import io.engram.pipeline.video.FeatureInput;
import io.engram.pipeline.video.FeatureRecord;
import java.util.List;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The recurrent classifier head over frame features: per camera, the activity after each frame
 * (top label and every class probability) on the predictions topic, and an event on the events
 * topic when a new top label has held for {@code eventMinFrames} frames in a row (a one-frame
 * flicker between two likely labels is not an event). Its payload is {@link ActivityState}.
 *
 * <p>One instance per task (see {@link io.engram.core.Head}).
 */
public final class ActivityHead implements Head<FeatureRecord, ActivityState> {
    public static final String PREDICTIONS = "predictions";
    public static final String EVENTS = "events";
    static final ActivityCodec CODEC = new ActivityCodec();

    private final ModelManifest manifest;
    private final int eventMinFrames;
    private final PipelineMeters meters;

    public ActivityHead(ModelManifest manifest, int eventMinFrames, PipelineMeters meters) {
        this.manifest = manifest;
        this.eventMinFrames = eventMinFrames;
        this.meters = meters;
    }

    @Override
    public PayloadCodec<ActivityState> codec() {
        return CODEC;
    }

    @Override
    public List<String> outputRoles() {
        return List.of(PREDICTIONS, EVENTS);
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
                s.modelVersion()));
        if (announce) {
            meters.activityChange();
            out.add(EVENTS, new ActivityEvent(camera, t, f.sequence(), step, label, probs[best],
                    previous < 0 ? null : manifest.labels().get(previous), s.modelId(), s.modelVersion()));
        }
    }
}

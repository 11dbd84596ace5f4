package io.engram.video;

import io.engram.errors.BadInputException;
import io.engram.errors.BadInputException.Reason;
import io.engram.model.ModelManifest;
import io.engram.model.StepModel;
import io.engram.model.Stepper;
import io.engram.monitoring.EngramMetrics;
import io.engram.state.ClassifierState;
import io.engram.state.StateEvent;
import io.engram.state.StateLifecycle;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The recurrent classifier over frame features: per camera, steps the model exactly once per
 * feature record with the camera's stored state, emits the activity after this frame on the
 * predictions sink, and an event on the events sink when a new top label has held for
 * {@code eventMinFrames} frames in a row. Bad feature records
 * (wrong format, dimension or encoder) and frames older than the camera's last one are thrown as
 * {@link BadInputException} for the dead-letter handler; the state is untouched then.
 *
 * <p>One instance per task; owns its {@link Stepper}; the {@link StepModel} is shared.
 */
public final class ActivityProcessor implements Processor<String, byte[], String, Object> {
    private final ModelManifest manifest;
    private final StepModel model;
    private final String storeName;
    private final boolean dropOutOfOrder;
    private final int eventMinFrames;
    private final StateLifecycle lifecycle;
    private final EngramMetrics metrics;
    private final String predictionsNode;
    private final String eventsNode;
    private final FeatureRecordSerde serde = new FeatureRecordSerde();
    private final float[] probs;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, ClassifierState> store;
    private Stepper stepper;

    /**
     * @param eventMinFrames frames in a row a new top label must hold before it is announced on the events sink
     */
    public ActivityProcessor(StepModel model, String storeName, boolean dropOutOfOrder, int eventMinFrames, EngramMetrics metrics,
            String predictionsNode, String eventsNode, StateLifecycle lifecycle) {
        this.lifecycle = lifecycle;
        this.manifest = model.manifest();
        this.model = model;
        this.storeName = storeName;
        this.dropOutOfOrder = dropOutOfOrder;
        this.eventMinFrames = eventMinFrames;
        this.metrics = metrics;
        this.predictionsNode = predictionsNode;
        this.eventsNode = eventsNode;
        this.probs = new float[manifest.output().size()];
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        this.stepper = model.newStepper(1);
        lifecycle.init(context, store);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String camera = record.key();
        if (camera == null) {
            throw new BadInputException(Reason.NULL_KEY, "feature record has no key; the key must be the camera id");
        }
        String control = StateLifecycle.control(record.headers());
        if (control != null) {
            if (!control.equals(StateLifecycle.RESET_COMMAND)) {
                throw new BadInputException(Reason.BAD_FIELD, "control record for camera " + camera + " asks for '" + control
                        + "'; the only control is " + StateLifecycle.RESET_COMMAND);
            }
            ClassifierState old = store.get(camera);
            store.delete(camera);
            lifecycle.forget(camera);
            lifecycle.reset(camera, old, StateEvent.CONTROL, record.timestamp(), null, null);
            return;
        }
        FeatureRecord f;
        try {
            f = serde.deserialize(null, record.value());
        } catch (SerializationException e) {
            throw new BadInputException(Reason.BAD_FEATURES, "not a feature record: " + e.getMessage());
        }
        if (f == null) {
            throw new BadInputException(Reason.NULL_VALUE, "feature record has no value for camera " + camera);
        }
        if (f.values().length != manifest.input().size()) {
            throw new BadInputException(Reason.BAD_FEATURES, "feature record has " + f.values().length + " values; model "
                    + manifest.id() + " takes " + manifest.input().size());
        }
        if (!manifest.encoder().isEmpty() && !f.encoder().startsWith(manifest.encoder() + "@")) {
            throw new BadInputException(Reason.BAD_FEATURES, "features come from encoder " + f.encoder() + " but model "
                    + manifest.id() + " was trained on " + manifest.encoder());
        }
        long t = record.timestamp();
        ClassifierState s = store.get(camera);
        if (s != null) {
            boolean belongs = belongsToModel(s);
            if (belongs && dropOutOfOrder && s.steps > 0 && t < s.lastEventTime) {
                throw new BadInputException(Reason.OUT_OF_ORDER, "camera " + camera + " frame at " + t
                        + " is older than the last stepped frame at " + s.lastEventTime);
            }
            if (!lifecycle.before(camera, s, t, belongs, manifest.id(), manifest.version())) {
                s = null;
            }
        }
        if (s == null) {
            s = ClassifierState.fresh(manifest.id(), manifest.version(), manifest.stateCompat(), manifest.stateFloats());
        }
        long t0 = System.nanoTime();
        stepper.step(f.values(), s.hidden, probs);
        metrics.stepTimer().record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        int best = 0;
        for (int i = 1; i < probs.length; i++) {
            if (probs[i] > probs[best]) {
                best = i;
            }
        }
        long step = s.steps;
        int previous = s.announced;
        s.steps = step + 1;
        s.lastEventTime = Math.max(t, s.lastEventTime);
        s.lastSequence = f.sequence();
        s.run = best == s.lastLabel ? s.run + 1 : 1;
        s.lastLabel = best;
        // An activity is announced once it has been the top label for eventMinFrames frames in a
        // row: a one-frame flicker between two likely labels is not an event.
        boolean announce = best != s.announced && s.run >= eventMinFrames;
        if (announce) {
            s.announced = best;
        }
        store.put(camera, s);
        lifecycle.stepped(camera);
        metrics.processed();

        Map<String, Double> all = new LinkedHashMap<>();
        for (int i = 0; i < probs.length; i++) {
            all.put(manifest.labels().get(i), (double) probs[i]);
        }
        String label = manifest.labels().get(best);
        context.forward(new Record<>(camera, new ActivityPrediction(camera, t, f.sequence(), step, label, probs[best], all,
                f.encoder(), s.modelId, s.modelVersion), t), predictionsNode);
        if (announce) {
            metrics.activityChange();
            context.forward(new Record<>(camera, new ActivityEvent(camera, t, f.sequence(), step, label, probs[best],
                    previous < 0 ? null : manifest.labels().get(previous), s.modelId, s.modelVersion), t), eventsNode);
        }
    }

    private boolean belongsToModel(ClassifierState s) {
        if (s.hidden.length != manifest.stateFloats()) {
            return false;
        }
        if (s.modelId.equals(manifest.id()) && s.modelVersion.equals(manifest.version())) {
            return true;
        }
        if (!manifest.stateCompat().isEmpty() && manifest.stateCompat().equals(s.stateCompat)) {
            s.modelId = manifest.id();
            s.modelVersion = manifest.version();
            return true;
        }
        return false;
    }

    @Override
    public void close() {
        if (stepper != null) {
            stepper.close();
            stepper = null;
        }
    }
}

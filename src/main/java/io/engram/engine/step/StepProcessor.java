package io.engram.engine.step;

import io.engram.engine.config.OutOfOrder;
import io.engram.engine.config.StatePolicy;
import io.engram.engine.kafka.ProcessingErrors;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.StateEvent;
import io.engram.engine.state.StreamState;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import io.engram.engine.model.RecurrentStep;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The recurrent step, written once for every pipeline: per input record, it checks the key,
 * obeys control records, has the {@link Head} decode the value, checks the event time, loads the
 * stream's {@link StreamState}, checks that the state belongs to the current model (id and version,
 * or the same {@code state_compat}), refuses records older than the stream's last step, applies the
 * {@link StateLifecycle} (gap resets, model-change resets), starts a fresh state where there is none,
 * advances the model exactly one step, stores the new state and forwards the head's outputs, and
 * counts it all. The behaviour that differs between pipelines is the head's (in the manner of Kafka
 * Streams' {@code KStreamAggregate}, whose get, apply, put, forward skeleton takes its aggregator).
 *
 * <p>Bad records are thrown as {@link BadInputException} before anything is changed, so that Kafka
 * Streams' processing exception handler dead-letters them and the state stays as it was.
 *
 * <p>Check order, the same for every pipeline: key; control record (a header, or the head's
 * in-value form); value (a tombstone is refused); decode; event time at most
 * {@value #MAX_TS_AHEAD_MS} ms ahead; order; lifecycle.
 *
 * <p>One instance per task, made by {@link StepTopology}'s supplier. It owns its {@link RecurrentStep}
 * (a {@link io.engram.engine.model.OnnxStep}, native buffers) and its head, released by {@link #close()};
 * Kafka Streams may call {@link #init} again after a close (a revived task), which makes them
 * anew. The {@link StepSession} is shared and owned by the caller. With a {@code null} model the step
 * is skipped and the model's output is all zeros: the baseline that measures the model's cost.
 *
 * @param <I> the head's decoded input
 * @param <P> the head's per-stream payload
 */
public final class StepProcessor<I, P> implements Processor<String, byte[], String, Object> {
    /**
     * How far a record's event time may be after its record's timestamp (or the clock, if that is
     * earlier): Kafka's default broker limit ahead of now ({@code log.message.timestamp.after.max.ms}).
     * Outputs carry the event time, a broker refuses them beyond it, and under exactly-once such a
     * refusal stops the pipeline; stepped, a far-future record would also make the stream's later
     * records out-of-order.
     */
    public static final long MAX_TS_AHEAD_MS = 3_600_000;

    private final Head<I, P> head;
    private final ModelManifest manifest;
    private final java.util.function.Supplier<? extends RecurrentStep> steps;
    private final String storeName;
    private final OutOfOrder outOfOrder;
    private final StateLifecycle lifecycle;
    private final PipelineMeters meters;
    private final Map<TopicRole, String> sinks;
    private final float[] x;
    private final float[] y;
    private final Outputs outputs = new Outputs();

    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, StreamState<P>> store;
    private RecurrentStep stepper;
    /** The pipeline's, from the streams config: told of every record that went through (see {@link ProcessingErrors}). */
    private ProcessingErrors errors = ProcessingErrors.NONE;

    /**
     * @param manifest the model's manifest (also when {@code model} is null)
     * @param sinks the sink node name of every output role of the head, and of {@link StepTopology#STATE_EVENTS}
     */
    public StepProcessor(Head<I, P> head, ModelManifest manifest, StepSession model, String storeName, OutOfOrder outOfOrder,
            StatePolicy policy, PipelineMeters meters, Map<TopicRole, String> sinks) {
        this(head, manifest, model == null ? null : () -> model.newStep(1), storeName, outOfOrder, policy, meters, sinks);
    }

    /**
     * As the other constructor, with the model step made by {@code steps} (one per task, owned by
     * this processor), or null for the model-less baseline.
     */
    public StepProcessor(Head<I, P> head, ModelManifest manifest, java.util.function.Supplier<? extends RecurrentStep> steps, String storeName,
            OutOfOrder outOfOrder, StatePolicy policy, PipelineMeters meters, Map<TopicRole, String> sinks) {
        this.head = head;
        this.manifest = manifest;
        this.steps = steps;
        this.storeName = storeName;
        this.outOfOrder = outOfOrder;
        this.meters = meters;
        this.sinks = Map.copyOf(sinks);
        this.lifecycle = new StateLifecycle(policy, meters, sinks.get(StepTopology.STATE_EVENTS));
        this.x = new float[manifest.input().size()];
        this.y = new float[manifest.output().size()];
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        lifecycle.init(context, store);
        this.stepper = steps == null ? null : steps.get();
        Object e = context.appConfigs().get(ProcessingErrors.CONFIG);
        this.errors = e instanceof ProcessingErrors pe ? pe : ProcessingErrors.NONE;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String key = InputChecks.key(record, "record has no key; the key must be the stream (or camera) id");
        String control = InputChecks.control(record, head::controlInValue);
        if (control != null) {
            control(key, control, record.timestamp());
            errors.succeeded();
            return;
        }
        if (record.value() == null) {
            throw new BadInputException(Reason.NULL_VALUE, "record has no value (tombstone) for stream " + key);
        }
        I in = head.decode(key, record);
        long eventTime = head.eventTime(in, record);
        long ahead = eventTime - Math.min(record.timestamp(), context.currentSystemTimeMs());
        if (ahead > MAX_TS_AHEAD_MS) {
            throw new BadInputException(Reason.BAD_FIELD, "stream " + key + " event time " + eventTime
                    + " is more than 1 hour ahead of the record's timestamp " + record.timestamp() + " or of the clock");
        }

        StreamState<P> s = store.get(key);
        if (s != null) {
            boolean belongs = belongsToModel(s);
            if (belongs && s.steps() > 0 && eventTime < s.lastEventTime() && outOfOrder == OutOfOrder.DROP) {
                throw new BadInputException(Reason.OUT_OF_ORDER, "stream " + key + " record at " + eventTime
                        + " is older than the last stepped record at " + s.lastEventTime() + " (state.out_of_order: drop)");
            }
            if (!lifecycle.before(key, s, eventTime, belongs, manifest.id(), manifest.version())) {
                s = null;
            }
        }
        if (s == null) {
            s = StreamState.fresh(manifest.id(), manifest.version(), manifest.stateCompat(), manifest.stateFloats(),
                    head.freshPayload(manifest));
        }

        long step = s.steps();
        head.input(in, s, x);
        long nanos = -1;
        if (stepper != null) {
            long t0 = System.nanoTime();
            stepper.step(x, s.hidden(), y);
            nanos = System.nanoTime() - t0;
        } else {
            Arrays.fill(y, 0f);
        }
        s.stepped(eventTime);
        outputs.clear();
        head.output(key, in, eventTime, s, y, step, outputs);
        store.put(key, s);
        lifecycle.stepped(key);
        meters.stepped(nanos);
        meters.outputLatency(System.currentTimeMillis() - eventTime);
        for (int i = 0; i < outputs.roles.size(); i++) {
            context.forward(new Record<>(key, outputs.values.get(i), eventTime, record.headers()), sinks.get(outputs.roles.get(i)));
        }
        outputs.clear();
        errors.succeeded();
    }

    /** A control record: the only command is {@value StateLifecycle#RESET_COMMAND}, which deletes the stream's state. */
    private void control(String key, String command, long timestamp) {
        InputChecks.requireReset(command, "stream " + key);
        StreamState<P> old = store.get(key);
        store.delete(key);
        lifecycle.forget(key);
        lifecycle.reset(key, old, StateEvent.CONTROL, timestamp, null, null);
    }

    /**
     * State carries on under the model that wrote it, or under one that declares the same state
     * layout ({@code state_compat}), which then adopts it; in both cases only if its size fits.
     */
    private boolean belongsToModel(StreamState<P> s) {
        if (s.hidden().length != manifest.stateFloats() || !head.fits(s.payload(), manifest)) {
            return false;
        }
        if (s.modelId().equals(manifest.id()) && s.modelVersion().equals(manifest.version())) {
            return true;
        }
        if (!manifest.stateCompat().isEmpty() && manifest.stateCompat().equals(s.stateCompat())) {
            s.adopt(manifest.id(), manifest.version());
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
        head.close();
    }
}

package io.engram.topology;

import io.engram.anomaly.AnomalyScorer;
import io.engram.errors.BadInputException;
import io.engram.errors.BadInputException.Reason;
import io.engram.model.ModelManifest;
import io.engram.model.Normalizer;
import io.engram.model.StepModel;
import io.engram.model.Stepper;
import io.engram.monitoring.EngramMetrics;
import io.engram.state.StateEvent;
import io.engram.state.StateLifecycle;
import io.engram.state.StreamState;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The stateful recurrent step: for each reading it fetches the stream's {@link StreamState}, scores
 * the reading against the forecast made at the previous step, advances the model exactly one step,
 * stores the new state and emits a prediction (and an anomaly when the scorer alerts). Bad records
 * are thrown as {@link BadInputException} so that Kafka Streams' processing exception handler
 * dead-letters them; the state is untouched in that case. Its {@link StateLifecycle} expires idle
 * streams, resets streams after long gaps or under an incompatible model, and obeys control records
 * ({@code engram.control: reset}), announcing each on the state-events sink.
 *
 * <p>One instance per task, created by {@link SensorTopology}'s supplier; it owns its
 * {@link Stepper} (native buffers), which {@link #close()} releases. The {@link StepModel} is shared
 * and owned by the caller. With a {@code null} model the step is skipped (output 0, the forecast is
 * the running mean): the baseline that measures the model's cost.
 */
public final class SensorProcessor implements Processor<String, byte[], String, Object> {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    /** How far a reading's {@code ts} may be after its record's timestamp (Kafka's default broker limit ahead of now). */
    public static final long MAX_TS_AHEAD_MS = 3_600_000;

    private final ModelManifest manifest;
    private final StepModel model;
    private final AnomalyScorer scorer;
    private final PipelineConfig.OutOfOrder outOfOrder;
    private final String storeName;
    private final EngramMetrics metrics;
    private final String predictionsNode;
    private final String anomaliesNode;
    private final StateLifecycle lifecycle;
    private final Normalizer normalizer;
    private final int channels;
    private final float[] x;
    private final float[] y;

    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, StreamState> store;
    private Stepper stepper;

    public SensorProcessor(ModelManifest manifest, StepModel model, AnomalyScorer scorer, PipelineConfig.OutOfOrder outOfOrder,
            String storeName, EngramMetrics metrics, String predictionsNode, String anomaliesNode, StateLifecycle lifecycle) {
        this.lifecycle = lifecycle;
        this.manifest = manifest;
        this.model = model;
        this.scorer = scorer;
        this.outOfOrder = outOfOrder;
        this.storeName = storeName;
        this.metrics = metrics;
        this.predictionsNode = predictionsNode;
        this.anomaliesNode = anomaliesNode;
        this.normalizer = new Normalizer(manifest.preprocessing());
        this.channels = manifest.input().size();
        this.x = new float[channels];
        this.y = new float[manifest.output().size()];
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
        lifecycle.init(context, store);
        this.stepper = model == null ? null : model.newStepper(1);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String key = record.key();
        if (key == null) {
            throw new BadInputException(Reason.NULL_KEY, "record has no key; the key must be the stream id");
        }
        if (record.value() == null) {
            throw new BadInputException(Reason.NULL_VALUE, "record has no value (tombstone) for stream " + key);
        }
        String control = control(record);
        if (control != null) {
            if (!control.equals(StateLifecycle.RESET_COMMAND)) {
                throw new BadInputException(Reason.BAD_FIELD, "control record for stream " + key + " asks for '" + control
                        + "'; the only control is " + StateLifecycle.RESET_COMMAND);
            }
            StreamState old = store.get(key);
            store.delete(key);
            lifecycle.forget(key);
            lifecycle.reset(key, old, StateEvent.CONTROL, record.timestamp(), null, null);
            return;
        }
        // Parsed here rather than in the source's deserializer so that every bad record takes one
        // path: a BadInputException to the processing exception handler, which dead-letters it.
        SensorReading reading = SensorReadingSerde.parse(record.value());
        double[] values = reading.values();
        if (values.length != channels) {
            throw new BadInputException(Reason.WRONG_VALUE_COUNT, "stream " + key + " sent " + values.length
                    + " values but model " + manifest.id() + " takes " + channels);
        }
        long eventTime = reading.ts() != null ? reading.ts() : record.timestamp();
        // The event time is the prediction's record timestamp, which a broker refuses more than an hour
        // (log.message.timestamp.after.max.ms) ahead of its clock, and under exactly-once such a refusal
        // stops the pipeline; stepped, a far-future reading would also make the stream's later readings
        // out-of-order. Judged against the record's own timestamp and, if that is ahead, the clock.
        long ahead = eventTime - Math.min(record.timestamp(), context.currentSystemTimeMs());
        if (ahead > MAX_TS_AHEAD_MS) {
            throw new BadInputException(Reason.BAD_FIELD, "stream " + key + " reading 'ts' " + eventTime
                    + " is more than 1 hour ahead of the record's timestamp " + record.timestamp() + " or of the clock");
        }

        StreamState s = store.get(key);
        if (s != null) {
            boolean belongs = belongsToModel(s);
            if (belongs && s.steps > 0 && eventTime < s.lastEventTime && outOfOrder == PipelineConfig.OutOfOrder.DROP) {
                throw new BadInputException(Reason.OUT_OF_ORDER, "stream " + key + " reading at " + eventTime
                        + " is older than the last stepped reading at " + s.lastEventTime + " (state.out_of_order: drop)");
            }
            if (!lifecycle.before(key, s, eventTime, belongs, manifest.id(), manifest.version())) {
                s = null;
            }
        }
        if (s == null) {
            s = StreamState.fresh(manifest.id(), manifest.version(), manifest.stateCompat(), channels, manifest.stateFloats());
        }

        long n = s.steps;
        double[] forecast = n > 0 ? s.forecast.clone() : null;
        double[] error = n > 0 ? new double[channels] : null;
        double raw = 0;
        double[] stats = new double[2];
        for (int c = 0; c < channels; c++) {
            double v = values[c];
            if (n > 0) {
                error[c] = v - forecast[c];
                raw += Math.abs(error[c]) / normalizer.scale(s.mean[c], s.var[c]);
            }
            x[c] = (float) normalizer.normalize(v, n, s.mean[c], s.var[c]);
            stats[0] = s.mean[c];
            stats[1] = s.var[c];
            normalizer.update(v, n, stats);
            s.mean[c] = stats[0];
            s.var[c] = stats[1];
        }
        if (stepper != null) {
            long t0 = System.nanoTime();
            stepper.step(x, s.hidden, y);
            metrics.stepTimer().record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        for (int c = 0; c < channels; c++) {
            s.forecast[c] = normalizer.denormalize(stepper != null ? y[c] : 0.0, s.mean[c], s.var[c]);
        }
        s.steps = n + 1;
        s.lastEventTime = Math.max(eventTime, n > 0 ? s.lastEventTime : eventTime);

        AnomalyScorer.Score score = n > 0 ? scorer.score(s, raw / channels, values) : new AnomalyScorer.Score(0, 0.5, 0, false);
        store.put(key, s);
        lifecycle.stepped(key);
        metrics.processed();

        SensorPrediction p = new SensorPrediction(key, eventTime, n, s.modelId, s.modelVersion, values, forecast, error,
                s.forecast.clone(), score.raw(), score.likelihood(), score.score(), score.anomaly());
        context.forward(new Record<>(key, p, eventTime, record.headers()), predictionsNode);
        if (score.anomaly()) {
            metrics.anomaly();
            context.forward(new Record<>(key, p, eventTime, record.headers()), anomaliesNode);
        }
    }

    /**
     * The command of a control record: the {@value StateLifecycle#CONTROL_HEADER} header, or a JSON
     * value {@code {"control": "reset"}} (for producers that cannot set headers). Null for data.
     */
    private static String control(Record<String, byte[]> record) {
        String h = StateLifecycle.control(record.headers());
        if (h != null) {
            return h;
        }
        byte[] v = record.value();
        // Cheap test first, without allocating: a reading never has a "control" field, so only such
        // records are parsed twice.
        if (v.length > 200 || !contains(v, CONTROL_FIELD)) {
            return null;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(v);
            return n != null && n.isObject() && n.has("control") ? n.get("control").asText("") : null;
        } catch (java.io.IOException e) {
            return null; // not JSON: the reading parser gives the dead letter its reason
        }
    }

    private static final byte[] CONTROL_FIELD = "\"control\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** State carries on under the same model, or under one that declares the same state layout. */
    private boolean belongsToModel(StreamState s) {
        if (s.modelId.equals(manifest.id()) && s.modelVersion.equals(manifest.version())
                && s.hidden.length == manifest.stateFloats() && s.channels() == channels) {
            return true;
        }
        if (!manifest.stateCompat().isEmpty() && manifest.stateCompat().equals(s.stateCompat)
                && s.hidden.length == manifest.stateFloats() && s.channels() == channels) {
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

package io.engram.engine.pipeline.anomaly;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.step.Head;
import io.engram.engine.step.Outputs;
import io.engram.engine.step.HeadType;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.StreamState;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.Normalizer;
import io.engram.engine.pipeline.video.FeatureInput;
import io.engram.engine.pipeline.video.FeatureRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The forecaster + anomaly-scorer head: each record is a reading of C channels (a JSON sensor
 * reading, or a frame's feature vector); the model forecasts the next reading; the error of the
 * forecast made at the previous step is scored by {@link AnomalyScorer} against the stream's own
 * history. Emits one prediction per record and an anomaly when the scorer alerts (repeats of one
 * incident suppressed). Its payload is {@link ForecastState}.
 *
 * <p>One instance per task (see {@link io.engram.engine.step.Head}); shares the scorer, which is stateless.
 */
public final class ForecastHead implements Head<VectorReading, ForecastState> {
    public static final TopicRole PREDICTIONS = new TopicRole("predictions");
    public static final TopicRole ANOMALIES = new TopicRole("anomalies");
    static final ForecastCodec CODEC = new ForecastCodec();
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final byte[] CONTROL_FIELD = "\"control\"".getBytes(StandardCharsets.US_ASCII);

    private final ModelManifest manifest;
    private final ForecastSettings settings;
    private final AnomalyScorer scorer;
    private final PipelineMeters meters;
    private final Normalizer normalizer;
    private final int channels;
    private final double[] stats = new double[2];
    // Carried from input() to output() of the same record.
    private double[] forecastBefore;
    private double[] error;
    private double raw;

    public ForecastHead(ModelManifest manifest, ForecastSettings settings, AnomalyScorer scorer, PipelineMeters meters) {
        this.manifest = manifest;
        this.settings = settings;
        this.scorer = scorer;
        this.meters = meters;
        this.normalizer = new Normalizer(manifest.preprocessing());
        this.channels = manifest.input().size();
    }

    /** The forecaster head, one per task made with these arguments (the scorer is stateless and shared). */
    public static HeadType<VectorReading, ForecastState> type(ModelManifest manifest, ForecastSettings settings, AnomalyScorer scorer,
            PipelineMeters meters) {
        return HeadType.of(CODEC, List.of(PREDICTIONS, ANOMALIES), () -> new ForecastHead(manifest, settings, scorer, meters));
    }

    /** A JSON value {@code {"control": "reset"}}, for producers that cannot set headers (JSON input only). */
    @Override
    public String controlInValue(byte[] v) {
        // Cheap test first, without allocating: a reading never has a "control" field, so only such
        // records are parsed twice.
        if (settings.format() != ForecastSettings.Format.JSON || v.length > 200 || !contains(v, CONTROL_FIELD)) {
            return null;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(v);
            return n != null && n.isObject() && n.has("control") ? n.get("control").asText("") : null;
        } catch (java.io.IOException e) {
            return null; // not JSON: the reading parser gives the dead letter its reason
        }
    }

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

    @Override
    public VectorReading decode(String key, Record<String, byte[]> record) {
        if (settings.format() == ForecastSettings.Format.FEATURES) {
            FeatureRecord f = FeatureInput.decode(record.value(), manifest);
            double[] values = new double[f.values().length];
            for (int i = 0; i < values.length; i++) {
                values[i] = f.values()[i];
            }
            return new VectorReading(null, values);
        }
        VectorReading reading = VectorReadingSerde.parse(record.value());
        if (reading.values().length != channels) {
            throw new BadInputException(Reason.WRONG_VALUE_COUNT, "stream " + key + " sent " + reading.values().length
                    + " values but model " + manifest.id() + " takes " + channels);
        }
        return reading;
    }

    @Override
    public long eventTime(VectorReading in, Record<String, byte[]> record) {
        return in.ts() != null ? in.ts() : record.timestamp();
    }

    @Override
    public ForecastState freshPayload(ModelManifest model) {
        return ForecastState.fresh(model.input().size());
    }

    @Override
    public boolean fits(ForecastState payload, ModelManifest model) {
        return payload.channels() == model.input().size();
    }

    @Override
    public void input(VectorReading in, StreamState<ForecastState> s, float[] x) {
        ForecastState f = s.payload();
        long n = s.steps();
        double[] values = in.values();
        // The arrays of the output record are made only when it carries them (output.vectors):
        // without them a 128-feature frame allocates nothing here.
        boolean vectors = settings.vectors() && n > 0;
        forecastBefore = vectors ? f.forecast.clone() : null;
        error = vectors ? new double[channels] : null;
        raw = 0;
        for (int c = 0; c < channels; c++) {
            double v = values[c];
            if (n > 0) {
                double e = v - f.forecast[c]; // f.forecast is still the previous step's forecast here
                if (vectors) {
                    error[c] = e;
                }
                raw += Math.abs(e) / normalizer.scale(f.mean[c], f.var[c]);
            }
            x[c] = (float) normalizer.normalize(v, n, f.mean[c], f.var[c]);
            stats[0] = f.mean[c];
            stats[1] = f.var[c];
            normalizer.update(v, n, stats);
            f.mean[c] = stats[0];
            f.var[c] = stats[1];
        }
    }

    @Override
    public void output(String key, VectorReading in, long eventTime, StreamState<ForecastState> s, float[] y, long step,
            Outputs out) {
        ForecastState f = s.payload();
        for (int c = 0; c < channels; c++) {
            f.forecast[c] = normalizer.denormalize(y[c], f.mean[c], f.var[c]);
        }
        AnomalyScorer.Score score = step > 0 ? scorer.score(f, s.steps(), raw / channels, in.values(), eventTime)
                : new AnomalyScorer.Score(0, 0.5, 0, false);
        boolean vectors = settings.vectors();
        ForecastPrediction p = new ForecastPrediction(key, eventTime, step, s.modelId(), s.modelVersion(),
                vectors ? in.values() : null, forecastBefore, error, vectors ? f.forecast.clone() : null, score.raw(), score.likelihood(), score.score(), score.anomaly(),
                AnomalyScorer.reasonNames(score.reasons(), score.components(), in::name));
        out.add(PREDICTIONS, p);
        if (score.anomaly()) {
            meters.anomaly();
            out.add(ANOMALIES, p);
        }
    }
}

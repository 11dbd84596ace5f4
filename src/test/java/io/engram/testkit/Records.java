package io.engram.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Good input records for any pipeline's step, as a producer sends them: JSON readings for a
 * forecaster over readings, binary feature records (real encoder features of the golden activity
 * clip, in a loop) for a head over frame features. Deterministic in the index.
 */
public final class Records {
    private static final FeatureRecordSerde FEATURES = new FeatureRecordSerde();
    private static float[][] clip;

    private Records() {}

    /** Whether the pipeline's step reads binary feature records. */
    public static boolean features(PipelineSpec spec) {
        return spec.kind() != AnomalyPipeline.INSTANCE || spec.settings(AnomalyPipeline.INSTANCE).format() == ForecastSettings.Format.FEATURES;
    }

    /** The {@code i}-th good record of a stream, whose event time is {@code ts}. */
    public static byte[] record(PipelineSpec spec, ModelManifest model, int i, long ts) {
        int n = model.input().size();
        if (features(spec)) {
            float[][] c = clip();
            float[] v = new float[n];
            System.arraycopy(c[i % c.length], 0, v, 0, Math.min(n, c[0].length));
            return FEATURES.serialize("t", new FeatureRecord(model.encoder() + "@1.0.0", i, v));
        }
        StringBuilder sb = new StringBuilder("{\"ts\":").append(ts).append(",\"values\":[");
        for (int c = 0; c < n; c++) {
            sb.append(c > 0 ? "," : "").append(String.format(Locale.ROOT, "%.6f", 10 + Math.sin(i / 7.0 + c)));
        }
        return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The encoder features of the 120 frames of models/activity/golden/activity-clip.json (PyTorch's). */
    public static synchronized float[][] clip() {
        if (clip == null) {
            try {
                JsonNode g = new ObjectMapper().readTree(Path.of("models/activity/golden/activity-clip.json").toFile());
                JsonNode f = g.get("features");
                clip = new float[f.size()][];
                for (int i = 0; i < f.size(); i++) {
                    clip[i] = new float[f.get(i).size()];
                    for (int j = 0; j < clip[i].length; j++) {
                        clip[i][j] = (float) f.get(i).get(j).asDouble();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return clip;
    }
}

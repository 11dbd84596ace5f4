package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.testkit.Golden;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.junit.jupiter.api.Test;

/**
 * The third pipeline, video anomaly detection, is the sensor pipeline's head over frame features
 * (topology/video-anomaly.yaml, no Java of its own). In a TopologyTestDriver with the real feature
 * forecaster: its forecasts equal PyTorch's on the golden sequence, each frame gets exactly one
 * score record, and on the held-out synthetic clips (models/video-anomaly/eval/, features computed
 * by the PyTorch encoder) it alerts when an object appears or jumps and stays quiet on normal motion.
 * The per-clip figures are printed for the model card.
 */
class VideoAnomalyTopologyTest {
    static final Path DIR = Path.of("models/video-anomaly");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ENCODER = "frame-encoder-cnn@1.0.0";
    /** Frames after an event's start within which its alert must come. */
    static final int ALERT_WITHIN = 10;

    static float[][] clip(Path f32, int frames) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f32)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(frames * 128L * 4, b.remaining(), f32 + " holds " + frames + " x 128 float32");
        float[][] out = new float[frames][128];
        for (float[] row : out) {
            for (int j = 0; j < 128; j++) {
                row[j] = b.getFloat();
            }
        }
        return out;
    }

    /** Feeds one camera's features, 10 frames/s, and returns its score records (read to the end). */
    static List<JsonNode> run(PipelineDriver pd, String camera, float[][] frames) throws Exception {
        TestInputTopic<byte[], byte[]> in = pd.stepInput();
        TestOutputTopic<String, String> scores = pd.output(ForecastHead.PREDICTIONS);
        FeatureRecordSerde fs = new FeatureRecordSerde();
        for (int i = 0; i < frames.length; i++) {
            in.pipeInput(camera.getBytes(StandardCharsets.UTF_8), fs.serialize("t", new FeatureRecord(ENCODER, i, frames[i])),
                    1_700_000_000_000L + 100L * i);
        }
        List<JsonNode> out = new ArrayList<>();
        for (String s : scores.readValuesToList()) {
            out.add(JSON.readTree(s));
        }
        return out;
    }

    @Test
    void theLiveForecastEqualsPyTorchOnTheGoldenSequence() throws Exception {
        JsonNode seq = new Golden(DIR.resolve("golden/feature-gru.json")).root.get("sequence");
        double[][] z = Golden.rowsDouble(seq.get("z"));
        double[][] y = Golden.rowsDouble(seq.get("y"));
        PipelineSpec spec = Pipelines.load(Path.of("topology/video-anomaly.yaml"));
        // The shipped file leaves the vectors out of its records; here they are the point.
        spec = spec.withSettings(new ForecastSettings(spec.settings(AnomalyPipeline.INSTANCE).scoring(), ForecastSettings.Format.FEATURES, true));
        float[][] frames = new float[z.length][];
        for (int t = 0; t < z.length; t++) {
            frames[t] = new float[z[t].length];
            for (int j = 0; j < z[t].length; j++) {
                frames[t][j] = (float) z[t][j];
            }
        }
        try (PipelineDriver pd = new PipelineDriver(spec)) {
            List<JsonNode> out = run(pd, "golden", frames);
            assertEquals(z.length, out.size());
            for (int t = 0; t < z.length; t++) {
                JsonNode next = out.get(t).get("next_forecast");
                for (int j = 0; j < y[t].length; j++) {
                    assertEquals(y[t][j], next.get(j).asDouble(), 1e-4, "step " + t + " feature " + j);
                }
            }
        }
    }

    /**
     * Kinds of event the feature forecaster sees: an object that appears or jumps changes the
     * features in one frame. A freeze or a reversal does not raise its error above the frame-to-frame
     * noise of the encoder's features (MODEL_CARD.md, "Limitations"): they are reported, not asserted.
     */
    static final java.util.Set<String> FLAGGED = java.util.Set.of("appear", "teleport");

    /**
     * eval/ is the set the scoring settings were chosen on; eval-check/ was written after that choice,
     * with other seeds and objects: the held-out check.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"eval", "eval-check"})
    void itFlagsObjectsThatAppearOrJumpAndStaysQuietOnNormalMotion(String set) throws Exception {
        JsonNode clips = JSON.readTree(DIR.resolve(set).resolve("clips.json").toFile());
        StringBuilder report = new StringBuilder("| clip (" + set + ") | kind | event at frame | alerts at frames | first alert after the event |\n");
        int normal = 0;
        int flagged = 0;
        try (PipelineDriver pd = new PipelineDriver("topology/video-anomaly.yaml")) {
            for (JsonNode c : clips) {
                String name = c.get("name").asText();
                String kind = c.get("kind").asText();
                int n = c.get("frames").asInt();
                float[][] frames = clip(DIR.resolve(set).resolve(c.get("file").asText()), n);
                List<JsonNode> out = run(pd, name, frames);
                assertEquals(n, out.size(), name + ": one score record per frame, no more");
                List<Long> alerts = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    assertEquals(i, out.get(i).get("step").asLong());
                    assertTrue(out.get(i).get("values").isNull(), "output.vectors: false");
                    if (out.get(i).get("anomaly").asBoolean()) {
                        alerts.add((long) i);
                    }
                }
                String delay = "-";
                if (c.get("event_start").isNull()) {
                    normal++;
                    assertEquals(List.of(), alerts, name + ": normal motion raises no alert");
                } else {
                    long start = c.get("event_start").asLong();
                    Long first = alerts.stream().filter(a -> a >= start).findFirst().orElse(null);
                    assertEquals(List.of(), alerts.stream().filter(a -> a < start).toList(), name + ": no alert before the event");
                    if (FLAGGED.contains(kind)) {
                        flagged++;
                        assertTrue(first != null && first - start <= ALERT_WITHIN, name + ": the " + kind + " at frame " + start
                                + " is flagged within " + ALERT_WITHIN + " frames; alerts at " + alerts);
                    }
                    delay = first == null ? "none" : (first - start) + " frames";
                }
                report.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", name, kind,
                        c.get("event_start").isNull() ? "-" : c.get("event_start").asText(), alerts, delay));
            }
        }
        assertTrue(normal >= 2 && flagged >= 2, "the set has normal clips and clips of the flagged kinds");
        System.out.println(report);
    }

    @Test
    void badFeatureRecordsAreDeadLetteredAndNeverTouchTheState() throws Exception {
        try (PipelineDriver pd = new PipelineDriver("topology/video-anomaly.yaml")) {
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            FeatureRecordSerde fs = new FeatureRecordSerde();
            byte[] key = "cam".getBytes(StandardCharsets.UTF_8);
            float[] nan = new float[128];
            nan[5] = Float.NaN;
            in.pipeInput(key, fs.serialize("t", new FeatureRecord(ENCODER, 0, nan)), 1000L);
            in.pipeInput(key, fs.serialize("t", new FeatureRecord("another-encoder@1.0.0", 1, new float[128])), 1100L);
            in.pipeInput(key, fs.serialize("t", new FeatureRecord(ENCODER, 2, new float[64])), 1200L);
            in.pipeInput(key, "{\"ts\":1,\"values\":[1]}".getBytes(StandardCharsets.UTF_8), 1300L);
            assertEquals(4, pd.deadLetters().readRecordsToList().size());
            assertNull(pd.store().get("cam"), "no state for a camera none of whose records was good");
            assertTrue(pd.output(ForecastHead.PREDICTIONS).isEmpty());
        }
    }
}

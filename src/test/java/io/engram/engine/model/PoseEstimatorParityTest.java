package io.engram.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.errors.ConfigException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our pose pipeline against MoveNet MultiPose's own runtime: models/pose/golden holds real frames
 * (PNG) and what TensorFlow.js (CPU backend) found on them (models/pose/make_goldens.mjs). Here:
 * PNG decoded by ImageIO -> {@link PoseInput} (pad, resize) -> the converted ONNX model in ONNX
 * Runtime -> keypoints in frame pixels, for every one of the model's 6 output rows.
 *
 * <p>Tolerance: keypoints and boxes within {@value #PX} frame pixel, scores within {@value #SCORE}.
 * The preprocessing is checked exactly (the int32 input's sum equals TFJS's); the converted graph
 * does the same float32 arithmetic in another order, which moved no output by more than about
 * 1.5e-6 (0.001 px) when measured, so the bounds leave a wide margin for other CPUs' kernels while
 * staying far below what a wrong channel order or resize does (checked below: tens of pixels).
 */
class PoseEstimatorParityTest {
    static final Path MANIFEST = Path.of("models/pose/movenet-multipose.yaml");
    static final Path GOLDEN = Path.of("models/pose/golden/movenet-multipose-golden.json");
    static final double PX = 1.0;
    static final double SCORE = 0.01;

    static PoseEstimator model;
    static JsonNode golden;

    @BeforeAll
    static void load() throws IOException {
        model = PoseEstimator.load(ModelManifest.load(MANIFEST), 1);
        golden = new ObjectMapper().readTree(GOLDEN.toFile());
    }

    @AfterAll
    static void close() {
        model.close();
        model.close(); // idempotent
    }

    static BufferedImage frame(JsonNode f) throws IOException {
        return ImageIO.read(GOLDEN.getParent().resolve(f.get("file").asText()).toFile());
    }

    static byte[] rgb(BufferedImage img) {
        byte[] rgb = new byte[img.getWidth() * img.getHeight() * 3];
        PoseInput.rgb(img, rgb);
        return rgb;
    }

    /** Largest keypoint/box position difference (frame px) and score difference between our people and the golden's. */
    static double[] worst(List<Person> ours, JsonNode people) {
        assertEquals(people.size(), ours.size(), "one person per output row");
        double px = 0;
        double score = 0;
        for (int p = 0; p < ours.size(); p++) {
            Person o = ours.get(p);
            JsonNode g = people.get(p);
            score = Math.max(score, Math.abs(o.score() - g.get("score").asDouble()));
            for (int i = 0; i < 4; i++) {
                px = Math.max(px, Math.abs(o.box()[i] - g.get("box").get(i).asDouble()));
            }
            for (int k = 0; k < o.keypointCount(); k++) {
                JsonNode kp = g.get("keypoints").get(k);
                px = Math.max(px, Math.max(Math.abs(o.x(k) - kp.get(0).asDouble()), Math.abs(o.y(k) - kp.get(1).asDouble())));
                score = Math.max(score, Math.abs(o.keypointScore(k) - kp.get(2).asDouble()));
            }
        }
        return new double[] {px, score};
    }

    @Test
    void theManifestDescribesMoveNetMultiPose() {
        PoseSpec spec = model.spec();
        assertEquals(256, spec.inputSize());
        assertEquals(6, spec.maxPeople());
        assertEquals(17, spec.keypoints().size());
        assertEquals("nose", spec.keypoints().get(0));
        assertEquals("right_ankle", spec.keypoints().get(16));
        assertEquals(56, spec.rowSize());
    }

    @Test
    void thePreprocessingIsExactlyTheGoldensOne() throws IOException {
        for (JsonNode f : golden.get("frames")) {
            BufferedImage img = frame(f);
            assertEquals(f.get("width").asInt(), img.getWidth());
            assertEquals(f.get("height").asInt(), img.getHeight());
            int[] in = new PoseInput(256).toArray(rgb(img), img.getWidth(), img.getHeight());
            long sum = 0;
            for (int v : in) {
                sum += v;
            }
            assertEquals(f.get("inputSum").asLong(), sum, f.get("file").asText());
        }
    }

    @Test
    void keypointsInFramePixelsMatchTensorFlowJs() throws IOException {
        try (PoseEstimator.Runner runner = model.newRunner()) {
            for (JsonNode f : golden.get("frames")) {
                String name = f.get("file").asText();
                List<Person> people = runner.estimate(frame(f), Float.NEGATIVE_INFINITY);
                double[] w = worst(people, f.get("people"));
                System.out.printf("pose parity %s: max position diff %.5f px, max score diff %.7f%n", name, w[0], w[1]);
                assertTrue(w[0] <= PX, name + ": a keypoint or box is " + w[0] + " px from TFJS's");
                assertTrue(w[1] <= SCORE, name + ": a score is " + w[1] + " from TFJS's");
                float[] raw = runner.rawOutput();
                double rawDiff = 0;
                for (int p = 0; p < 6; p++) {
                    for (int i = 0; i < 56; i++) {
                        double g = f.get("output").get(p).get(i).asDouble();
                        rawDiff = Math.max(rawDiff, Math.abs(g - raw[p * 56 + i]));
                        assertEquals(g, raw[p * 56 + i], 1e-3, name + " raw output row " + p + " [" + i + "]");
                    }
                }
                System.out.printf("pose parity %s: max raw output diff %.2e%n", name, rawDiff);
                // at least one confident person, so the comparison is not of noise alone
                assertTrue(people.get(0).score() > 0.25, name + ": the best person scores " + people.get(0).score());
                // a threshold keeps the rows in order
                List<Person> confident = runner.estimate(frame(f), 0.2f);
                assertTrue(confident.size() >= 1 && confident.size() < 6 && confident.get(0).score() == people.get(0).score());
            }
        }
    }

    /** The tolerance catches the mistakes a pipeline can make: BGR for RGB, stretching instead of padding, a resize off by half a pixel. */
    @Test
    void aWrongChannelOrderOrResizeFailsTheTolerance() throws IOException {
        try (PoseEstimator.Runner runner = model.newRunner()) {
            for (JsonNode f : golden.get("frames")) {
                BufferedImage img = frame(f);
                int w = img.getWidth();
                int h = img.getHeight();
                byte[] rgb = rgb(img);
                byte[] bgr = rgb.clone();
                for (int i = 0; i < bgr.length; i += 3) {
                    bgr[i] = rgb[i + 2];
                    bgr[i + 2] = rgb[i];
                }
                double bgrPx = worst(runner.estimate(bgr, w, h, Float.NEGATIVE_INFINITY), f.get("people"))[0];
                // stretched to a square instead of padded: the frame drawn at max(w, h) square, then our resize
                int s = Math.max(w, h);
                BufferedImage stretched = new BufferedImage(s, s, BufferedImage.TYPE_3BYTE_BGR);
                java.awt.Graphics2D g = stretched.createGraphics();
                g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                g.drawImage(img, 0, 0, s, s, null);
                g.dispose();
                List<Person> st = runner.estimate(stretched, Float.NEGATIVE_INFINITY);
                double stretchPx = worst(st, f.get("people"))[0];
                // half a frame pixel shift (what half-pixel centres off does at this scale): crop one column and row
                byte[] shifted = new byte[(w - 1) * (h - 1) * 3];
                for (int y = 1; y < h; y++) {
                    System.arraycopy(rgb, (y * w + 1) * 3, shifted, ((y - 1) * (w - 1)) * 3, (w - 1) * 3);
                }
                double shiftScore = worst(runner.estimate(shifted, w - 1, h - 1, Float.NEGATIVE_INFINITY), f.get("people"))[1];
                String name = f.get("file").asText();
                System.out.printf("pose negative %s: BGR %.1f px, stretched %.1f px, shifted by one pixel: score diff %.3f%n",
                        name, bgrPx, stretchPx, shiftScore);
                assertTrue(bgrPx > 10 * PX, name + ": BGR moved no keypoint beyond the tolerance");
                assertTrue(stretchPx > 10 * PX, name + ": stretching moved no keypoint beyond the tolerance");
                assertTrue(shiftScore > SCORE, name + ": a one-pixel shift changed no score beyond the tolerance");
            }
        }
    }

    @Test
    void aManifestOfAnotherTaskIsRefused() {
        ModelManifest encoder = ModelManifest.load(Path.of("models/activity/frame-encoder.yaml"));
        ConfigException e = assertThrows(ConfigException.class, () -> PoseEstimator.load(encoder, 1));
        assertTrue(e.getMessage().contains("not a pose model"), e.getMessage());
    }

    @Test
    void aPoseSectionThatDoesNotFitTheTensorsIsRefused(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        String yaml = Files.readString(MANIFEST)
                .replace("file: movenet-multipose.onnx", "file: " + MANIFEST.getParent().resolve("movenet-multipose.onnx").toAbsolutePath())
                .replace("max_people: 6", "max_people: 5");
        Path m = dir.resolve("pose.yaml");
        Files.writeString(m, yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> PoseEstimator.load(ModelManifest.load(m), 1));
        assertTrue(e.getMessage().contains("output.size") && e.getMessage().contains(m.toString()), e.getMessage());
        Files.writeString(m, yaml.replaceAll("(?s)pose:.*?source:", "source:"));
        e = assertThrows(ConfigException.class, () -> PoseEstimator.load(ModelManifest.load(m), 1));
        assertTrue(e.getMessage().contains("pose: {input_size"), e.getMessage());
    }

    @Test
    void aClosedEstimatorGivesNoRunner() {
        PoseEstimator m = PoseEstimator.load(ModelManifest.load(MANIFEST), 1);
        m.close();
        assertThrows(IllegalStateException.class, m::newRunner);
        m.close();
        assertTrue(Files.isRegularFile(m.manifest().onnxFile()));
    }
}

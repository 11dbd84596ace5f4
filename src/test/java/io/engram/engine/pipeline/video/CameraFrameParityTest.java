package io.engram.engine.pipeline.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.model.EncoderModel;
import io.engram.engine.model.ModelManifest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Preprocessing parity where users are: colour JPEG and PNG frames at camera sizes, decoded and
 * preprocessed by {@link FramePreprocessor} as the pipeline does (by content type), against the
 * reference that {@code models/activity/make_camera_golden.py} computed with libjpeg (JPEG
 * decoding), numpy (the contract's gray + resize + normalisation) and PyTorch (the encoder), in
 * {@code models/activity/golden/frame-encoder-camera.json}. Also checks the encoder's original
 * golden vectors ({@code golden/frame-encoder.json}, 64x64 gray frames) through the real ONNX model.
 *
 * <p>Each stage is checked on its own, so a failure says where Java and the reference part: the
 * decoded RGB (the JPEG decoder), the full-size gray values (the BT.601 rounding), the encoder input
 * (resize and normalisation), the features (the ONNX model).
 */
class CameraFrameParityTest {
    static final Path MODELS = Path.of("models/activity");
    static final Path GOLDEN = MODELS.resolve("golden");
    /** Java and the reference compute the input in the same float64 operations: equal bit for bit. */
    static final double INPUT_TOL = 0.0;
    static final double FEATURE_TOL = 1e-4;

    static ModelManifest manifest;
    static EncoderModel encoder;
    static FramePreprocessor pre;

    @BeforeAll
    static void load() {
        manifest = ModelManifest.load(MODELS.resolve("frame-encoder.yaml"));
        encoder = EncoderModel.load(manifest, 1);
        pre = new FramePreprocessor(manifest.image(), 1L << 24);
    }

    @AfterAll
    static void close() {
        if (encoder != null) {
            encoder.close();
        }
    }

    static JsonNode camera() throws Exception {
        return new ObjectMapper().readTree(GOLDEN.resolve("frame-encoder-camera.json").toFile());
    }

    static Stream<Arguments> cameraFrames() throws Exception {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode f : camera().get("frames")) {
            for (String kind : List.of("jpeg", "png")) {
                out.add(Arguments.of(f.get("name").asText() + "." + kind + " (" + f.get("resize").asText() + ")", f, kind));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cameraFrames")
    void colourCameraFramesGiveThePyTorchReferenceInputAndFeatures(String label, JsonNode frame, String kind) throws Exception {
        JsonNode g = frame.get(kind);
        byte[] bytes = Files.readAllBytes(GOLDEN.resolve(g.get("file").asText()));
        BufferedImage img = pre.decode(bytes, g.get("content_type").asText());
        int w = frame.get("width").asInt();
        int h = frame.get("height").asInt();
        assertEquals(w + "x" + h, img.getWidth() + "x" + img.getHeight(), label + ": decoded size");

        // 1. The decoder: the RGB that ImageIO produced must be libjpeg's (JPEG) or the PNG's pixels.
        String rgbSha = sha256(rgbBytes(img));
        assertEquals(g.get("rgb_sha256").asText(), rgbSha, label + ": the DECODED RGB differs from the reference's ("
                + ("jpeg".equals(kind) ? "libjpeg-turbo, JDCT_ISLOW, fancy upsampling: ImageIO's JPEG decoder is not decoding "
                        + "as the reference did (another libjpeg, IDCT or upsampling), so preprocessing is not the cause"
                        : "the PNG's own pixels: the PNG decoder changed them")
                + "); image type " + img.getType());

        // 2. Grayscale on the full-size frame: rint(0.299 R + 0.587 G + 0.114 B), ties to even.
        int[] gray = FramePreprocessor.gray(img);
        byte[] grayBytes = new byte[gray.length];
        for (int i = 0; i < gray.length; i++) {
            grayBytes[i] = (byte) gray[i];
        }
        assertEquals(g.get("gray_sha256").asText(), sha256(grayBytes),
                label + ": same RGB as the reference but other GRAY values: FramePreprocessor.gray departs from the contract's rounded BT.601");

        // 3. Resize + normalisation: the encoder input.
        float[] input = new float[manifest.input().size()];
        pre.toInput(img, input);
        float[] want = floats(g.get("input"));
        assertEquals(want.length, input.length, label + ": input size");
        Diff di = diff(want, input);
        assertTrue(di.max <= INPUT_TOL, label + ": encoder input (" + frame.get("resize").asText() + " resize) differs by " + di.max
                + " at (y=" + di.at / manifest.image().width() + ", x=" + di.at % manifest.image().width() + "): java " + input[di.at]
                + ", reference " + want[di.at] + "; tolerance " + INPUT_TOL);

        // 4. The real ONNX encoder against PyTorch's features.
        float[] features = new float[manifest.output().size()];
        try (EncoderModel.Batch b = encoder.newBatch(1)) {
            b.encode(input, features);
        }
        float[] wantF = floats(g.get("features"));
        Diff df = diff(wantF, features);
        assertTrue(df.max <= FEATURE_TOL, label + ": features differ from PyTorch's by " + df.max + " at " + df.at + "; tolerance " + FEATURE_TOL);
        System.out.printf("camera parity %-32s input max |diff| %.3g, features max |diff| %.3g%n", label, di.max, df.max);
    }

    @Test
    void theCameraGoldenCoversCameraSizesBothResizePathsAndBothFormats() throws Exception {
        JsonNode root = camera();
        assertEquals(manifest.id(), root.get("model_id").asText());
        assertEquals(manifest.image().mean(), root.get("image").get("mean").asDouble(), 0.0);
        assertEquals(manifest.image().std(), root.get("image").get("std").asDouble(), 0.0);
        Set<String> sizes = new TreeSet<>();
        Set<String> paths = new TreeSet<>();
        for (JsonNode f : root.get("frames")) {
            sizes.add(f.get("width").asInt() + "x" + f.get("height").asInt());
            paths.add(f.get("resize").asText());
            assertEquals("image/jpeg", f.get("jpeg").get("content_type").asText());
            assertEquals("image/png", f.get("png").get("content_type").asText());
        }
        assertTrue(sizes.containsAll(Set.of("320x240", "768x576")), "camera sizes: " + sizes);
        assertTrue(paths.containsAll(Set.of("area", "bilinear")), "resize paths: " + paths);
    }

    /** golden/frame-encoder.json (written by train_encoder.py from PyTorch): 64x64 gray frames, no resize. */
    @Test
    void theEncodersOwnGoldenFramesGivePyTorchsFeaturesThroughAPngRoundTrip() throws Exception {
        JsonNode root = new ObjectMapper().readTree(GOLDEN.resolve("frame-encoder.json").toFile());
        assertEquals(manifest.id(), root.get("model_id").asText());
        assertEquals(manifest.version(), root.get("version").asText());
        ModelManifest.Image im = manifest.image();
        assertEquals(im.mean(), root.get("image").get("mean").asDouble(), 0.0);
        assertEquals(im.std(), root.get("image").get("std").asDouble(), 0.0);
        JsonNode frames = root.get("frames_u8");
        JsonNode feats = root.get("features");
        assertEquals(frames.size(), feats.size());
        assertTrue(frames.size() >= 3, "golden frames: " + frames.size());
        try (EncoderModel.Batch b = encoder.newBatch(1)) {
            for (int n = 0; n < frames.size(); n++) {
                int[] px = new int[im.height() * im.width()];
                for (int y = 0; y < im.height(); y++) {
                    for (int x = 0; x < im.width(); x++) {
                        px[y * im.width() + x] = frames.get(n).get(y).get(x).asInt();
                    }
                }
                BufferedImage gray = new BufferedImage(im.width(), im.height(), BufferedImage.TYPE_BYTE_GRAY);
                gray.getRaster().setSamples(0, 0, im.width(), im.height(), 0, px);
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(gray, "png", png);
                BufferedImage img = pre.decode(png.toByteArray(), FramePreprocessor.PNG);
                assertEquals(sha256(toBytes(px)), sha256(toBytes(FramePreprocessor.gray(img))), "frame " + n + ": gray values");
                float[] input = new float[im.height() * im.width()];
                pre.toInput(img, input);
                for (int i = 0; i < px.length; i++) {
                    // common.normalise: float64, rounded once to float32
                    assertEquals((float) ((px[i] / 255.0 - im.mean()) / im.std()), input[i], 0.0f, "frame " + n + " input " + i);
                }
                float[] out = new float[manifest.output().size()];
                b.encode(input, out);
                float[] want = new float[feats.get(n).size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = (float) feats.get(n).get(i).asDouble();
                }
                assertEquals(want.length, out.length);
                Diff d = diff(want, out);
                assertTrue(d.max <= FEATURE_TOL, "frame " + n + ": features differ from PyTorch's by " + d.max + " at " + d.at);
                System.out.printf("frame-encoder.json frame %d: features max |diff| %.3g%n", n, d.max);
            }
        }
    }

    record Diff(double max, int at) {}

    static Diff diff(float[] want, float[] got) {
        double max = -1;
        int at = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            if (!(d <= max)) { // NaN counts as the largest difference
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                at = i;
            }
        }
        return new Diff(max, at);
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

    /** Row-major R, G, B bytes (getRGB is exact for the 8-bit sRGB images ImageIO decodes frames into). */
    static byte[] rgbBytes(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        byte[] out = new byte[argb.length * 3];
        for (int i = 0; i < argb.length; i++) {
            out[3 * i] = (byte) (argb[i] >> 16);
            out[3 * i + 1] = (byte) (argb[i] >> 8);
            out[3 * i + 2] = (byte) argb[i];
        }
        return out;
    }

    static byte[] toBytes(int[] v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}

package io.engram.engine.pipeline.video;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.model.ModelManifest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

public class FramePreprocessorTest {
    private static final ModelManifest.Image SPEC = new ModelManifest.Image(1, 4, 4, 0.5, 0.25);
    private final FramePreprocessor pre = new FramePreprocessor(SPEC, 1_000_000);

    public static byte[] encode(BufferedImage img, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }

    static BufferedImage gray(int w, int h, int[] values) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSamples(0, 0, w, h, 0, values);
        return img;
    }

    @Test
    void pngFramesDecodeToExactlyTheirPixelsAndNormalisePerTheManifest() throws Exception {
        int[] px = new int[16];
        for (int i = 0; i < 16; i++) px[i] = i * 17;
        BufferedImage img = pre.decode(encode(gray(4, 4, px), "png"), "image/png");
        assertArrayEquals(px, FramePreprocessor.gray(img));
        float[] in = new float[16];
        pre.toInput(img, in);
        for (int i = 0; i < 16; i++) {
            assertEquals((float) ((px[i] / 255.0 - 0.5) / 0.25), in[i], 1e-7);
        }
    }

    @Test
    void colourIsConvertedWithRoundedBt601Weights() {
        BufferedImage rgb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, (200 << 16) | (100 << 8) | 50);
        assertEquals((int) Math.rint(0.299 * 200 + 0.587 * 100 + 0.114 * 50), FramePreprocessor.gray(rgb)[0]);
    }

    @Test
    void integerFactorShrinksAverageBlocksAndOtherSizesInterpolate() {
        int[] px = new int[64];
        for (int i = 0; i < 64; i++) px[i] = (i % 8) * 10 + (i / 8);
        float[] in = new float[16];
        pre.toInput(gray(8, 8, px), in);
        double block = (px[0] + px[1] + px[8] + px[9]) / 4.0;
        assertEquals((float) ((block / 255.0 - 0.5) / 0.25), in[0], 1e-6);
        // 6x6 -> 4x4 is bilinear with half-pixel centres: a constant image stays constant.
        int[] flat = new int[36];
        java.util.Arrays.fill(flat, 128);
        pre.toInput(gray(6, 6, flat), in);
        for (float v : in) assertEquals((float) ((128 / 255.0 - 0.5) / 0.25), v, 1e-6);
    }

    @Test
    void rasterFastPathsGiveExactlyTheColourModelsValues() {
        // Camera-sized colour frames in the layouts ImageIO decodes into take a raster fast path;
        // TYPE_INT_BGR goes through getRGB. Both must give the same input, bit for bit.
        java.util.Random rnd = new java.util.Random(7);
        for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB,
                BufferedImage.TYPE_BYTE_GRAY}) {
            for (int[] size : new int[][] {{320, 240}, {16, 16}, {13, 9}}) {
                BufferedImage fast = new BufferedImage(size[0], size[1], type);
                for (int y = 0; y < size[1]; y++) {
                    for (int x = 0; x < size[0]; x++) {
                        fast.setRGB(x, y, 0xff000000 | rnd.nextInt(1 << 24));
                    }
                }
                BufferedImage slow = new BufferedImage(size[0], size[1], BufferedImage.TYPE_INT_BGR);
                for (int y = 0; y < size[1]; y++) {
                    for (int x = 0; x < size[0]; x++) {
                        int p = fast.getRGB(x, y);
                        slow.setRGB(x, y, p);
                    }
                }
                if (type == BufferedImage.TYPE_BYTE_GRAY) {
                    // getRGB of a gray image is colour-managed; the contract reads the stored samples.
                    int[] samples = fast.getRaster().getSamples(0, 0, size[0], size[1], 0, (int[]) null);
                    assertArrayEquals(samples, FramePreprocessor.gray(fast));
                    continue;
                }
                assertArrayEquals(FramePreprocessor.gray(slow), FramePreprocessor.gray(fast), "type " + type);
                float[] a = new float[16];
                float[] b = new float[16];
                pre.toInput(fast, a);
                pre.toInput(slow, b);
                assertArrayEquals(b, a, "type " + type + " " + size[0] + "x" + size[1]);
            }
        }
    }

    @Test
    void badFramesHaveTheirReasons() throws Exception {
        byte[] png = encode(gray(4, 4, new int[16]), "png");
        assertEquals(Reason.CORRUPT_IMAGE, assertThrows(BadInputException.class,
                () -> pre.decode(java.util.Arrays.copyOf(png, png.length / 2), "image/png")).reason());
        assertEquals(Reason.CORRUPT_IMAGE, assertThrows(BadInputException.class,
                () -> pre.decode(new byte[] {1, 2, 3, 4, 5}, "image/jpeg")).reason());
        assertEquals(Reason.UNSUPPORTED_CONTENT_TYPE, assertThrows(BadInputException.class,
                () -> pre.decode(png, "image/gif")).reason());
        assertEquals(Reason.EMPTY_FRAME, assertThrows(BadInputException.class, () -> pre.decode(new byte[0], "image/png")).reason());
        FramePreprocessor tiny = new FramePreprocessor(SPEC, 10);
        assertEquals(Reason.TOO_LARGE, assertThrows(BadInputException.class, () -> tiny.decode(png, "image/png")).reason());
        assertEquals(4, pre.decode(png, null).getWidth(), "no content-type: sniffed from the bytes");
    }

    @Test
    void theReusedReaderDecodesEveryFrameAsAFreshOneWouldAfterBadFramesAndOtherSizes() throws Exception {
        java.util.Random r = new java.util.Random(7);
        java.util.List<byte[]> frames = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int w = 4 + 4 * (i % 3);
            int[] px = new int[w * w];
            for (int k = 0; k < px.length; k++) px[k] = r.nextInt(256);
            frames.add(encode(gray(w, w, px), i % 2 == 0 ? "png" : "jpeg"));
        }
        byte[] png = frames.get(0);
        for (byte[] f : frames) {
            String type = f == png || (f[0] & 0xff) == 0x89 ? "image/png" : "image/jpeg";
            int[] fresh = FramePreprocessor.gray(ImageIO.read(new java.io.ByteArrayInputStream(f)));
            assertArrayEquals(fresh, FramePreprocessor.gray(pre.decode(f, type)), "as ImageIO alone decodes it");
            // A bad frame of each format in between: the next good one still decodes exactly.
            assertThrows(BadInputException.class, () -> pre.decode(java.util.Arrays.copyOf(f, f.length / 2), type));
            assertThrows(BadInputException.class, () -> pre.decode(new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3}, "image/jpeg"));
            assertArrayEquals(fresh, FramePreprocessor.gray(pre.decode(f, type)), "again, after bad frames");
        }
    }

    @Test
    void decodingIntoTheLastImageGivesEveryPixelOfAFreshDecodeAndAllocatesNoNewImage() throws Exception {
        java.util.Random r = new java.util.Random(11);
        BufferedImage last = null;
        int reused = 0;
        for (int i = 0; i < 12; i++) {
            int w = i < 8 ? 32 : 24; // a size change in the middle: a new image, then reuse again
            BufferedImage colour = new BufferedImage(w, w, BufferedImage.TYPE_3BYTE_BGR);
            for (int y = 0; y < w; y++) {
                for (int x = 0; x < w; x++) {
                    colour.setRGB(x, y, r.nextInt(1 << 24));
                }
            }
            String fmt = i % 3 == 2 ? "png" : "jpeg";
            java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
            ImageIO.write(colour, fmt, b);
            byte[] f = b.toByteArray();
            int[] fresh = FramePreprocessor.gray(pre.decode(f, "image/" + fmt));
            BufferedImage img = pre.decode(f, "image/" + fmt, last);
            reused += img == last ? 1 : 0;
            assertArrayEquals(fresh, FramePreprocessor.gray(img), "frame " + i + " (" + fmt + ") decoded into the last image");
            last = img;
        }
        assertTrue(reused >= 6, "the last image was reused for frames of its size and type: " + reused + " of 12");
    }
}

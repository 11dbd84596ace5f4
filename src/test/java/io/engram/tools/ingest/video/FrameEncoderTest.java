package io.engram.tools.ingest.video;

import io.engram.testkit.TestImages;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class FrameEncoderTest {
    private static FrameEncoder.Encoded encode(FrameEncoder.Settings s, BufferedImage img) throws Exception {
        try (FrameEncoder e = new FrameEncoder(s)) {
            return e.encode(img);
        }
    }

    private static BufferedImage decode(byte[] bytes) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertTrue(img != null, "not a decodable image");
        return img;
    }

    @Test
    void jpegRoundTripKeepsTheSizeAndIsCloseToTheOriginal() throws Exception {
        BufferedImage src = TestImages.gradient(64, 48);
        FrameEncoder.Encoded e = encode(FrameEncoder.Settings.jpeg(), src);
        assertEquals("image/jpeg", e.contentType());
        assertEquals(64, e.width());
        assertEquals(48, e.height());
        assertEquals((byte) 0xFF, e.bytes()[0]);
        assertEquals((byte) 0xD8, e.bytes()[1]);
        BufferedImage back = decode(e.bytes());
        assertEquals(64, back.getWidth());
        assertEquals(48, back.getHeight());
        int c = src.getRGB(32, 24);
        int d = back.getRGB(32, 24);
        assertTrue(Math.abs(((c >> 16) & 255) - ((d >> 16) & 255)) < 24, "red channel far off");
    }

    @Test
    void pngRoundTripIsPixelExact() throws Exception {
        BufferedImage src = TestImages.noise(40, 30, 1);
        FrameEncoder.Encoded e = encode(FrameEncoder.Settings.png(), src);
        assertEquals("image/png", e.contentType());
        assertEquals(40, e.width());
        assertEquals(30, e.height());
        assertTrue(TestImages.samePixels(src, decode(e.bytes())));
        // Noise does not compress: about 3 bytes a pixel.
        assertTrue(e.bytes().length > 40 * 30 * 3, "PNG of noise is " + e.bytes().length + " bytes");
    }

    @Test
    void pngKeepsAlphaAndJpegFlattensIt() throws Exception {
        BufferedImage argb = new BufferedImage(8, 8, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(1, 1, 0x80FF0000);
        assertTrue(TestImages.samePixels(argb, decode(encode(FrameEncoder.Settings.png(), argb).bytes())));
        BufferedImage jpeg = decode(encode(FrameEncoder.Settings.jpeg(), argb).bytes());
        assertEquals(8, jpeg.getWidth());
        assertTrue(!jpeg.getColorModel().hasAlpha());
    }

    @Test
    void resizeToBothDimensionsGivesExactlyThatSize() throws Exception {
        FrameEncoder.Encoded e = encode(FrameEncoder.Settings.jpeg().withSize(32, 32), TestImages.gradient(64, 48));
        assertEquals(32, e.width());
        assertEquals(32, e.height());
        BufferedImage back = decode(e.bytes());
        assertEquals(32, back.getWidth());
        assertEquals(32, back.getHeight());
    }

    @Test
    void resizeToOneDimensionKeepsTheAspectRatio() throws Exception {
        FrameEncoder.Encoded w = encode(FrameEncoder.Settings.png().withSize(32, 0), TestImages.gradient(64, 48));
        assertEquals(32, w.width());
        assertEquals(24, w.height());
        FrameEncoder.Encoded h = encode(FrameEncoder.Settings.png().withSize(0, 12), TestImages.gradient(64, 48));
        assertEquals(16, h.width());
        assertEquals(12, h.height());
        assertArrayEquals(new int[] {1, 1}, FrameEncoder.targetSize(1000, 10, 1, 0));
        assertArrayEquals(new int[] {640, 360}, FrameEncoder.targetSize(1920, 1080, 640, 0));
        assertArrayEquals(new int[] {1920, 1080}, FrameEncoder.targetSize(1920, 1080, 0, 0));
    }

    @Test
    void bilinearDownscaleAveragesNeighbours() throws Exception {
        // A 2x1 black/white image halved: bilinear gives a grey, not one of the two.
        BufferedImage src = new BufferedImage(4, 2, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 4; x++) {
                src.setRGB(x, y, x % 2 == 0 ? 0x000000 : 0xFFFFFF);
            }
        }
        BufferedImage half = decode(encode(FrameEncoder.Settings.png().withSize(2, 1), src).bytes());
        int grey = half.getRGB(0, 0) & 0xFF;
        assertTrue(grey > 40 && grey < 215, "expected a grey, got " + grey);
    }

    @Test
    void lowerJpegQualityGivesSmallerFrames() throws Exception {
        BufferedImage src = TestImages.noise(64, 48, 2);
        int q20 = encode(FrameEncoder.Settings.jpeg().withQuality(20), src).bytes().length;
        int q85 = encode(FrameEncoder.Settings.jpeg(), src).bytes().length;
        int q100 = encode(FrameEncoder.Settings.jpeg().withQuality(100), src).bytes().length;
        assertTrue(q20 < q85 && q85 < q100, q20 + " < " + q85 + " < " + q100);
        assertTrue(q20 * 2 < q100, "quality 20 should be far smaller than 100: " + q20 + " vs " + q100);
    }

    @Test
    void greyFramesStayGreyAndEncodeInBothFormats() throws Exception {
        BufferedImage grey = new BufferedImage(10, 10, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(3, 3, 0, 200);
        assertTrue(TestImages.samePixels(grey, decode(encode(FrameEncoder.Settings.png(), grey).bytes())));
        assertEquals(10, decode(encode(FrameEncoder.Settings.jpeg(), grey).bytes()).getWidth());
        assertEquals(5, encode(FrameEncoder.Settings.jpeg().withSize(5, 0), grey).height());
    }

    @Test
    void qualityOutsideOneToHundredIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> FrameEncoder.Settings.jpeg().withQuality(0));
        assertThrows(IllegalArgumentException.class, () -> FrameEncoder.Settings.jpeg().withQuality(101));
        assertThrows(IllegalArgumentException.class, () -> FrameEncoder.Settings.jpeg().withSize(-1, 0));
    }

    @Test
    void oneEncoderEncodesManyFrames() throws Exception {
        try (FrameEncoder e = new FrameEncoder(FrameEncoder.Settings.jpeg())) {
            for (int i = 0; i < 5; i++) {
                FrameEncoder.Encoded out = e.encode(TestImages.square(32, 24, i, i, 6));
                assertEquals(32, decode(out.bytes()).getWidth());
            }
        }
    }
}

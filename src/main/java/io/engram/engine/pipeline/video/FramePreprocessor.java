package io.engram.engine.pipeline.video;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.model.ModelManifest;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes an encoded frame and turns it into the encoder's input tensor exactly as
 * docs/model-contract.md ("Frame encoders") defines: grayscale with rounded BT.601 weights, resize
 * (block mean for integer factors, else bilinear with half-pixel centres), {@code (v/255 - mean)/std}.
 * The training scripts implement the same steps, so the pipeline sees what the model was trained on.
 * Stateless and thread-safe; {@link #toInput} writes into a caller-owned array.
 */
public final class FramePreprocessor {
    public static final String JPEG = "image/jpeg";
    public static final String PNG = "image/png";

    private final ModelManifest.Image spec;
    private final long maxPixels;

    public FramePreprocessor(ModelManifest.Image spec, long maxPixels) {
        if (spec.channels() != 1) {
            throw new IllegalArgumentException("only 1-channel (grayscale) encoders are supported");
        }
        this.spec = spec;
        this.maxPixels = maxPixels;
    }

    public ModelManifest.Image spec() {
        return spec;
    }

    /**
     * One reader per format per thread, reused: finding and making an ImageIO reader for every
     * frame cost more than decoding a small one. (A preprocessor is shared by the stream threads.)
     */
    private static final ThreadLocal<java.util.Map<String, ImageReader>> READERS = ThreadLocal.withInitial(java.util.HashMap::new);

    /**
     * Decodes a JPEG or PNG frame into a new image. The dimensions are read from the header first,
     * so that a frame claiming a huge size is refused before any pixel buffer is allocated.
     */
    public BufferedImage decode(byte[] bytes, String contentType) {
        return decode(bytes, contentType, null);
    }

    /**
     * As {@link #decode(byte[], String)}, into {@code reuse} when it has the frame's size and the
     * image type the decoder makes (its pixels are all overwritten, and it is returned); otherwise
     * into a new image. A camera's frames all have one size, so a caller that keeps the last image
     * and passes it back decodes without allocating a frame buffer (230 KB for 320x240 colour):
     * less garbage, shorter GC pauses, a lower latency tail. The caller owns {@code reuse} and
     * must not read it while a decode into it runs.
     */
    public BufferedImage decode(byte[] bytes, String contentType, BufferedImage reuse) {
        return decode(bytes, contentType, reuse, maxPixels);
    }

    /**
     * As {@link #decode(byte[], String, BufferedImage)} with the pixel limit {@code maxPixels} and no
     * encoder: the frame decoding of every stage that reads the frames topic (the pose stage too), so
     * that a frame is refused with the same reason whichever pipeline reads it.
     */
    public static BufferedImage decode(byte[] bytes, String contentType, BufferedImage reuse, long maxPixels) {
        if (bytes == null || bytes.length == 0) {
            throw new BadInputException(Reason.EMPTY_FRAME, "frame has no bytes");
        }
        String format;
        if (contentType == null || contentType.isBlank()) {
            format = sniff(bytes);
            if (format == null) {
                throw new BadInputException(Reason.UNSUPPORTED_CONTENT_TYPE, "frame has no content-type header and is neither JPEG nor PNG");
            }
        } else if (contentType.equalsIgnoreCase(JPEG) || contentType.equalsIgnoreCase("image/jpg")) {
            format = "jpeg";
        } else if (contentType.equalsIgnoreCase(PNG)) {
            format = "png";
        } else {
            throw new BadInputException(Reason.UNSUPPORTED_CONTENT_TYPE,
                    "content-type '" + contentType + "' is not supported (image/jpeg or image/png)");
        }
        // A memory-backed stream: ImageIO.createImageInputStream caches in a temporary file by
        // default, which costs more than decoding a camera frame.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            ImageReader reader = READERS.get().computeIfAbsent(format, f -> ImageIO.getImageReadersByFormatName(f).next());
            boolean reusable = false;
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw new BadInputException(Reason.EMPTY_FRAME, "frame is " + w + "x" + h);
                }
                if ((long) w * h > maxPixels) {
                    throw new BadInputException(Reason.TOO_LARGE, "frame is " + w + "x" + h + ", over the limit of " + maxPixels + " pixels");
                }
                javax.imageio.ImageReadParam param = null;
                if (reuse != null && reuse.getWidth() == w && reuse.getHeight() == h && reuse.getType() != BufferedImage.TYPE_CUSTOM) {
                    java.util.Iterator<javax.imageio.ImageTypeSpecifier> types = reader.getImageTypes(0);
                    if (types.hasNext() && types.next().getBufferedImageType() == reuse.getType()) {
                        param = reader.getDefaultReadParam();
                        param.setDestination(reuse);
                    }
                }
                BufferedImage img = param == null ? reader.read(0) : reader.read(0, param);
                if (img == null) {
                    throw new BadInputException(Reason.CORRUPT_IMAGE, "frame could not be decoded as " + format);
                }
                reusable = true;
                return img;
            } finally {
                if (reusable) {
                    reader.reset(); // drops the input: ready for the next frame
                } else {
                    // A frame that failed may leave the reader in any state: start the next one afresh.
                    READERS.get().remove(format);
                    reader.dispose();
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadInputException b) {
                throw b;
            }
            throw new BadInputException(Reason.CORRUPT_IMAGE, "frame is not a valid " + format + " image: " + e.getMessage());
        }
    }

    private static String sniff(byte[] b) {
        if (b.length > 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8) {
            return "jpeg";
        }
        if (b.length > 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return "png";
        }
        return null;
    }

    /** Grayscale 8-bit values of the image, row-major, per the contract's rounding. */
    public static int[] gray(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] g = new int[w * h];
        Pixels px = Pixels.of(img);
        if (px != null) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    g[y * w + x] = px.at(x, y);
                }
            }
            return g;
        }
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            Raster r = img.getRaster();
            r.getSamples(0, 0, w, h, 0, g);
            return g;
        }
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < rgb.length; i++) {
            g[i] = luma((rgb[i] >> 16) & 0xff, (rgb[i] >> 8) & 0xff, rgb[i] & 0xff);
        }
        return g;
    }

    /** The contract's grayscale value: BT.601 weights on 0..255, rounded half to even. */
    static int luma(int r, int g, int b) {
        return (int) Math.rint(0.299 * r + 0.587 * g + 0.114 * b);
    }

    /** Writes the normalised encoder input ({@code height*width} floats) for {@code img} into {@code out}. */
    public void toInput(BufferedImage img, float[] out) {
        int iw = img.getWidth();
        int ih = img.getHeight();
        int ow = spec.width();
        int oh = spec.height();
        double mean = spec.mean();
        double std = spec.std();
        if (iw == ow && ih == oh) {
            int[] g = gray(img);
            for (int i = 0; i < g.length; i++) {
                out[i] = (float) ((g[i] / 255.0 - mean) / std);
            }
        } else if (iw % ow == 0 && ih % oh == 0) {
            int[] g = gray(img);
            int fx = iw / ow;
            int fy = ih / oh;
            double n = fx * fy;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    long sum = 0;
                    for (int dy = 0; dy < fy; dy++) {
                        int row = (y * fy + dy) * iw + x * fx;
                        for (int dx = 0; dx < fx; dx++) {
                            sum += g[row + dx];
                        }
                    }
                    out[y * ow + x] = (float) ((sum / n / 255.0 - mean) / std);
                }
            }
        } else {
            // Bilinear reads only 4 source pixels per output pixel: convert just those to gray
            // (for a 320x240 camera frame, 16k of 77k pixels), straight from the raster when it has
            // a known layout. Same values as converting the whole image first.
            Pixels px = Pixels.of(img);
            int[] g = px == null ? gray(img) : null;
            double sx = (double) iw / ow;
            double sy = (double) ih / oh;
            for (int y = 0; y < oh; y++) {
                double srcY = Math.max(0, Math.min(ih - 1, (y + 0.5) * sy - 0.5));
                int y0 = (int) Math.floor(srcY);
                int y1 = Math.min(ih - 1, y0 + 1);
                double wy = srcY - y0;
                for (int x = 0; x < ow; x++) {
                    double srcX = Math.max(0, Math.min(iw - 1, (x + 0.5) * sx - 0.5));
                    int x0 = (int) Math.floor(srcX);
                    int x1 = Math.min(iw - 1, x0 + 1);
                    double wx = srcX - x0;
                    int g00 = px != null ? px.at(x0, y0) : g[y0 * iw + x0];
                    int g01 = px != null ? px.at(x1, y0) : g[y0 * iw + x1];
                    int g10 = px != null ? px.at(x0, y1) : g[y1 * iw + x0];
                    int g11 = px != null ? px.at(x1, y1) : g[y1 * iw + x1];
                    double top = g00 * (1 - wx) + g01 * wx;
                    double bottom = g10 * (1 - wx) + g11 * wx;
                    double v = top * (1 - wy) + bottom * wy;
                    out[y * ow + x] = (float) ((v / 255.0 - mean) / std);
                }
            }
        }
    }

    /**
     * Gray values read straight from the pixel arrays of the image types ImageIO decodes JPEG and
     * PNG frames into ({@code getRGB} goes through the colour model per pixel: 1 ms for a 320x240
     * frame, 10x the CNN). Null for any other layout, which takes the general path.
     */
    private static final class Pixels {
        private final byte[] bytes;
        private final int[] ints;
        private final int stride;
        private final int pixelStride;
        private final int r;
        private final int g;
        private final int b;

        private Pixels(byte[] bytes, int[] ints, int stride, int pixelStride, int r, int g, int b) {
            this.bytes = bytes;
            this.ints = ints;
            this.stride = stride;
            this.pixelStride = pixelStride;
            this.r = r;
            this.g = g;
            this.b = b;
        }

        static Pixels of(BufferedImage img) {
            WritableRaster raster = img.getRaster();
            if (raster.getSampleModelTranslateX() != 0 || raster.getSampleModelTranslateY() != 0
                    || raster.getDataBuffer().getNumBanks() != 1 || raster.getDataBuffer().getOffset() != 0) {
                return null;
            }
            SampleModel sm = raster.getSampleModel();
            int type = img.getType();
            if ((type == BufferedImage.TYPE_BYTE_GRAY || type == BufferedImage.TYPE_3BYTE_BGR)
                    && sm instanceof ComponentSampleModel c && raster.getDataBuffer() instanceof DataBufferByte db) {
                int[] off = c.getBandOffsets();
                if (type == BufferedImage.TYPE_BYTE_GRAY) {
                    return new Pixels(db.getData(), null, c.getScanlineStride(), c.getPixelStride(), off[0], -1, -1);
                }
                return new Pixels(db.getData(), null, c.getScanlineStride(), c.getPixelStride(), off[0], off[1], off[2]);
            }
            if ((type == BufferedImage.TYPE_INT_RGB || type == BufferedImage.TYPE_INT_ARGB)
                    && sm instanceof SinglePixelPackedSampleModel p && raster.getDataBuffer() instanceof DataBufferInt di) {
                return new Pixels(null, di.getData(), p.getScanlineStride(), 1, -1, -1, -1);
            }
            return null;
        }

        int at(int x, int y) {
            if (ints != null) {
                int p = ints[y * stride + x];
                return luma((p >> 16) & 0xff, (p >> 8) & 0xff, p & 0xff);
            }
            int i = y * stride + x * pixelStride;
            if (g < 0) {
                return bytes[i + r] & 0xff;
            }
            return luma(bytes[i + r] & 0xff, bytes[i + g] & 0xff, bytes[i + b] & 0xff);
        }
    }
}

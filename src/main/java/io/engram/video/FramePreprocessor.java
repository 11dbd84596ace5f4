package io.engram.video;

import io.engram.errors.BadInputException;
import io.engram.errors.BadInputException.Reason;
import io.engram.model.ModelManifest;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

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
     * Decodes a JPEG or PNG frame. The dimensions are read from the header first, so that a frame
     * claiming a huge size is refused before any pixel buffer is allocated.
     */
    public BufferedImage decode(byte[] bytes, String contentType) {
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
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
            ImageReader reader = readers.next();
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
                BufferedImage img = reader.read(0);
                if (img == null) {
                    throw new BadInputException(Reason.CORRUPT_IMAGE, "frame could not be decoded as " + format);
                }
                return img;
            } finally {
                reader.dispose();
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
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            Raster r = img.getRaster();
            r.getSamples(0, 0, w, h, 0, g);
            return g;
        }
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < rgb.length; i++) {
            int p = rgb[i];
            double v = 0.299 * ((p >> 16) & 0xff) + 0.587 * ((p >> 8) & 0xff) + 0.114 * (p & 0xff);
            g[i] = (int) Math.rint(v);
        }
        return g;
    }

    /** Writes the normalised encoder input ({@code height*width} floats) for {@code img} into {@code out}. */
    public void toInput(BufferedImage img, float[] out) {
        int[] g = gray(img);
        int iw = img.getWidth();
        int ih = img.getHeight();
        int ow = spec.width();
        int oh = spec.height();
        double mean = spec.mean();
        double std = spec.std();
        if (iw == ow && ih == oh) {
            for (int i = 0; i < g.length; i++) {
                out[i] = (float) ((g[i] / 255.0 - mean) / std);
            }
        } else if (iw % ow == 0 && ih % oh == 0) {
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
                    double top = g[y0 * iw + x0] * (1 - wx) + g[y0 * iw + x1] * wx;
                    double bottom = g[y1 * iw + x0] * (1 - wx) + g[y1 * iw + x1] * wx;
                    double v = top * (1 - wy) + bottom * wy;
                    out[y * ow + x] = (float) ((v / 255.0 - mean) / std);
                }
            }
        }
    }
}

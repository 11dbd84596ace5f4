package io.engram.tools.ingest.video;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Encodes frames as JPEG or PNG, resizing first when asked: the record values of
 * {@code engram ingest video}.
 *
 * <p>Resizing ({@link Settings#width()}, {@link Settings#height()}) uses plain Java2D bilinear
 * interpolation. With both set the frame is scaled to exactly that size (which may change its
 * aspect ratio); with one set the other follows the frame's aspect ratio; with neither the frame
 * keeps its size.
 *
 * <p>JPEG has no alpha channel: transparent pixels are composited onto black. PNG keeps alpha and
 * is lossless, so a PNG frame decodes to exactly the pixels it was given (unless resized).
 *
 * <p>Not thread-safe (it reuses one {@link ImageWriter}); use one per thread and close it to free
 * the writer.
 */
public final class FrameEncoder implements AutoCloseable {
    /** The image formats a frame can be sent as. */
    public enum Format {
        JPEG("jpeg", "image/jpeg"),
        PNG("png", "image/png");

        private final String imageIoName;
        private final String contentType;

        Format(String imageIoName, String contentType) {
            this.imageIoName = imageIoName;
            this.contentType = contentType;
        }

        /** The MIME type, the {@code content-type} header's value. */
        public String contentType() {
            return contentType;
        }

        /** {@code jpeg} or {@code png}. */
        public String lowerName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How to encode.
     *
     * @param format JPEG or PNG
     * @param quality JPEG quality 1-100 (ignored for PNG)
     * @param width target width in pixels, or 0 to follow the height (or keep the frame's width)
     * @param height target height in pixels, or 0 to follow the width (or keep the frame's height)
     */
    public record Settings(Format format, int quality, int width, int height) {
        /** The default JPEG quality. */
        public static final int DEFAULT_QUALITY = 85;

        public Settings {
            if (format == null) {
                throw new IllegalArgumentException("format is null");
            }
            if (quality < 1 || quality > 100) {
                throw new IllegalArgumentException("JPEG quality must be 1-100, not " + quality);
            }
            if (width < 0 || height < 0) {
                throw new IllegalArgumentException("width and height must be positive (0 = keep), not " + width + "x" + height);
            }
        }

        /** JPEG at quality 85, original size. */
        public static Settings jpeg() {
            return new Settings(Format.JPEG, DEFAULT_QUALITY, 0, 0);
        }

        /** Lossless PNG, original size. */
        public static Settings png() {
            return new Settings(Format.PNG, DEFAULT_QUALITY, 0, 0);
        }

        public Settings withQuality(int q) {
            return new Settings(format, q, width, height);
        }

        public Settings withSize(int w, int h) {
            return new Settings(format, quality, w, h);
        }
    }

    /**
     * One encoded frame.
     *
     * @param bytes the encoded image (owned by the caller)
     * @param width its width in pixels (after resizing)
     * @param height its height in pixels
     * @param contentType {@code image/jpeg} or {@code image/png}
     */
    public record Encoded(byte[] bytes, int width, int height, String contentType) {}

    private final Settings settings;
    private final ImageWriter writer;
    private final ImageWriteParam param;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(64 * 1024);

    public FrameEncoder(Settings settings) {
        this.settings = settings;
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(settings.format().imageIoName);
        if (!writers.hasNext()) {
            throw new IllegalStateException("this Java runtime has no ImageIO writer for " + settings.format().imageIoName);
        }
        this.writer = writers.next();
        this.param = writer.getDefaultWriteParam();
        if (settings.format() == Format.JPEG) {
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(settings.quality() / 100f);
        }
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Resizes (when asked) and encodes {@code image}. The image is only read, never modified or kept.
     *
     * @throws IOException when the image writer fails (it should not for images of the standard types)
     */
    public Encoded encode(BufferedImage image) throws IOException {
        int[] size = targetSize(image.getWidth(), image.getHeight(), settings.width(), settings.height());
        boolean jpeg = settings.format() == Format.JPEG;
        BufferedImage out = image;
        if (size[0] != image.getWidth() || size[1] != image.getHeight()) {
            out = resize(image, size[0], size[1], targetType(image, jpeg));
        } else if (jpeg && !jpegWritable(image)) {
            out = redraw(image, BufferedImage.TYPE_3BYTE_BGR);
        }
        buffer.reset();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(buffer)) {
            writer.setOutput(ios);
            writer.write(null, new IIOImage(out, null, null), param);
        } finally {
            writer.setOutput(null);
        }
        return new Encoded(buffer.toByteArray(), out.getWidth(), out.getHeight(), settings.format().contentType());
    }

    /**
     * The size a {@code srcW x srcH} frame is encoded at: {@code w x h} when both are set, the
     * aspect-preserving size when one is (at least 1 pixel), else the frame's size.
     */
    public static int[] targetSize(int srcW, int srcH, int w, int h) {
        if (w > 0 && h > 0) {
            return new int[] {w, h};
        }
        if (w > 0) {
            return new int[] {w, Math.max(1, (int) Math.round((double) srcH * w / srcW))};
        }
        if (h > 0) {
            return new int[] {Math.max(1, (int) Math.round((double) srcW * h / srcH)), h};
        }
        return new int[] {srcW, srcH};
    }

    /** Scales {@code src} to {@code w x h} with bilinear interpolation into a new image of {@code type}. */
    static BufferedImage resize(BufferedImage src, int w, int h, int type) {
        BufferedImage dst = new BufferedImage(w, h, type);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    private static BufferedImage redraw(BufferedImage src, int type) {
        BufferedImage dst = new BufferedImage(src.getWidth(), src.getHeight(), type);
        Graphics2D g = dst.createGraphics();
        try {
            g.drawImage(src, 0, 0, null);
        } finally {
            g.dispose();
        }
        return dst;
    }

    /** Gray stays gray; alpha survives only into PNG; everything else becomes 8-bit BGR. */
    private static int targetType(BufferedImage src, boolean jpeg) {
        if (src.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            return BufferedImage.TYPE_BYTE_GRAY;
        }
        if (!jpeg && src.getColorModel().hasAlpha()) {
            return BufferedImage.TYPE_INT_ARGB;
        }
        return BufferedImage.TYPE_3BYTE_BGR;
    }

    /** The types the JDK's JPEG writer encodes as ordinary (JFIF) colour or gray images. */
    private static boolean jpegWritable(BufferedImage img) {
        int t = img.getType();
        return t == BufferedImage.TYPE_3BYTE_BGR || t == BufferedImage.TYPE_INT_RGB
                || t == BufferedImage.TYPE_INT_BGR || t == BufferedImage.TYPE_BYTE_GRAY;
    }

    @Override
    public void close() {
        writer.dispose();
    }
}

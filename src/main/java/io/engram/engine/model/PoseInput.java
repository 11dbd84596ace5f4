package io.engram.engine.model;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
import java.nio.IntBuffer;
import java.util.Arrays;

/**
 * A pose model's input from an RGB frame, exactly as the goldens' TensorFlow.js code makes it
 * (models/pose/make_goldens.mjs): pad with zeros at the bottom and right to a square of side
 * {@code s = max(w, h)}, resize to {@code side x side} with TFJS's CPU bilinear kernel (half-pixel
 * centres, no corner alignment: source {@code = (s/side)(i + 0.5) - 0.5}, floor clamped at 0, ceil
 * at {@code s - 1}; interpolated in float64, stored as float32), then int32 by truncation. The
 * sampling positions are computed once per frame size. Not thread-safe: one per runner.
 */
public final class PoseInput {
    private final int side;
    private int lastW = -1;
    private int lastH = -1;
    private final int[] x0;
    private final int[] x1;
    private final double[] fx;
    private final int[] y0;
    private final int[] y1;
    private final double[] fy;

    public PoseInput(int side) {
        this.side = side;
        x0 = new int[side];
        x1 = new int[side];
        fx = new double[side];
        y0 = new int[side];
        y1 = new int[side];
        fy = new double[side];
    }

    private void positions(int w, int h) {
        if (w == lastW && h == lastH) {
            return;
        }
        int s = Math.max(w, h);
        double ratio = (double) s / side;
        for (int i = 0; i < side; i++) {
            double src = ratio * (i + 0.5) - 0.5;
            int lo = (int) Math.max(0, Math.floor(src));
            x0[i] = lo;
            fx[i] = src - lo;
            x1[i] = (int) Math.min(s - 1, Math.ceil(src));
        }
        System.arraycopy(x0, 0, y0, 0, side);
        System.arraycopy(x1, 0, y1, 0, side);
        System.arraycopy(fx, 0, fy, 0, side);
        lastW = w;
        lastH = h;
    }

    /**
     * Writes the model input {@code [side, side, 3]} for the interleaved RGB frame {@code rgb} of
     * {@code w x h} into {@code dst} from position 0.
     */
    public void toInput(byte[] rgb, int w, int h, IntBuffer dst) {
        if (w <= 0 || h <= 0 || rgb.length < w * h * 3) {
            throw new IllegalArgumentException("frame " + w + "x" + h + " needs " + (w * h * 3) + " RGB bytes, has " + rgb.length);
        }
        positions(w, h);
        dst.clear();
        for (int r = 0; r < side; r++) {
            int ya = y0[r];
            int yb = y1[r];
            double rowFrac = fy[r];
            boolean inA = ya < h;
            boolean inB = yb < h;
            for (int c = 0; c < side; c++) {
                int xa = x0[c];
                int xb = x1[c];
                double colFrac = fx[c];
                boolean left = xa < w;
                boolean right = xb < w;
                int tl = inA && left ? (ya * w + xa) * 3 : -1;
                int tr = inA && right ? (ya * w + xb) * 3 : -1;
                int bl = inB && left ? (yb * w + xa) * 3 : -1;
                int br = inB && right ? (yb * w + xb) * 3 : -1;
                for (int ch = 0; ch < 3; ch++) {
                    double topLeft = tl < 0 ? 0 : rgb[tl + ch] & 0xFF;
                    double topRight = tr < 0 ? 0 : rgb[tr + ch] & 0xFF;
                    double bottomLeft = bl < 0 ? 0 : rgb[bl + ch] & 0xFF;
                    double bottomRight = br < 0 ? 0 : rgb[br + ch] & 0xFF;
                    double top = topLeft + (topRight - topLeft) * colFrac;
                    double bottom = bottomLeft + (bottomRight - bottomLeft) * colFrac;
                    float v = (float) (top + (bottom - top) * rowFrac);
                    dst.put((int) v);
                }
            }
        }
        dst.clear();
    }

    /**
     * The frame's pixels as interleaved 8-bit RGB into {@code dst} ({@code w * h * 3} bytes): read
     * straight from the raster for the types ImageIO decodes colour JPEG and PNG into (3-byte BGR,
     * 4-byte ABGR, int RGB/ARGB), else through {@link BufferedImage#getRGB}.
     */
    public static void rgb(BufferedImage img, byte[] dst) {
        int w = img.getWidth();
        int h = img.getHeight();
        int type = img.getType();
        if ((type == BufferedImage.TYPE_3BYTE_BGR || type == BufferedImage.TYPE_4BYTE_ABGR)
                && img.getRaster().getSampleModel() instanceof PixelInterleavedSampleModel sm
                && img.getRaster().getDataBuffer() instanceof DataBufferByte db && db.getNumBanks() == 1
                && img.getRaster().getSampleModelTranslateX() == 0 && img.getRaster().getSampleModelTranslateY() == 0) {
            byte[] src = db.getData();
            int[] off = sm.getBandOffsets(); // R, G, B(, A) positions inside a pixel
            int ps = sm.getPixelStride();
            int ss = sm.getScanlineStride();
            int o = 0;
            for (int y = 0; y < h; y++) {
                int p = y * ss;
                for (int x = 0; x < w; x++, p += ps) {
                    dst[o++] = src[p + off[0]];
                    dst[o++] = src[p + off[1]];
                    dst[o++] = src[p + off[2]];
                }
            }
            return;
        }
        if ((type == BufferedImage.TYPE_INT_RGB || type == BufferedImage.TYPE_INT_ARGB)
                && img.getRaster().getSampleModel() instanceof SinglePixelPackedSampleModel sm
                && img.getRaster().getDataBuffer() instanceof DataBufferInt db
                && img.getRaster().getSampleModelTranslateX() == 0 && img.getRaster().getSampleModelTranslateY() == 0) {
            int[] src = db.getData();
            int ss = sm.getScanlineStride();
            int o = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = src[y * ss + x];
                    dst[o++] = (byte) (v >> 16);
                    dst[o++] = (byte) (v >> 8);
                    dst[o++] = (byte) v;
                }
            }
            return;
        }
        int[] row = new int[w];
        int o = 0;
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int v : row) {
                dst[o++] = (byte) (v >> 16);
                dst[o++] = (byte) (v >> 8);
                dst[o++] = (byte) v;
            }
        }
    }

    /** For tests: the input as a new array. */
    int[] toArray(byte[] rgb, int w, int h) {
        IntBuffer b = IntBuffer.allocate(side * side * 3);
        toInput(rgb, w, h, b);
        return Arrays.copyOf(b.array(), side * side * 3);
    }
}

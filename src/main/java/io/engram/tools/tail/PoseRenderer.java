package io.engram.tools.tail;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * Draws people on a frame: each person's skeleton (the COCO-17 keypoints of {@code person-poses},
 * docs/topics.md), the box around their seen keypoints, and a caption with the track id and, when
 * known, the activity label and its probability. A colour per track id, so that one person keeps
 * their colour from frame to frame. Stateless; the image drawn on is the caller's.
 */
public final class PoseRenderer {
    /** One person on one frame: their track, 17 x (x / width, y / height, score), and their activity (label null when unknown). */
    public record Person(String track, float[] keypoints, String label, double probability) {}

    /** Keypoints scored lower are not drawn (the tracker's default threshold). */
    public static final float MIN_SCORE = 0.3f;

    /** The COCO-17 limbs, as pairs of keypoint indices (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles; left first). */
    static final int[][] LIMBS = {
        {0, 1}, {0, 2}, {1, 3}, {2, 4}, {5, 6}, {5, 7}, {7, 9}, {6, 8}, {8, 10}, {5, 11}, {6, 12}, {11, 12}, {11, 13}, {13, 15},
        {12, 14}, {14, 16}};

    private static final Color[] PALETTE = {
        new Color(230, 25, 75), new Color(60, 180, 75), new Color(255, 225, 25), new Color(0, 130, 200), new Color(245, 130, 48),
        new Color(145, 30, 180), new Color(70, 240, 240), new Color(240, 50, 230), new Color(210, 245, 60), new Color(250, 190, 212)};

    private PoseRenderer() {}

    /** The colour of a track: the same for the same id. */
    public static Color colour(String track) {
        return PALETTE[Math.floorMod(track.hashCode(), PALETTE.length)];
    }

    /** Returns a copy of {@code frame} (RGB) with {@code people} drawn on it. */
    public static BufferedImage draw(BufferedImage frame, List<Person> people) {
        int w = frame.getWidth();
        int h = frame.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(frame, 0, 0, null);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            float line = Math.max(1.5f, Math.min(w, h) / 240f);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(10, Math.round(Math.min(w, h) / 28f))));
            for (Person p : people) {
                drawPerson(g, p, w, h, line);
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    private static void drawPerson(Graphics2D g, Person p, int w, int h, float line) {
        float[] k = p.keypoints();
        int n = k.length / 3;
        Color c = colour(p.track());
        g.setColor(c);
        g.setStroke(new BasicStroke(line));
        for (int[] limb : LIMBS) {
            if (limb[1] < n && seen(k, limb[0]) && seen(k, limb[1])) {
                g.drawLine(px(k, limb[0], w), py(k, limb[0], h), px(k, limb[1], w), py(k, limb[1], h));
            }
        }
        int r = Math.max(2, Math.round(line * 1.5f));
        int x0 = Integer.MAX_VALUE;
        int y0 = Integer.MAX_VALUE;
        int x1 = Integer.MIN_VALUE;
        int y1 = Integer.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            if (!seen(k, i)) {
                continue;
            }
            int x = px(k, i, w);
            int y = py(k, i, h);
            g.fillOval(x - r, y - r, 2 * r, 2 * r);
            x0 = Math.min(x0, x);
            y0 = Math.min(y0, y);
            x1 = Math.max(x1, x);
            y1 = Math.max(y1, y);
        }
        if (x0 > x1) {
            return; // no keypoint seen: nothing to place a caption on
        }
        int pad = Math.round(4 * line);
        g.setStroke(new BasicStroke(Math.max(1f, line / 2)));
        g.drawRect(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad);
        String caption = p.label() == null ? "#" + p.track()
                : String.format(Locale.ROOT, "#%s %s %.2f", p.track(), p.label(), p.probability());
        var fm = g.getFontMetrics();
        int tx = Math.max(0, Math.min(x0 - pad, w - fm.stringWidth(caption) - 2));
        int ty = Math.max(fm.getAscent(), y0 - pad - 2);
        g.setColor(Color.BLACK);
        g.fillRect(tx, ty - fm.getAscent(), fm.stringWidth(caption) + 2, fm.getHeight());
        g.setColor(c);
        g.drawString(caption, tx + 1, ty);
    }

    private static boolean seen(float[] k, int i) {
        return 3 * i + 2 < k.length && k[3 * i + 2] >= MIN_SCORE;
    }

    private static int px(float[] k, int i, int w) {
        return Math.round(k[3 * i] * w);
    }

    private static int py(float[] k, int i, int h) {
        return Math.round(k[3 * i + 1] * h);
    }
}

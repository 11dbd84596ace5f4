package io.engram.tools.bench;

import java.util.Locale;

/**
 * A 2x2 confusion matrix of clip-level decisions (positive = the class named first), with accuracy,
 * balanced accuracy and 95% Wilson score intervals. Pure; no I/O.
 */
public record BinaryConfusion(String positive, String negative, int tp, int fn, int fp, int tn) {
    /** 1.96: the normal quantile of a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;

    /** A proportion's point estimate and 95% Wilson score interval. */
    public record Interval(int k, int n, double p, double lo, double hi) {
        @Override
        public String toString() {
            return n == 0 ? "n/a (0 clips)"
                    : String.format(Locale.ROOT, "%.1f%% [%.1f, %.1f] (%d/%d)", 100 * p, 100 * lo, 100 * hi, k, n);
        }
    }

    /** An empty matrix. */
    public static BinaryConfusion of(String positive, String negative) {
        return new BinaryConfusion(positive, negative, 0, 0, 0, 0);
    }

    /** This matrix with one more clip, truly {@code actualPositive}, decided {@code predictedPositive}. */
    public BinaryConfusion add(boolean actualPositive, boolean predictedPositive) {
        if (actualPositive) {
            return predictedPositive ? new BinaryConfusion(positive, negative, tp + 1, fn, fp, tn)
                    : new BinaryConfusion(positive, negative, tp, fn + 1, fp, tn);
        }
        return predictedPositive ? new BinaryConfusion(positive, negative, tp, fn, fp + 1, tn)
                : new BinaryConfusion(positive, negative, tp, fn, fp, tn + 1);
    }

    public BinaryConfusion plus(BinaryConfusion o) {
        return new BinaryConfusion(positive, negative, tp + o.tp, fn + o.fn, fp + o.fp, tn + o.tn);
    }

    public int total() {
        return tp + fn + fp + tn;
    }

    public Interval accuracy() {
        return wilson(tp + tn, total());
    }

    /** Recall of the positive class (sensitivity). */
    public Interval positiveRecall() {
        return wilson(tp, tp + fn);
    }

    /** Recall of the negative class (specificity). */
    public Interval negativeRecall() {
        return wilson(tn, tn + fp);
    }

    /**
     * The mean of the two recalls; its interval is the mean of their Wilson bounds (conservative:
     * wider than an interval of the mean, as the two bounds are not reached together).
     */
    public double[] balancedAccuracy() {
        Interval a = positiveRecall();
        Interval b = negativeRecall();
        return new double[] {(a.p() + b.p()) / 2, (a.lo() + b.lo()) / 2, (a.hi() + b.hi()) / 2};
    }

    /** The 95% Wilson score interval of {@code k} successes in {@code n}; NaN for n = 0. */
    public static Interval wilson(int k, int n) {
        if (k < 0 || n < 0 || k > n) {
            throw new IllegalArgumentException("need 0 <= k <= n, not k=" + k + ", n=" + n);
        }
        if (n == 0) {
            return new Interval(0, 0, Double.NaN, Double.NaN, Double.NaN);
        }
        double p = (double) k / n;
        double z2 = Z95 * Z95;
        double denom = 1 + z2 / n;
        double centre = (p + z2 / (2.0 * n)) / denom;
        double half = Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
        return new Interval(k, n, p, Math.max(0, centre - half), Math.min(1, centre + half));
    }

    /** The matrix as text: rows the truth, columns the decision. */
    public String table() {
        int w = Math.max(8, Math.max(positive.length(), negative.length()) + 2);
        String f = "%-" + (w + 8) + "s%" + w + "s%" + w + "s%n";
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, f, "truth \\ decided", positive, negative));
        sb.append(String.format(Locale.ROOT, f, positive, tp, fn));
        sb.append(String.format(Locale.ROOT, f, negative, fp, tn));
        return sb.toString();
    }
}

package io.engram.engine.pipeline.anomaly;

/**
 * The joint channel, for streams of several values: the vector as a whole against its own usual
 * mean and covariance. A closed valve or a leak moves several sensors at once, each by an amount
 * within its normal range, so that every per-value channel (each value against its own history) stays
 * quiet; what is rare is the combination, the move against the way the values usually vary
 * together. This channel sees it.
 *
 * <p>Per record: the short average of the vector (weight {@code scoring.short_alpha}, as the level
 * channel's), its departure {@code d} from that average's long-run mean, and the Mahalanobis distance
 * {@code d' S^-1 d} against the long-run covariance {@code S} of the average (both with the weight
 * {@code max(1/(n+1), scoring.long_alpha)}, as the level channel's), shrunk toward its diagonal by
 * {@code scoring.joint.shrinkage} so that it stays invertible while young or with collinear values.
 * How rare that distance is, is judged against the stream's own distribution of it, not a fitted
 * shape: a histogram of the log distance ({@link #BINS} bins of {@link #BIN_WIDTH}, with the same long-run
 * weight), whose upper {@link #TAIL} gives a threshold {@code u} (its 95th percentile) and beyond it an
 * exponential tail with the mean excess {@code b} over {@code u} (peaks over threshold):
 * {@code log P = log 0.05 - (distance - u) / b} above {@code u}, 0 below. On stationary values this
 * tail is calibrated (a reading beyond P happens with probability P), so the weight
 * {@code scoring.joint.weight} w sets the channel's false-alarm rate: a reading reaches the alert
 * threshold (one in a million) with probability {@code 10^(-6 / w)}, 0.66% at the default 2.75. Reason
 * {@code joint:<component>}, the component with the largest share {@code d_c (S^-1 d)_c} of the distance.
 *
 * <p>Speaks only for streams of at least two values: on a one-value stream it returns 0 and keeps
 * no state. Its slice: {@link ForecastState#jointShort} and the fields after it, 16 bytes a value,
 * 8 per covariance entry (C(C+1)/2 of them) and 16 + 8 x {@link #BINS}, started at the first scored reading. The
 * distance speaks once the covariance and then the distance's statistics have each seen
 * {@link AnomalyScorer#STARTUP_STEPS} records.
 */
final class JointChannel implements ScoreChannel {
    /** Bins of the histogram of the log distance, and their width (natural log): e^-3 to e^9, the end bins open. */
    static final int BINS = 96;
    static final double BIN_WIDTH = 0.125;
    static final double BIN_FROM = -3.0;
    /** The upper tail beyond the threshold u: 5% of the distances. */
    static final double TAIL = 0.05;

    private final ScoringConfig config;

    /**
     * Per-thread working arrays, so that a record allocates nothing: the channel is one instance for
     * every stream and stream thread, and a record's arrays die with the record.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The departure, the matrix (row-major n x n) and its diagonal, and the two triangular solves' vectors, for up to n values. */
    private static final class Scratch {
        double[] d = new double[0];
        double[] m = new double[0];
        double[] diag = new double[0];
        double[] y = new double[0];
        double[] x = new double[0];

        Scratch sized(int n) {
            if (d.length < n) {
                d = new double[n];
                m = new double[n * n];
                diag = new double[n];
                y = new double[n];
                x = new double[n];
            }
            return this;
        }
    }

    JointChannel(ScoringConfig config) {
        this.config = config;
    }

    @Override
    public ScoringConfig.Channel key() {
        return ScoringConfig.Channel.JOINT;
    }

    @Override
    public boolean needsMemory() {
        return false;
    }

    @Override
    public int stateBytes(ForecastState s) {
        return s.channels() < 2 ? 0 : ForecastCodec.jointSize(s.channels());
    }

    @Override
    public int component(ForecastState s) {
        return s.jointTop;
    }

    @Override
    public double score(ForecastState s, double[] values, long eventTime) {
        s.jointTop = -1;
        if (values == null || values.length < 2) {
            return 0.0;
        }
        int n = values.length;
        if (s.jointShort == null || s.jointShort.length != n) {
            start(s, values);
            return 0.0;
        }
        Scratch sc = SCRATCH.get().sized(n);
        double[] d = sc.d;
        for (int c = 0; c < n; c++) {
            s.jointShort[c] += config.shortAlpha() * (values[c] - s.jointShort[c]);
            d[c] = s.jointShort[c] - s.jointMean[c];
        }
        double logTail = 0.0;
        if (s.jointCount > AnomalyScorer.STARTUP_STEPS) {
            double[] solved = solve(s, n, sc);
            double d2 = 0;
            double top = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < n; c++) {
                double share = d[c] * solved[c];
                d2 += share;
                if (share > top) {
                    top = share;
                    s.jointTop = c;
                }
            }
            double x = Math.max(d2, 0.0);
            if (s.jointDistCount > AnomalyScorer.STARTUP_STEPS) {
                logTail = logTail(s.jointHist, x);
            }
            double a = Math.max(1.0 / (s.jointDistCount + 1), config.longAlpha());
            int bin = (int) Math.floor((Math.log(x + Double.MIN_NORMAL) - BIN_FROM) / BIN_WIDTH);
            bin = Math.max(0, Math.min(BINS - 1, bin));
            for (int b = 0; b < BINS; b++) {
                s.jointHist[b] *= 1 - a;
            }
            s.jointHist[bin] += a;
            s.jointDistCount++;
        }
        // Learn after judging: the long-run mean and covariance of the short average.
        double a = Math.max(1.0 / (s.jointCount + 1), config.longAlpha());
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                s.jointCov[k] = (1 - a) * (s.jointCov[k] + a * d[i] * d[j]);
                k++;
            }
        }
        for (int c = 0; c < n; c++) {
            s.jointMean[c] += a * d[c];
        }
        s.jointCount++;
        return config.joint().weight() * logTail;
    }

    private static void start(ForecastState s, double[] values) {
        int n = values.length;
        s.jointShort = values.clone();
        s.jointMean = values.clone();
        s.jointCov = new double[n * (n + 1) / 2];
        s.jointCount = 0;
        s.jointHist = new double[BINS];
        s.jointDistCount = 0;
    }

    /**
     * log P(distance > x) by the histogram {@code h} of the log distance: 0 up to its upper
     * {@link #TAIL} quantile u, beyond it {@code log TAIL - (x - u) / b}, b the mean excess over u
     * (each bin's mass at its centre, the part of u's bin above u at the middle of that part).
     */
    static double logTail(double[] h, double x) {
        double acc = 0.0;
        int k = BINS - 1;
        while (k > 0 && acc + h[k] < TAIL) {
            acc += h[k];
            k--;
        }
        double frac = h[k] > 0 ? Math.min(1.0, (TAIL - acc) / h[k]) : 0.0;
        double u = Math.exp(BIN_FROM + (k + 1 - frac) * BIN_WIDTH);
        if (!(x > u)) {
            return 0.0;
        }
        double excess = (TAIL - acc) * (Math.exp(BIN_FROM + (k + 1 - frac / 2) * BIN_WIDTH) - u);
        for (int j = k + 1; j < BINS; j++) {
            excess += h[j] * (Math.exp(BIN_FROM + (j + 0.5) * BIN_WIDTH) - u);
        }
        double b = Math.max(excess / TAIL, Double.MIN_NORMAL);
        return Math.log(TAIL) - (x - u) / b;
    }

    /**
     * {@code S^-1 d} for the shrunk covariance {@code S = (1 - l) C + l diag(C)}, each variance floored
     * at {@link AnomalyScorer#LEVEL_MIN_REL_STD} of its level (squared) and that floor added on the
     * diagonal, by Cholesky; a covariance that is still not positive definite falls back to its diagonal.
     */
    private double[] solve(ForecastState s, int n, Scratch sc) {
        double[] d = sc.d;
        double[] m = sc.m; // row-major n x n
        double[] diag = sc.diag;
        double l = config.joint().shrinkage();
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double v = s.jointCov[k++];
                if (i == j) {
                    double f = AnomalyScorer.LEVEL_MIN_REL_STD * Math.max(1.0, Math.abs(s.jointMean[i]));
                    diag[i] = Math.max(v, f * f) + f * f;
                    m[i * n + i] = diag[i];
                } else {
                    m[i * n + j] = (1 - l) * v;
                    m[j * n + i] = m[i * n + j];
                }
            }
        }
        double[] x = sc.x;
        // Cholesky: m = L L', L in the lower triangle of m.
        for (int j = 0; j < n; j++) {
            double sum = m[j * n + j];
            for (int p = 0; p < j; p++) {
                sum -= m[j * n + p] * m[j * n + p];
            }
            if (!(sum > 0)) {
                for (int c = 0; c < n; c++) {
                    x[c] = d[c] / diag[c];
                }
                return x;
            }
            double ljj = Math.sqrt(sum);
            m[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double t = m[i * n + j];
                for (int p = 0; p < j; p++) {
                    t -= m[i * n + p] * m[j * n + p];
                }
                m[i * n + j] = t / ljj;
            }
        }
        double[] y = sc.y;
        for (int i = 0; i < n; i++) {
            double t = d[i];
            for (int p = 0; p < i; p++) {
                t -= m[i * n + p] * y[p];
            }
            y[i] = t / m[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            double t = y[i];
            for (int p = i + 1; p < n; p++) {
                t -= m[p * n + i] * x[p];
            }
            x[i] = t / m[i * n + i];
        }
        return x;
    }
}

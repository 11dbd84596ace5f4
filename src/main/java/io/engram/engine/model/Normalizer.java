package io.engram.engine.model;

/**
 * The {@code ewm-standardize} preprocessing of docs/model-contract.md, in float64, exactly as the
 * Python training and export scripts implement it. Stateless: the per-stream statistics live in the
 * stream's state ({@code mean}, {@code var} per channel, and the step count).
 */
public final class Normalizer {
    private final ModelManifest.Preprocessing p;

    public Normalizer(ModelManifest.Preprocessing p) {
        this.p = p;
    }

    /** Scale used to normalise a reading (and to de-normalise a forecast) given the stats. */
    public double scale(double mean, double var) {
        if (!p.standardize()) {
            return 1.0;
        }
        return Math.max(Math.max(Math.sqrt(var), p.minScale()), p.relMinScale() * Math.abs(mean));
    }

    /** Model input for reading {@code x} with the stats before it ({@code n} readings seen). */
    public double normalize(double x, long n, double mean, double var) {
        if (!p.standardize()) {
            return x;
        }
        if (n == 0) {
            return 0.0;
        }
        double z = (x - mean) / scale(mean, var);
        return Math.max(-p.clip(), Math.min(p.clip(), z));
    }

    /**
     * Folds reading {@code x} (the {@code n}-th, 0-based) into {@code stats[0]} (mean) and
     * {@code stats[1]} (var).
     */
    public void update(double x, long n, double[] stats) {
        if (n == 0) {
            stats[0] = x;
            stats[1] = 0.0;
            return;
        }
        double a = Math.max(1.0 / (n + 1), p.alpha());
        double d = x - stats[0];
        stats[0] = stats[0] + a * d;
        stats[1] = (1 - a) * (stats[1] + a * d * d);
    }

    /** Forecast in the sensor's units from model output {@code y} and the updated stats. */
    public double denormalize(double y, double mean, double var) {
        if (!p.standardize()) {
            return y;
        }
        return mean + scale(mean, var) * y;
    }
}

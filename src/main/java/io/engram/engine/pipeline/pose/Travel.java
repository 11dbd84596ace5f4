package io.engram.engine.pipeline.pose;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * Locomotion measured on the person's own track: how fast the body travels, in torso lengths
 * (shoulders' midpoint to hips' midpoint) per second, and the gate that lets that measure, not the
 * posture, decide between standing and moving.
 *
 * <p>Why: a walker seen from the side shows it in the legs, but a walker coming at the camera looks
 * like a stander to a posture model (BIISC: 0 of 80 such clips were called walking by any keypoint
 * model tried). What does tell them apart is physical: the body travels. Across the image the hips
 * move; toward or away from the camera the body's apparent size changes, at a rate of speed over
 * distance, and the distance in torso lengths is the focal length over the torso's length in the
 * image (a pinhole camera of the configured horizontal field of view). So the speed is
 * <pre>
 *   hypot(hip velocity across the image / torso, d log(torso) / dt * focal / torso)   torso lengths per second
 * </pre>
 * each velocity a running average over about a stride ({@code time_constant_ms}, an exponential
 * average weighted by the time between frames, so frame rate does not matter). A torso is about
 * half a metre, and people rarely walk slower than 0.5 m/s: one torso length per second.
 * {@code min_speed} (0.5) is half of that, to allow for paths at an angle to the camera.
 *
 * <p>The gate moves probability only between the locomotion labels (stand, walk, run), and only
 * when one of them is on top: travelling and top label stand, the stand probability moves to walk;
 * not travelling and top label walk or run, theirs moves to stand. Other labels (wave, sit_squat,
 * fall_lying, other) are the model's alone. Until the speed is measured (the first frames of a
 * track, or shoulders and hips not seen) the model's output is left as it is. Walking on a
 * treadmill is, by this rule, standing.
 *
 * <p>Coordinates: the person's keypoints come as shares of the frame's width and height; x is
 * multiplied by the frame's aspect ratio (width / height, from the record's {@code frame-width}
 * and {@code frame-height} headers, which the pose stage sets; 1 when absent) so that both axes are
 * in frame heights. The state ({@link State}) is the head's, in the person's payload; a Travel
 * itself holds only its settings (immutable; each head makes its own).
 */
public final class Travel {
    /** COCO-17 indices of the shoulders and hips (the pose model's keypoint order; the classifier takes 17 x 3 values). */
    static final int L_SHOULDER = 5, R_SHOULDER = 6, L_HIP = 11, R_HIP = 12;
    /** Frames of measured motion before the speed is trusted: the first velocity is one frame's, noisy. */
    public static final int MIN_OBSERVATIONS = 3;

    /**
     * @param minSpeed torso lengths per second at which a person travels; 0 turns the gate off
     * @param fieldOfViewDeg the camera's horizontal field of view, degrees
     * @param timeConstantMs the running averages' time constant, milliseconds (about a stride)
     * @param minKeypointScore shoulders and hips scored lower are not seen (the tracker's {@code min_keypoint_score})
     */
    public record Settings(double minSpeed, double fieldOfViewDeg, long timeConstantMs, float minKeypointScore) {
        public static final Settings DEFAULT = new Settings(0.5, 60, 1000, 0.3f);
        public static final Settings OFF = new Settings(0, 60, 1000, 0.3f);

        public boolean on() {
            return minSpeed > 0;
        }
    }

    private final Settings settings;
    /** Focal length in frame widths. */
    private final double focal;
    private final int stand;
    private final int walk;
    private final int run;

    /** @param labels the classifier's labels: the gate needs stand and walk (run is optional); without them it is off */
    public Travel(Settings settings, List<String> labels) {
        this.settings = settings;
        this.focal = 0.5 / Math.tan(Math.toRadians(settings.fieldOfViewDeg()) / 2);
        this.stand = labels.indexOf("stand");
        this.walk = labels.indexOf("walk");
        this.run = labels.indexOf("run");
    }

    public boolean on() {
        return settings.on() && stand >= 0 && walk >= 0;
    }

    /**
     * Moves {@code s} on by a frame at {@code timeMs} with the person's keypoints {@code kp} (17 x
     * (x, y, score), shares of the frame) in a frame of {@code aspect} (width / height).
     *
     * @return the person's speed in torso lengths per second, or NaN while it is not measured
     */
    public double update(State s, float[] kp, long timeMs, double aspect) {
        float minScore = settings.minKeypointScore();
        if (kp.length < 3 * (R_HIP + 1) || kp[3 * L_SHOULDER + 2] < minScore || kp[3 * R_SHOULDER + 2] < minScore
                || kp[3 * L_HIP + 2] < minScore || kp[3 * R_HIP + 2] < minScore) {
            return speed(s, aspect);
        }
        double hx = (kp[3 * L_HIP] + kp[3 * R_HIP]) / 2.0 * aspect;
        double hy = (kp[3 * L_HIP + 1] + kp[3 * R_HIP + 1]) / 2.0;
        double sx = (kp[3 * L_SHOULDER] + kp[3 * R_SHOULDER]) / 2.0 * aspect;
        double sy = (kp[3 * L_SHOULDER + 1] + kp[3 * R_SHOULDER + 1]) / 2.0;
        double torso = Math.max(Math.hypot(hx - sx, hy - sy), 1e-3);
        long tau = settings.timeConstantMs();
        if (s.lastTime < 0 || timeMs - s.lastTime > 2 * tau) {
            // The first sighting, or unseen for two time constants: what was measured before is stale.
            s.restart(timeMs, hx, hy, torso);
            return Double.NaN;
        }
        double dt = (timeMs - s.lastTime) / 1000.0;
        if (dt > 0) {
            double a = 1 - Math.exp(-dt * 1000.0 / tau);
            double vx = (hx - s.hipX) / s.torso / dt;
            double vy = (hy - s.hipY) / s.torso / dt;
            double vs = (Math.log(torso) - Math.log(s.lastTorso)) / dt;
            s.vx += (float) (a * (vx - s.vx));
            s.vy += (float) (a * (vy - s.vy));
            s.vScale += (float) (a * (vs - s.vScale));
            s.torso += (float) (a * (torso - s.torso));
            s.observations = Math.min(s.observations + 1, MIN_OBSERVATIONS);
        }
        s.lastTime = timeMs;
        s.hipX = (float) hx;
        s.hipY = (float) hy;
        s.lastTorso = (float) torso;
        return speed(s, aspect);
    }

    /** The person's speed in torso lengths per second as measured so far, or NaN. */
    public double speed(State s, double aspect) {
        if (s.lastTime < 0 || s.observations < MIN_OBSERVATIONS) {
            return Double.NaN;
        }
        double radial = s.vScale * focal * aspect / s.torso; // distance in torso lengths = focal (frame heights) / torso (frame heights)
        return Math.hypot(Math.hypot(s.vx, s.vy), radial);
    }

    /**
     * Lets {@code speed} decide between standing and moving in {@code probs} (in place), when one of
     * the locomotion labels is on top. Returns whether it moved anything.
     */
    public boolean gate(float[] probs, double speed) {
        if (!on() || Double.isNaN(speed)) {
            return false;
        }
        int top = io.engram.engine.pipeline.refine.ChangeRule.top(probs);
        if (speed >= settings.minSpeed()) {
            if (top != stand) {
                return false;
            }
            probs[walk] += probs[stand];
            probs[stand] = 0;
            return true;
        }
        if (top != walk && top != run) {
            return false;
        }
        probs[stand] += probs[walk];
        probs[walk] = 0;
        if (run >= 0) {
            probs[stand] += probs[run];
            probs[run] = 0;
        }
        return true;
    }

    /** The frame's aspect ratio from a person record's headers, or 1 when they are missing or bad. */
    public static double aspect(String width, String height) {
        if (width == null || height == null) {
            return 1;
        }
        try {
            double w = Integer.parseInt(width.trim());
            double h = Integer.parseInt(height.trim());
            return w > 0 && h > 0 ? w / h : 1;
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /**
     * A person's travel measure, in their payload: the last sighting of shoulders and hips (time, hip
     * midpoint, torso length, in frame heights) and the running averages (velocity across the image
     * in torso lengths per second, rate of change of log torso length per second, torso length).
     * {@value #BYTES} bytes: long time (-1: none), then 7 floats and an int.
     */
    public static final class State {
        public static final int BYTES = 8 + 7 * 4 + 4;
        long lastTime = -1;
        float hipX;
        float hipY;
        float lastTorso;
        float torso;
        float vx;
        float vy;
        float vScale;
        int observations;

        /** Frames of measured motion so far, up to {@link #MIN_OBSERVATIONS}. */
        public int observations() {
            return observations;
        }

        void restart(long timeMs, double hx, double hy, double t) {
            lastTime = timeMs;
            hipX = (float) hx;
            hipY = (float) hy;
            lastTorso = (float) t;
            torso = (float) t;
            vx = vy = vScale = 0;
            observations = 0;
        }

        void write(ByteBuffer b) {
            b.putLong(lastTime).putFloat(hipX).putFloat(hipY).putFloat(lastTorso).putFloat(torso).putFloat(vx).putFloat(vy).putFloat(vScale)
                    .putInt(observations);
        }

        static State read(ByteBuffer b) {
            State s = new State();
            s.lastTime = b.getLong();
            s.hipX = b.getFloat();
            s.hipY = b.getFloat();
            s.lastTorso = b.getFloat();
            s.torso = b.getFloat();
            s.vx = b.getFloat();
            s.vy = b.getFloat();
            s.vScale = b.getFloat();
            s.observations = b.getInt();
            return s;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof State s && s.lastTime == lastTime && s.hipX == hipX && s.hipY == hipY && s.lastTorso == lastTorso
                    && s.torso == torso && s.vx == vx && s.vy == vy && s.vScale == vScale && s.observations == observations;
        }

        @Override
        public int hashCode() {
            return Objects.hash(lastTime, hipX, hipY, lastTorso, torso, vx, vy, vScale, observations);
        }

        @Override
        public String toString() {
            return "Travel{t=" + lastTime + ", v=(" + vx + ", " + vy + ", " + vScale + "), n=" + observations + "}";
        }
    }
}

package io.engram.tools.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic built-in sensor streams for the demo, with anomalies of different kinds injected
 * at known steps after the scorer's warm-up. Each call to {@link #next(int)} returns the next
 * reading of one stream. Pure function of the seed; not thread-safe.
 */
public final class SensorSimulator {
    /** Kinds of injected anomaly. */
    public enum Kind { SPIKE, LEVEL_SHIFT, DROPOUT, NOISE_BURST, STUCK, DIP }

    /** An injected anomaly: stream, first step, kind, length in steps. */
    public record Injection(String stream, long step, Kind kind, int length) {}

    private record Profile(String name, double base, double amplitude, int period, double noise) {}

    private static final List<Profile> PROFILES = List.of(
            new Profile("boiler-temperature", 80.0, 6.0, 288, 0.4),
            new Profile("pump-vibration", 3.0, 0.5, 96, 0.08),
            new Profile("cpu-utilization", 40.0, 15.0, 288, 2.0),
            new Profile("request-rate", 1200.0, 400.0, 288, 30.0),
            new Profile("disk-latency-ms", 8.0, 1.0, 144, 0.3),
            new Profile("fan-speed-rpm", 2400.0, 120.0, 72, 10.0));

    private final List<Profile> profiles;
    private final long[] steps;
    private final double[] level;
    private final SplittableRandom random;
    private final List<Injection> injections = new ArrayList<>();
    private final long firstInjection;
    private final long spacing;

    /**
     * @param streams how many streams (at most {@value #MAX_STREAMS})
     * @param firstInjection step of the first injected anomaly in each stream (after warm-up)
     * @param spacing steps between injected anomalies in one stream
     */
    public SensorSimulator(int streams, long seed, long firstInjection, long spacing) {
        this.profiles = PROFILES.subList(0, Math.min(streams, PROFILES.size()));
        this.steps = new long[profiles.size()];
        this.level = new double[profiles.size()];
        this.random = new SplittableRandom(seed);
        this.firstInjection = firstInjection;
        this.spacing = spacing;
        for (int i = 0; i < profiles.size(); i++) {
            long s = firstInjection + i * 37L;
            for (int k = 0; k < 200; k++) {
                Kind kind = Kind.values()[(i + k) % Kind.values().length];
                int len = switch (kind) {
                    case SPIKE -> 1;
                    case LEVEL_SHIFT -> 150;
                    case DROPOUT -> 6;
                    case NOISE_BURST -> 20;
                    case STUCK -> 40;
                    case DIP -> 10;
                };
                injections.add(new Injection(profiles.get(i).name(), s, kind, len));
                s += spacing + random.nextInt((int) Math.max(1, spacing / 3));
            }
        }
    }

    public static final int MAX_STREAMS = 6;

    public int streams() {
        return profiles.size();
    }

    public String name(int stream) {
        return profiles.get(stream).name();
    }

    /** Injected anomalies of all streams, in step order per stream. */
    public List<Injection> injections() {
        return injections;
    }

    /** Injection active at {@code step} of {@code stream}, or null. */
    public Injection activeAt(String stream, long step) {
        for (Injection inj : injections) {
            if (inj.stream().equals(stream) && step >= inj.step() && step < inj.step() + inj.length()) {
                return inj;
            }
        }
        return null;
    }

    /** The next value of stream {@code i}; advances that stream by one step. */
    public double next(int i) {
        Profile p = profiles.get(i);
        long step = steps[i]++;
        double seasonal = p.amplitude() * Math.sin(2 * Math.PI * step / p.period())
                + 0.3 * p.amplitude() * Math.sin(2 * Math.PI * step / (p.period() / 3.0));
        double v = p.base() + seasonal + p.noise() * gaussian();
        Injection inj = activeAt(p.name(), step);
        if (inj != null) {
            double scale = Math.max(p.amplitude(), 5 * p.noise());
            switch (inj.kind()) {
                case SPIKE -> v += 4 * scale;
                case LEVEL_SHIFT -> v += 1.5 * scale;
                case DROPOUT -> v = 0.0;
                case NOISE_BURST -> v += 8 * p.noise() * gaussian() + 0.5 * scale * (random.nextBoolean() ? 1 : -1);
                case STUCK -> v = level[i];
                case DIP -> v -= 2.5 * scale;
            }
        }
        if (inj == null || inj.kind() != Kind.STUCK) {
            level[i] = v;
        }
        return v;
    }

    private double gaussian() {
        // Box-Muller from the seeded generator: reproducible across JVMs.
        double u1 = Math.max(random.nextDouble(), 1e-300);
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    public long firstInjection() {
        return firstInjection;
    }
}

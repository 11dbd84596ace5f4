package io.engram.tools.demo;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.runtime.PipelineRunner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The sensor pipeline's alerts in the demo: prints each as it arrives, beside the injected anomaly it
 * belongs to (or as a false alarm), and sums them up at the end. Owned by the thread that reads the
 * alerts ({@link DemoWatch}); {@link #summary} is called on it after the reading stopped.
 */
public final class SensorAlerts {
    /** Steps after an injection's end in which an alert still counts as detecting it. */
    private static final int DETECTION_WINDOW = 20;

    private record Alert(String stream, long step, SensorSimulator.Injection injection) {}

    private final SensorSimulator sim;
    private final List<Alert> alerts = new ArrayList<>();

    public SensorAlerts(SensorSimulator sim) {
        this.sim = sim;
    }

    /** Prints one alert and keeps it for the summary. */
    void onAlert(ForecastPrediction a) {
        SensorSimulator.Injection inj = matching(a.stream(), a.step());
        alerts.add(new Alert(a.stream(), a.step(), inj));
        double forecast = a.forecast() == null ? Double.NaN : a.forecast()[0];
        System.out.printf(Locale.ROOT, "%s  ANOMALY  %-20s step %5d  value %10.3f  forecast %10.3f  score %.3f  %s%n",
                DemoWatch.clock(), a.stream(), a.step(), a.values()[0], forecast, a.score(),
                inj == null ? "(no injected anomaly here: false alarm)"
                        : "<- injected " + inj.kind().name().toLowerCase(Locale.ROOT).replace('_', ' ')
                                + " at step " + inj.step());
    }

    /** The injection an alert at {@code step} belongs to: inside it or up to 20 steps after. */
    private SensorSimulator.Injection matching(String stream, long step) {
        for (SensorSimulator.Injection inj : sim.injections()) {
            if (inj.stream().equals(stream) && step >= inj.step() && step <= inj.step() + inj.length() + DETECTION_WINDOW) {
                return inj;
            }
        }
        return null;
    }

    /**
     * Prints the demo's summary of the sensor side.
     *
     * @param stepsSent readings sent per stream ({@link SensorFeed#stepsSent()})
     */
    public void summary(long[] stepsSent, PipelineRunner runner, long warmup) {
        long readings = 0;
        int injected = 0;
        int detected = 0;
        Map<SensorSimulator.Injection, Boolean> seen = new HashMap<>();
        for (Alert a : alerts) {
            if (a.injection() != null) {
                seen.put(a.injection(), true);
            }
        }
        for (int i = 0; i < sim.streams(); i++) {
            readings += stepsSent[i];
            for (SensorSimulator.Injection inj : sim.injections()) {
                // Count injections whose detection window has fully passed.
                if (inj.stream().equals(sim.name(i)) && inj.step() + inj.length() + DETECTION_WINDOW < stepsSent[i]) {
                    injected++;
                    if (seen.containsKey(inj)) {
                        detected++;
                    }
                }
            }
        }
        long falseAlarms = alerts.stream().filter(a -> a.injection() == null).count();
        double dead = 0;
        for (BadInputException.Reason r : BadInputException.Reason.values()) {
            dead += runner.metrics().deadLetterCount(r);
        }
        System.out.println();
        System.out.println("engram demo summary");
        System.out.printf("  readings sent:        %d over %d streams (%d warm-up readings per stream)%n", readings, sim.streams(), warmup);
        System.out.printf("  readings processed:   %.0f%n", runner.metrics().processedCount());
        System.out.printf("  injected anomalies:   %d (whose detection window has passed)%n", injected);
        System.out.printf("  detected:             %d%n", detected);
        System.out.printf("  alerts:               %d (%d false alarms)%n", alerts.size(), falseAlarms);
        System.out.printf("  dead letters:         %.0f (bad records sent on purpose: 3)%n", dead);
    }
}

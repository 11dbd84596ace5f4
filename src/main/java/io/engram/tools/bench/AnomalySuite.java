package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A labelled synthetic anomaly suite: series generated from a fixed seed, each with at most one
 * anomaly of a known type and start, replayed through the real sensor pipeline (by {@link NabReplay},
 * on an in-process broker), and scored as recall per anomaly type and false alarms per 10,000
 * readings on the anomaly-free series.
 *
 * <p>Every series is 8 days of 5-minute readings (2,304). Half the series have a daily shape
 * ("seasonal"), half do not ("flat": AR(1) noise around a level). An anomaly starts on day 6 or 7 at a
 * random time of day; it is caught when the pipeline alerts within one day of its start. Anomaly-free
 * series include a nightly cron job (a spike at 03:00 every day) and random isolated spikes, so that
 * recurring events that should become normal are part of the false-alarm figure.
 */
public final class AnomalySuite {
    /** The anomaly types, in report order. */
    public static final List<String> TYPES = List.of("cron_spikes", "spike_density", "daily_shape", "level_shift",
            "variance_change", "stuck", "dropout", "slow_drift");
    public static final long SEED = 20261202L;
    static final int STEPS_PER_DAY = 288;
    static final int DAYS = 8;
    static final int LENGTH = STEPS_PER_DAY * DAYS;
    /** An anomaly counts as caught if an alert fires within this many steps of its start (one day). */
    static final int CATCH_WITHIN = STEPS_PER_DAY;
    static final int SEEDS_PER_VARIANT = 3;
    static final long START = Instant.parse("2026-01-05T00:00:00Z").toEpochMilli();
    static final long STEP_MS = 300_000L;
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private AnomalySuite() {}

    /**
     * One series.
     *
     * @param type an anomaly type of {@link #TYPES}, or "none"
     * @param anomalyStart the index of the anomaly's first reading, or -1 for an anomaly-free series
     */
    public record Series(String name, String type, boolean seasonal, double[] values, int anomalyStart) {}

    /** Per type: series, caught, and the delay (steps from start to the first alert) of each catch. */
    public record TypeResult(String type, int series, int caught, double meanDelaySteps) {
        public double recall() {
            return series == 0 ? 0 : (double) caught / series;
        }
    }

    public record Report(Map<String, TypeResult> types, long cleanReadings, int cleanAlerts, double seconds) {
        /** False alarms per 10,000 readings of the anomaly-free series. */
        public double falseAlarmsPer10k() {
            return cleanReadings == 0 ? 0 : 10_000.0 * cleanAlerts / cleanReadings;
        }

        public int typesCaught() {
            return (int) types.values().stream().filter(t -> t.caught() > 0).count();
        }

        public double meanRecall() {
            return types.values().stream().mapToDouble(TypeResult::recall).average().orElse(0);
        }
    }

    /** The suite's series, the same for the same seed. */
    public static List<Series> generate(long seed) {
        List<Series> out = new ArrayList<>();
        SplittableRandom root = new SplittableRandom(seed);
        for (String type : TYPES) {
            for (boolean seasonal : new boolean[] {true, false}) {
                for (int k = 0; k < SEEDS_PER_VARIANT; k++) {
                    SplittableRandom r = root.split();
                    out.add(anomalous(type, seasonal, k, r));
                }
            }
        }
        String[] clean = {"plain", "cron", "spikes"};
        for (String kind : clean) {
            for (boolean seasonal : new boolean[] {true, false}) {
                for (int k = 0; k < 2; k++) {
                    SplittableRandom r = root.split();
                    double[] v = base(seasonal, r).values();
                    if (kind.equals("cron")) {
                        cron(v, 1.0);
                    } else if (kind.equals("spikes")) {
                        randomSpikes(v, r, 0, LENGTH, 1.0 / 200);
                    }
                    out.add(new Series("none/" + kind + "-" + (seasonal ? "seasonal" : "flat") + "-" + k, "none", seasonal, v, -1));
                }
            }
        }
        return out;
    }

    /** Noise standard deviation of every base series: anomaly sizes are in these units. */
    static final double SD = 2.0;

    /** A base series and its daily component (zero for a flat one). */
    private record Base(double[] values, double[] season) {}

    private static Base base(boolean seasonal, SplittableRandom r) {
        double[] v = new double[LENGTH];
        double[] season = new double[LENGTH];
        double level = 40 + 20 * r.nextDouble();
        double phase = r.nextDouble() * STEPS_PER_DAY;
        double amp = 15 + 10 * r.nextDouble();
        double ar = 0;
        for (int i = 0; i < LENGTH; i++) {
            ar = 0.7 * ar + Math.sqrt(1 - 0.49) * gauss(r) * SD;
            double x = level + ar;
            if (seasonal) {
                season[i] = amp * dailyShape(i + phase);
                x += season[i];
            }
            v[i] = x;
        }
        return new Base(v, season);
    }

    /** A daily activity bump in [0, 1]: low at night, a broad peak in the day. */
    private static double dailyShape(double i) {
        double u = 2 * Math.PI * i / STEPS_PER_DAY;
        return Math.exp(2.5 * (Math.cos(u) - 1));
    }

    private static void cron(double[] v, double size) {
        int at = 3 * 12; // 03:00
        for (int d = 0; d < DAYS; d++) {
            for (int j = 0; j < 2; j++) {
                v[d * STEPS_PER_DAY + at + j] += size * 8 * SD;
            }
        }
    }

    private static void randomSpikes(double[] v, SplittableRandom r, int from, int to, double rate) {
        for (int i = from; i < to; i++) {
            if (r.nextDouble() < rate) {
                v[i] += 6 * SD;
            }
        }
    }

    private static Series anomalous(String type, boolean seasonal, int k, SplittableRandom r) {
        Base b = base(seasonal, r);
        double[] v = b.values();
        int start = 5 * STEPS_PER_DAY + r.nextInt(2 * STEPS_PER_DAY - 60);
        switch (type) {
            case "cron_spikes" -> {
                // A nightly job is normal; on the anomaly's day it runs away: 4 times higher, 3 times longer.
                cron(v, 1.0);
                int day = start / STEPS_PER_DAY;
                start = day * STEPS_PER_DAY + 36;
                for (int j = 0; j < 6; j++) {
                    v[start + j] += (j < 2 ? 3 : 4) * 8 * SD;
                }
            }
            case "spike_density" -> {
                randomSpikes(v, r, 0, start, 1.0 / 200);
                randomSpikes(v, r, start, Math.min(LENGTH, start + STEPS_PER_DAY), 1.0 / 8);
                randomSpikes(v, r, Math.min(LENGTH, start + STEPS_PER_DAY), LENGTH, 1.0 / 200);
            }
            case "daily_shape" -> {
                // Seasonal: the day's activity comes 8 hours late for a day. Flat: a 3-hour hump appears.
                if (seasonal) {
                    double[] season = b.season();
                    for (int i = start; i < Math.min(LENGTH, start + STEPS_PER_DAY); i++) {
                        v[i] += season[Math.max(0, i - 96)] - season[i];
                    }
                } else {
                    for (int i = start; i < start + 36; i++) {
                        v[i] += 4 * SD * Math.sin(Math.PI * (i - start) / 36);
                    }
                }
            }
            case "level_shift" -> {
                for (int i = start; i < LENGTH; i++) {
                    v[i] += 5 * SD;
                }
            }
            case "variance_change" -> {
                for (int i = start; i < LENGTH; i++) {
                    v[i] += 3 * SD * gauss(r);
                }
            }
            case "stuck" -> {
                for (int i = start + 1; i < Math.min(LENGTH, start + 144); i++) {
                    v[i] = v[start];
                }
            }
            case "dropout" -> {
                for (int i = start; i < start + 24; i++) {
                    v[i] = 0.0;
                }
            }
            case "slow_drift" -> {
                for (int i = start; i < LENGTH; i++) {
                    v[i] += 8 * SD * Math.min(1.0, (i - start) / (double) STEPS_PER_DAY);
                }
            }
            default -> throw new IllegalArgumentException(type);
        }
        return new Series(type + "/" + (seasonal ? "seasonal" : "flat") + "-" + k, type, seasonal, v, start);
    }

    private static double gauss(SplittableRandom r) {
        // Box-Muller written out, so that the series do not depend on a JDK's Gaussian algorithm.
        double u = Math.max(r.nextDouble(), 1e-300);
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * Writes the series as NAB-format CSVs under {@code dir} ({@code <type>/<name>.csv}: timestamp,value)
     * and their labels to {@code labelsFile}, which must not be under {@code dir}: the replay reads every
     * {@code .csv} there as a series.
     */
    public static void write(List<Series> suite, Path dir, Path labelsFile) throws IOException {
        Files.createDirectories(dir);
        StringBuilder labels = new StringBuilder("name,type,seasonal,anomaly_start,anomaly_start_time\n");
        for (Series s : suite) {
            Path f = dir.resolve(s.name() + ".csv");
            Files.createDirectories(f.getParent());
            try (BufferedWriter w = Files.newBufferedWriter(f, StandardCharsets.UTF_8)) {
                w.write("timestamp,value\n");
                for (int i = 0; i < s.values().length; i++) {
                    w.write(TS.format(Instant.ofEpochMilli(START + i * STEP_MS)));
                    w.write(',');
                    w.write(String.format(Locale.ROOT, "%.6f", s.values()[i]));
                    w.write('\n');
                }
            }
            labels.append(s.name()).append(',').append(s.type()).append(',').append(s.seasonal()).append(',').append(s.anomalyStart())
                    .append(',').append(s.anomalyStart() < 0 ? "" : TS.format(Instant.ofEpochMilli(START + s.anomalyStart() * STEP_MS)))
                    .append('\n');
        }
        Files.writeString(labelsFile, labels.toString());
    }

    /**
     * Generates the suite, replays it through the pipeline and scores it. {@code work} receives the
     * series ({@code work/data}) and the pipeline's result files ({@code work/results}, NAB format
     * with an alert column).
     */
    public static Report run(PipelineSpec spec, Path work, PrintStream progress) throws Exception {
        List<Series> suite = generate(SEED);
        Path data = work.resolve("data");
        Path results = work.resolve("results");
        write(suite, data, work.resolve("labels.csv"));
        NabReplay.Report r = NabReplay.run(spec, data, results, progress);
        return score(suite, results, r.seconds());
    }

    /** Recall per type and false alarms, from result files with an {@code alert} column. */
    static Report score(List<Series> suite, Path results, double seconds) throws IOException {
        Map<String, int[]> counts = new LinkedHashMap<>();
        Map<String, long[]> delays = new LinkedHashMap<>();
        for (String t : TYPES) {
            counts.put(t, new int[2]);
            delays.put(t, new long[1]);
        }
        long cleanReadings = 0;
        int cleanAlerts = 0;
        for (Series s : suite) {
            boolean[] alerts = alerts(results.resolve(s.name() + ".csv"), s.values().length);
            if (s.anomalyStart() < 0) {
                cleanReadings += s.values().length;
                for (boolean a : alerts) {
                    cleanAlerts += a ? 1 : 0;
                }
                continue;
            }
            int[] c = counts.get(s.type());
            c[0]++;
            for (int i = s.anomalyStart(); i < Math.min(alerts.length, s.anomalyStart() + CATCH_WITHIN); i++) {
                if (alerts[i]) {
                    c[1]++;
                    delays.get(s.type())[0] += i - s.anomalyStart();
                    break;
                }
            }
        }
        Map<String, TypeResult> types = new LinkedHashMap<>();
        for (String t : TYPES) {
            int[] c = counts.get(t);
            types.put(t, new TypeResult(t, c[0], c[1], c[1] == 0 ? Double.NaN : (double) delays.get(t)[0] / c[1]));
        }
        return new Report(types, cleanReadings, cleanAlerts, seconds);
    }

    private static boolean[] alerts(Path f, int n) throws IOException {
        List<String> lines = Files.readAllLines(f);
        String[] header = lines.get(0).split(",", -1);
        int col = java.util.Arrays.asList(header).indexOf("alert");
        if (col < 0 || lines.size() - 1 != n) {
            throw new IOException(f + ": expected " + n + " result rows with an alert column");
        }
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = lines.get(i + 1).split(",", -1)[col].equals("1");
        }
        return out;
    }

    /** The report as a Markdown table, as it appears in docs/benchmarks.md and the model card. */
    public static String table(Report r) {
        StringBuilder sb = new StringBuilder();
        sb.append("| anomaly type | series | caught within a day | recall | mean delay (readings) |\n|---|---|---|---|---|\n");
        for (TypeResult t : r.types().values()) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.2f | %s |%n", t.type(), t.series(), t.caught(), t.recall(),
                    Double.isNaN(t.meanDelaySteps()) ? "-" : String.format(Locale.ROOT, "%.0f", t.meanDelaySteps())));
        }
        sb.append(String.format(Locale.ROOT, "%nMean recall %.2f; %d of %d types caught at least once; false alarms on the anomaly-free"
                + " series: %d in %d readings = %.1f per 10,000 readings.%n", r.meanRecall(), r.typesCaught(), r.types().size(),
                r.cleanAlerts(), r.cleanReadings(), r.falseAlarmsPer10k()));
        return sb.toString();
    }
}

package io.engram.tools.bench;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.config.PipelineSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.model.ModelManifest;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import java.util.SplittableRandom;
import io.engram.tools.harness.TopicReader;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Throughput of the full sensor pipeline on the in-process broker, beside the same topology with
 * the model call removed and beside the windowed baseline ({@link WindowedBaseline}: the same GRU
 * rerun over each stream's last T readings for every record), on the same broker and the same
 * input topic in one run. The input is produced once; each pass is a fresh application id (fresh
 * state) reading it from the start. Each pass's clock starts at its first processed record (Kafka
 * Streams' start-up, group join and topic creation are not throughput) and stops when every record
 * has been processed. Passes alternate (baseline, model, windowed, ...) so that JIT warm-up
 * favours none; the report takes medians of the rounds after the first.
 */
public final class SensorBenchmark {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private SensorBenchmark() {}

    /**
     * One pass: {@code records} processed while the clock ran, in {@code seconds}. The clock starts
     * when the first processed record is seen, which may be after a first batch of several: those
     * are processed but not timed (a round once showed 199,990 of 200,000 this way, none lost; the
     * progress line gives both counts).
     */
    public record Pass(String name, long records, double seconds) {
        public double rate() {
            return records / seconds;
        }
    }

    /**
     * @param passes every pass, in order
     * @param window the windowed baseline's T (0 when it did not run)
     * @param rmsFull RMS difference of the windowed forecasts from the stateful ones, over records whose window is full
     * @param rmsAll the same over every record
     * @param readingStd the standard deviation of the readings, for scale
     * @param compared records compared for {@code rmsFull}
     */
    public record Result(List<Pass> passes, int window, double rmsFull, double rmsAll, double readingStd, long compared) {}

    public static final String NO_MODEL = "no-model";
    /** The model call removed and the scorer cut to its forecast channel: what the pipeline costs without the model and the channels. */
    public static final String BARE = "bare";
    public static final String MODEL = "model";
    public static final String WINDOWED = "windowed";

    public static Result run(PipelineSpec base, int streams, int records, int rounds, int window) throws Exception {
        List<Pass> passes = new ArrayList<>();
        ModelManifest manifest = ModelManifest.load(base.modelManifest());
        Path windowModel = WindowedBaseline.windowModelOf(manifest);
        boolean windowed = window > 0;
        if (windowed && !Files.exists(windowModel)) {
            throw new ConfigException("The windowed baseline needs " + windowModel + ", the full-sequence export of "
                    + manifest.onnxFile() + ". Fix: run /usr/bin/python3 models/sensor-forecaster/export_window.py, or --window 0");
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bootstrap = kafka.bootstrapServers();
            String input = base.topics().name(AnomalyPipeline.INPUT);
            EmbeddedKafka.createTopics(bootstrap, base.topics().partitions(), (short) 1, input);
            produce(bootstrap, input, streams, records);
            String lastModel = null;
            String lastWindowed = null;
            for (int round = 0; round < rounds; round++) {
                for (String name : windowed ? List.of(BARE, NO_MODEL, MODEL, WINDOWED) : List.of(BARE, NO_MODEL, MODEL)) {
                    String suffix = "-" + name + "-" + round;
                    PipelineSpec cfg = base.withApplicationId("engram-bench" + suffix)
                            .withMetricsPort(0)
                            .withTopics(base.topics().withSuffix(suffix).with(AnomalyPipeline.INPUT, input));
                    if (name.equals(BARE)) {
                        cfg = forecastChannelOnly(cfg);
                    } else if (name.equals(WINDOWED)) {
                        cfg = WindowedBaseline.of(cfg, windowModel, window);
                        lastWindowed = cfg.topics().name(ForecastHead.PREDICTIONS);
                    } else if (name.equals(MODEL)) {
                        lastModel = cfg.topics().name(ForecastHead.PREDICTIONS);
                    }
                    Path state = Files.createTempDirectory("engram-bench-");
                    try (PipelineRunner r = PipelineRunner.start(cfg, bootstrap, state, new SimpleMeterRegistry(),
                            name.equals(NO_MODEL) || name.equals(BARE) ? PipelineRunner.StartOptions.DEFAULTS.withoutModel()
                                    : PipelineRunner.StartOptions.DEFAULTS)) {
                        long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
                        while (r.metrics().processedCount() < 1 && System.nanoTime() < deadline) {
                            Thread.sleep(1);
                        }
                        long t0 = System.nanoTime();
                        double n0 = r.metrics().processedCount();
                        while (r.metrics().processedCount() < records && System.nanoTime() < deadline) {
                            Thread.sleep(5);
                        }
                        double secs = (System.nanoTime() - t0) / 1e9;
                        double all = r.metrics().processedCount();
                        long n = (long) (all - n0);
                        passes.add(new Pass(name, n, secs));
                        System.err.printf(Locale.ROOT, "  round %d %-8s %,d records in %.2f s = %,.0f records/s (%,.0f of %,d processed; the"
                                + " %,.0f before the clock started are not timed)%s%n", round, name, n, secs, n / secs, all, records, n0,
                                all < records ? " INCOMPLETE: the pass ran out of time" : "");
                    }
                }
            }
            if (!windowed) {
                return new Result(passes, 0, Double.NaN, Double.NaN, Double.NaN, 0);
            }
            return compare(bootstrap, passes, window, lastModel, lastWindowed, records);
        }
    }

    /** {@code cfg} with every scoring channel but the forecast one turned off (the scorer's least work). */
    static PipelineSpec forecastChannelOnly(PipelineSpec cfg) {
        io.engram.engine.pipeline.anomaly.ForecastSettings fs = (io.engram.engine.pipeline.anomaly.ForecastSettings) cfg.settings();
        io.engram.engine.pipeline.anomaly.ScoringConfig sc = fs.scoring();
        for (io.engram.engine.pipeline.anomaly.ScoringConfig.Channel c : io.engram.engine.pipeline.anomaly.ScoringConfig.Channel.values()) {
            if (c != io.engram.engine.pipeline.anomaly.ScoringConfig.Channel.FORECAST && sc.channels().contains(c)) {
                sc = sc.without(c);
            }
        }
        return cfg.withSettings(fs.withScoring(sc));
    }

    /** Reads both pipelines' forecasts back and compares them per stream and event time. */
    private static Result compare(String bootstrap, List<Pass> passes, int window, String stateful, String windowedTopic, int records)
            throws java.io.IOException {
        Map<String, double[]> byKey = new HashMap<>(); // stream + event time -> stateful next forecast, step
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readCommitted(bootstrap, stateful, records, Duration.ofMinutes(2))) {
            JsonNode p = JSON.readTree(r.value());
            byKey.put(key(r) + "@" + p.get("event_time").asLong(), new double[] {p.get("next_forecast").get(0).asDouble(), p.get("step").asLong()});
            double v = p.get("values").get(0).asDouble();
            sum += v;
            sumSq += v * v;
            n++;
        }
        double mean = sum / n;
        double std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
        double full = 0;
        double all = 0;
        long nFull = 0;
        long nAll = 0;
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readCommitted(bootstrap, windowedTopic, records, Duration.ofMinutes(2))) {
            JsonNode p = JSON.readTree(r.value());
            double[] s = byKey.get(key(r) + "@" + p.get("event_time").asLong());
            if (s == null) {
                continue;
            }
            double d = p.get("next_forecast").get(0).asDouble() - s[0];
            all += d * d;
            nAll++;
            if (s[1] >= window - 1) {
                full += d * d;
                nFull++;
            }
        }
        return new Result(passes, window, Math.sqrt(full / nFull), Math.sqrt(all / nAll), std, nFull);
    }

    /** ONNX Runtime alone, the step model on one thread: microseconds per step at batch 1, and per key at batch 256. */
    public record Ort(double batch1Micros, double batch256MicrosPerKey, double windowMicros) {}

    /** As {@link #ort(PipelineSpec, int)} without the window model. */
    public static Ort ort(PipelineSpec base) {
        return ort(base, 0);
    }

    /** ONNX Runtime alone: the step at batch 1 and 256, and (window > 0) the window model over {@code window} readings. */
    public static Ort ort(PipelineSpec base, int window) {
        ModelManifest m = ModelManifest.load(base.modelManifest());
        try (io.engram.engine.model.StepSession model = io.engram.engine.model.StepSession.load(m)) {
            double one;
            try (io.engram.engine.model.OnnxStep s = model.newStep(1)) {
                float[] x = new float[m.input().size()];
                float[] h = new float[m.stateFloats()];
                float[] y = new float[m.output().size()];
                for (int i = 0; i < 5_000; i++) { // warm-up
                    x[0] = (float) Math.sin(i);
                    s.step(x, h, y);
                }
                int n = 50_000;
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    x[0] = (float) Math.sin(i);
                    s.step(x, h, y);
                }
                one = (System.nanoTime() - t0) / 1e3 / n;
            }
            double many;
            int b = 256;
            try (io.engram.engine.model.OnnxStep s = model.newStep(b)) {
                float[] x = new float[b * m.input().size()];
                float[] h = new float[b * m.stateFloats()];
                float[] y = new float[b * m.output().size()];
                for (int i = 0; i < 200; i++) {
                    s.stepBatch(x, h, y);
                }
                int n = 2_000;
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    x[i % x.length] = (float) Math.sin(i);
                    s.stepBatch(x, h, y);
                }
                many = (System.nanoTime() - t0) / 1e3 / n / b;
            }
            double win = Double.NaN;
            Path wm = WindowedBaseline.windowModelOf(m);
            if (window > 0 && Files.exists(wm)) {
                try (io.engram.engine.model.WindowModel w = io.engram.engine.model.WindowModel.load(wm, window, m.input().size(), m.output().size())) {
                    float[] z = new float[window * m.input().size()];
                    float[] y = new float[m.output().size()];
                    for (int i = 0; i < 500; i++) {
                        w.run(z, y);
                    }
                    int n = 5_000;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        z[i % z.length] = (float) Math.sin(i);
                        w.run(z, y);
                    }
                    win = (System.nanoTime() - t0) / 1e3 / n;
                }
            }
            return new Ort(one, many, win);
        }
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** {@code records} JSON readings, round robin over {@code streams} streams, a minute apart per stream. */
    static void produce(String bootstrap, String topic, int streams, int records) {
        Map<String, Object> p = Map.of(ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        SplittableRandom rnd = new SplittableRandom(7);
        long start = 1_700_000_000_000L;
        try (KafkaProducer<String, byte[]> producer = io.engram.tools.kafka.KafkaClients.keyedProducer(bootstrap, p)) {
            for (int i = 0; i < records; i++) {
                int s = i % streams;
                long ts = start + (i / streams) * 60_000L;
                double v = 10 + 3 * Math.sin(i / (double) streams / 50.0) + rnd.nextGaussian() * 0.2;
                String json = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.5f]}", ts, v);
                producer.send(new ProducerRecord<>(topic, null, ts, "sensor-" + s, json.getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }
}

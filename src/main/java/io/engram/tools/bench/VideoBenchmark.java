package io.engram.tools.bench;

import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.pipeline.video.FramePreprocessor;
import io.engram.engine.pipeline.video.FrameStage;
import java.io.PrintStream;
import java.util.Locale;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Video pipeline benchmark on the in-process broker, for 320x240 JPEG input:
 *
 * <ol>
 *   <li>the raw ONNX Runtime throughput of the encoder on decoded, preprocessed frames;
 *   <li>the same work as the pipeline without Kafka: decode, preprocess, encode, step the GRU;
 *   <li>the pipeline's frames/s for each layout (fused, split) and profile (live, throughput), each
 *       pass a fresh application reading the same frames, its clock started at its first encoded frame;
 *       in rounds, each figure the median of the rounds after the first;
 *   <li>frame-timestamp-to-prediction latency (p50, p99, p999) for each of these at 50% and 90% of
 *       its own measured maximum, on live traffic, counted after a warm-up.
 * </ol>
 *
 * A benchmark: numbers depend on the machine.
 */
public final class VideoBenchmark {
    private VideoBenchmark() {}

    /** Latency at one offered rate: percentiles over the samples after the warm-up. */
    public record Latency(double loadFraction, double rateFps, double p50Ms, double p99Ms, double p999Ms, int samples) {}

    /** One layout and profile: its maximum frames/s and its latencies. */
    public record Pass(FrameStage.Layout layout, String profile, double fps, List<Latency> latencies) {
        /** e.g. {@code fused.live}. */
        public String name() {
            return layout.yaml() + "." + profile;
        }

        public Latency at(double load) {
            return latencies.stream().filter(l -> l.loadFraction() == load).findFirst().orElse(null);
        }
    }

    /**
     * @param rawEncoderFps the encoder alone on decoded, preprocessed frames (ONNX Runtime, batch 1, one thread)
     * @param computeFps JPEG decode + preprocessing + encoder + GRU step on one thread, no Kafka: the work the pipeline must do
     * @param passes the pipeline on the in-process broker, one per layout and profile
     * @param refineOff when the file refines: the fused layout, live profile, with refinement off
     *     (its latency at the offered rate of the refined pass's 50%), else null
     */
    public record Report(double rawEncoderFps, double computeFps, List<Pass> passes, Pass refineOff) {
        public Pass pass(FrameStage.Layout layout, String profile) {
            return passes.stream().filter(p -> p.layout() == layout && p.profile().equals(profile)).findFirst().orElseThrow();
        }
    }

    /** Latency samples of frames sent in the first seconds of a pass are dropped: start-up is not latency. */
    static final Duration LATENCY_WARMUP = Duration.ofSeconds(5);

    /** The loads the latency is measured at, as fractions of the pass's maximum rate. */
    static final double[] LOADS = {0.5, 0.9};

    static final List<String> PROFILES = List.of(PipelineSpec.Processing.LIVE, PipelineSpec.Processing.THROUGHPUT);

    /** 320x240 JPEG frames made from the bundled clip: each 64x64 frame scaled up and placed on a textured background. */
    static List<byte[]> frames(Path clipDir, int count) throws Exception {
        List<Path> pngs;
        try (var s = Files.list(clipDir)) {
            pngs = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            BufferedImage small = ImageIO.read(pngs.get(i % pngs.size()).toFile());
            BufferedImage big = new BufferedImage(320, 240, BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = big.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(small, 40, 0, 240, 240, null);
            g.dispose();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            ImageIO.write(big, "jpeg", b);
            out.add(b.toByteArray());
        }
        return out;
    }

    /** {@code base} with a layout and a profile (and the profile's commit interval). */
    static PipelineSpec variant(PipelineSpec base, FrameStage.Layout layout, String profile) {
        VideoActivityPipeline.Settings s = base.settings(VideoActivityPipeline.INSTANCE);
        PipelineSpec.Processing pr = base.processing();
        return base.withSettings(s.withLayout(layout, s.writeFeatures()))
                .withProcessing(new PipelineSpec.Processing(pr.guarantee(), PipelineSpec.Processing.defaultCommitIntervalMs(profile),
                        pr.threads(), pr.standbyReplicas(), profile, pr.errorWindow(), pr.maxErrorShare()));
    }

    /** Runs the four steps (see the class comment) and returns their figures; progress goes to {@code progress}. */
    public static Report run(PipelineSpec base, Path clipDir, int frameCount, int rounds, int latencySeconds, PrintStream progress)
            throws Exception {
        List<byte[]> jpegs = frames(clipDir, Math.min(frameCount, 2000));
        ModelManifest em = ModelManifest.load(base.settings(VideoActivityPipeline.INSTANCE).encoderManifest());
        // 1. Raw encoder throughput on decoded, preprocessed frames (batch 1, one thread, as the pipeline runs it).
        double rawFps = EncoderBenchmark.rawFps(em, jpegs, frameCount);
        // 2. The same work as the pipeline without Kafka: decode, preprocess, encode, step the GRU.
        double computeFps = EncoderBenchmark.computeFps(base, em, jpegs, frameCount);
        progress.printf(Locale.ROOT, "  encoder alone %.0f frames/s; decode + CNN + GRU without Kafka %.0f frames/s%n", rawFps, computeFps);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            OnBroker b = new OnBroker(base, kafka.bootstrapServers(), jpegs, frameCount, rounds, latencySeconds, progress);
            // 3. Throughput: the frames are produced once; each pass reads them all from the start.
            String input = b.produceFrames();
            java.util.Map<String, List<Double>> rates = b.throughputRounds(input);
            // 4. Latency of each layout and profile, after a pass that warms up the JVM.
            b.warmUpLatency(rates);
            List<Pass> passes = b.latencyPasses(rates);
            Pass refineOff = base.settings(VideoActivityPipeline.INSTANCE).refine() != null ? b.refineOff(input, passes) : null;
            return new Report(rawFps, computeFps, passes, refineOff);
        }
    }

    /**
     * Steps 3 and 4: the pipeline's variants on one in-process broker at {@code bootstrap}, whose
     * lifetime the caller owns; each pass starts and closes a pipeline of its own.
     */
    private record OnBroker(PipelineSpec base, String bootstrap, List<byte[]> jpegs, int frameCount, int rounds, int latencySeconds,
            PrintStream progress) {
        /** Produces the frames once, to a topic of their own; returns that topic. */
        String produceFrames() throws Exception {
            String input = base.topics().name(VideoActivityPipeline.FRAMES) + "-bench";
            EmbeddedKafka.createTopics(bootstrap, base.topics().partitions(), (short) 1, input);
            try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
                for (int i = 0; i < frameCount; i++) {
                    p.send(frame(input, "cam-" + (i % 4), jpegs.get(i % jpegs.size()), i / 4, 1_700_000_000_000L + i * 25L));
                }
                p.flush();
            }
            return input;
        }

        /**
         * Rounds of every layout and profile in turn; each figure is the median of the rounds after
         * the first (the first pass of a JVM runs Kafka Streams' code cold). Frames/s by
         * {@code layout-profile}, one per round.
         */
        java.util.Map<String, List<Double>> throughputRounds(String input) throws Exception {
            java.util.Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
            for (int round = 0; round < Math.max(1, rounds); round++) {
                for (FrameStage.Layout layout : FrameStage.Layout.values()) {
                    for (String profile : PROFILES) {
                        String name = layout.yaml() + "-" + profile;
                        double fps = throughput(variant(base, layout, profile), bootstrap, input, frameCount, name + "-" + round);
                        progress.printf(Locale.ROOT, "  round %d, %s, %s: %.0f frames/s%n", round, layout.yaml(), profile, fps);
                        rates.computeIfAbsent(name, k -> new ArrayList<>()).add(fps);
                    }
                }
            }
            return rates;
        }

        /**
         * One latency pass whose figures are dropped: the first live pass of a JVM is slow (JIT
         * compilation of the producer, consumer and pipeline paths at a live rate), measured at p99
         * three times that of the passes after it.
         */
        void warmUpLatency(java.util.Map<String, List<Double>> rates) throws Exception {
            double warm = Benchmarks.medianAfterFirst(rates.get("fused-" + PipelineSpec.Processing.LIVE)) * 0.5;
            Latency w = latency(variant(base, FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE), bootstrap, jpegs, warm, 0.5,
                    latencySeconds);
            progress.printf(Locale.ROOT, "  warm-up latency pass (dropped): p50 %.0f ms, p99 %.0f ms%n", w.p50Ms(), w.p99Ms());
        }

        /** Each layout and profile: its median frames/s, and its latency at each of {@link VideoBenchmark#LOADS} of it. */
        List<Pass> latencyPasses(java.util.Map<String, List<Double>> rates) throws Exception {
            List<Pass> passes = new ArrayList<>();
            for (FrameStage.Layout layout : FrameStage.Layout.values()) {
                for (String profile : PROFILES) {
                    PipelineSpec v = variant(base, layout, profile);
                    double fps = Benchmarks.medianAfterFirst(rates.get(layout.yaml() + "-" + profile));
                    // Latency at 50% and 90% of this pass's maximum, live (capture time = now), each on a pipeline of its own.
                    List<Latency> latencies = new ArrayList<>();
                    for (double load : LOADS) {
                        Latency l = latency(v, bootstrap, jpegs, fps * load, load, latencySeconds);
                        progress.printf(Locale.ROOT, "  %s, %s at %.0f%% (%.0f frames/s): p50 %.0f ms, p99 %.0f ms%n", layout.yaml(), profile,
                                load * 100, fps * load, l.p50Ms(), l.p99Ms());
                        latencies.add(l);
                    }
                    passes.add(new Pass(layout, profile, fps, latencies));
                }
            }
            return passes;
        }

        /**
         * The cost of refinement: the fused, live pipeline without it, in rounds as above, and its
         * latency at the same offered rate as the refined one's 50%.
         */
        Pass refineOff(String input, List<Pass> passes) throws Exception {
            PipelineSpec off = variant(base, FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE);
            off = off.withSettings(off.settings(VideoActivityPipeline.INSTANCE).withRefine(null));
            List<Double> offRates = new ArrayList<>();
            for (int round = 0; round < Math.max(1, rounds); round++) {
                offRates.add(throughput(off, bootstrap, input, frameCount, "fused-live-norefine-" + round));
                progress.printf(Locale.ROOT, "  round %d, fused, live, refinement off: %.0f frames/s%n", round, offRates.get(round));
            }
            Pass on = passes.stream().filter(x -> x.layout() == FrameStage.Layout.FUSED && x.profile().equals(PipelineSpec.Processing.LIVE))
                    .findFirst().orElseThrow();
            Latency l = latency(off, bootstrap, jpegs, on.at(0.5).rateFps(), 0.5, latencySeconds);
            progress.printf(Locale.ROOT, "  fused, live, refinement off, at %.0f frames/s: p50 %.0f ms, p99 %.0f ms%n", l.rateFps(), l.p50Ms(),
                    l.p99Ms());
            return new Pass(FrameStage.Layout.FUSED, PipelineSpec.Processing.LIVE, Benchmarks.medianAfterFirst(offRates), List.of(l));
        }
    }

    /** Frames/s of {@code spec} over the {@code frameCount} frames on {@code input}, from its first prediction to its last. */
    static double throughput(PipelineSpec spec, String bootstrap, String input, int frameCount, String name) throws Exception {
        String suffix = "-bench-" + name;
        PipelineSpec cfg = spec.withApplicationId("engram-video-bench-" + name + "-" + UUID.randomUUID()).withMetricsPort(0)
                .withTopics(spec.topics().withSuffix(suffix).with(VideoActivityPipeline.FRAMES, input));
        Path state = Files.createTempDirectory("engram-video-bench-");
        try (PipelineRunner r = PipelineRunner.start(cfg, bootstrap, state, new SimpleMeterRegistry())) {
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            // The clock starts at the first frame encoded, not at start-up: Kafka Streams' start
            // (group join, topic creation, RocksDB) is not frame throughput. Not at the first
            // prediction either: in the split layout the CNN stage runs ahead of the step by a
            // commit, which would leave some of its work off the clock.
            while (r.metrics().encodedCount() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            long t0 = System.nanoTime();
            while (r.metrics().processedCount() < frameCount && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            double fps = r.metrics().processedCount() / ((System.nanoTime() - t0) / 1e9);
            // Where the time goes: Kafka Streams' own count and mean duration of its commits.
            System.err.printf(Locale.ROOT, "  %s: %s commits, %s ms mean commit, %s ms mean poll%n", name, threadMetric(r, "commit-total"),
                    threadMetric(r, "commit-latency-avg"), threadMetric(r, "poll-latency-avg"));
            return fps;
        }
    }

    private static String threadMetric(PipelineRunner r, String name) {
        for (var e : r.streams().metrics().entrySet()) {
            if (e.getKey().name().equals(name) && e.getKey().group().equals("stream-thread-metrics")) {
                Object v = e.getValue().metricValue();
                return v instanceof Double d ? String.format(Locale.ROOT, "%.1f", d) : String.valueOf(v);
            }
        }
        return "?";
    }

    static Latency latency(PipelineSpec base, String bootstrap, List<byte[]> jpegs, double rate, double load, int latencySeconds)
            throws Exception {
        PipelineSpec live = base.withApplicationId("engram-video-latency-" + UUID.randomUUID()).withMetricsPort(0)
                .withTopics(base.topics().withSuffix("-latency-" + UUID.randomUUID()));
        Path state2 = Files.createTempDirectory("engram-video-lat-");
        List<Double> latencies = new ArrayList<>();
        try (PipelineRunner r = PipelineRunner.start(live, bootstrap, state2, new SimpleMeterRegistry());
                KafkaProducer<String, byte[]> p = producer(bootstrap);
                KafkaConsumer<String, byte[]> c = consumer(bootstrap, live.topics().name(ActivityHead.PREDICTIONS))) {
            if (!r.awaitRunning(Duration.ofSeconds(60))) {
                throw new IllegalStateException("latency pipeline did not start");
            }
            c.poll(Duration.ofMillis(500));
            long start = System.nanoTime();
            long measuredFrom = System.currentTimeMillis() + LATENCY_WARMUP.toMillis();
            long sent = 0;
            long end = start + Duration.ofSeconds(latencySeconds).plus(LATENCY_WARMUP).toNanos();
            while (System.nanoTime() < end) {
                long due = start + (long) (sent * 1e9 / rate);
                if (System.nanoTime() >= due) {
                    p.send(frame(live.topics().name(VideoActivityPipeline.FRAMES), "cam-" + (sent % 4), jpegs.get((int) (sent % jpegs.size())), sent / 4,
                            System.currentTimeMillis()));
                    sent++;
                }
                collect(c.poll(Duration.ofMillis(1)), measuredFrom, latencies);
            }
            long drain = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < drain) {
                collect(c.poll(Duration.ofMillis(50)), measuredFrom, latencies);
            }
        }
        double[] l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Latency(load, rate, pct(l, 0.50), pct(l, 0.99), pct(l, 0.999), l.length);
    }

    /** Adds the latency (now minus the record's timestamp, its frame's capture time) of each record stamped at or after {@code measuredFrom}. */
    static void collect(Iterable<ConsumerRecord<String, byte[]>> records, long measuredFrom, List<Double> out) {
        for (ConsumerRecord<String, byte[]> rec : records) {
            if (rec.timestamp() >= measuredFrom) {
                out.add((double) (System.currentTimeMillis() - rec.timestamp()));
            }
        }
    }

    /** The {@code q} quantile of {@code sorted} (the sample at floor(q n)); NaN for none. */
    static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }

    private static ProducerRecord<String, byte[]> frame(String topic, String camera, byte[] jpeg, long seq, long ts) {
        RecordHeaders h = new RecordHeaders();
        h.add(FrameEncodeProcessor.H_CONTENT_TYPE, FramePreprocessor.JPEG.getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_WIDTH, "320".getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_HEIGHT, "240".getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic, null, ts, camera, jpeg, h);
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        return io.engram.tools.kafka.KafkaClients.keyedProducer(bootstrap, java.util.Map.of(ProducerConfig.LINGER_MS_CONFIG, 1));
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrap, String topic) {
        KafkaConsumer<String, byte[]> c = io.engram.tools.kafka.KafkaClients.outputReader(bootstrap, "lat-" + UUID.randomUUID(), java.util.Map.of());
        c.subscribe(List.of(topic));
        return c;
    }

}

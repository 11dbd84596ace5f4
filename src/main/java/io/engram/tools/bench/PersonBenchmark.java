package io.engram.tools.bench;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.PoseEstimator;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import io.engram.engine.pipeline.pose.PoseHead;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.pipeline.video.FramePreprocessor;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.ingest.video.CapturedFrame;
import io.engram.tools.ingest.video.FrameEncoder;
import io.engram.tools.ingest.video.FrameSource;
import io.engram.tools.ingest.video.FrameSources;
import io.engram.tools.ingest.video.SourceOptions;
import io.engram.tools.kafka.KafkaClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The person activity pipeline's figures for {@code engram bench} (a benchmark, never a test):
 *
 * <ol>
 *   <li>the pose model alone (ONNX Runtime, 1 thread) on the clip's frames, decoded: ms per frame
 *       and people found per frame;
 *   <li>the pipeline's frames/s on the in-process broker, one camera sent as fast as it goes;
 *   <li>live latency for 1, 2 and 4 cameras at 10 frames/s each: the frame's capture time (the
 *       record timestamp, the wall clock at the send) to the arrival of each of its people's
 *       predictions at a read_committed consumer, p50/p99 after a warm-up; with the pipeline's own
 *       mean pose-stage time per frame and GRU step per person, from its meters.
 * </ol>
 *
 * Frames are the clip's (ingest/samples/people/hall.mp4 by default), JPEG quality 85, looped.
 */
public final class PersonBenchmark {
    private PersonBenchmark() {}

    /** Seconds of live traffic dropped at the start of each latency pass. */
    static final Duration WARMUP = Duration.ofSeconds(5);

    /** Live traffic at {@code cameras} x {@code fps}: latency percentiles over every person's prediction, and the meters' means. */
    public record Live(int cameras, double fps, double sentFps, double p50Ms, double p99Ms, int samples, double poseMsPerFrame,
            double stepMsPerPerson, double peoplePerFrame) {}

    public record Report(int frames, int width, int height, double poseMsPerFrame, double peoplePerFrame, double maxFps,
            List<Live> live) {}

    /** Runs the three parts; {@code cameras} are the camera counts of the latency passes. */
    public static Report run(PipelineSpec spec, Path clip, double fpsPerCamera, List<Integer> cameras, int latencySeconds,
            PrintStream progress) throws Exception {
        List<byte[]> jpegs = frames(clip);
        BufferedImage first = ImageIO.read(new ByteArrayInputStream(jpegs.get(0)));
        progress.printf(Locale.ROOT, "engram bench: %d frames of %s (%dx%d JPEG), pipeline %s%n", jpegs.size(), clip.getFileName(),
                first.getWidth(), first.getHeight(), spec.name());
        PoseActivityPipeline.Settings s = spec.settings(PoseActivityPipeline.INSTANCE);
        double[] pose = poseAlone(s, jpegs);
        progress.printf(Locale.ROOT, "  pose model alone: %.1f ms per frame, %.2f people per frame%n", pose[0], pose[1]);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bootstrap = kafka.bootstrapServers();
            double max = maxFps(spec, bootstrap, jpegs);
            progress.printf(Locale.ROOT, "  pipeline, one camera as fast as it goes: %.1f frames/s%n", max);
            List<Live> live = new ArrayList<>();
            for (int n : cameras) {
                Live l = live(spec, bootstrap, jpegs, n, fpsPerCamera, latencySeconds);
                progress.printf(Locale.ROOT, "  %d camera(s) at %.0f frames/s: p50 %.0f ms, p99 %.0f ms (%d predictions)%n", n, fpsPerCamera,
                        l.p50Ms(), l.p99Ms(), l.samples());
                live.add(l);
            }
            return new Report(jpegs.size(), first.getWidth(), first.getHeight(), pose[0], pose[1], max, live);
        }
    }

    /** The clip's frames as JPEG (quality 85), as {@code engram ingest video} sends them. */
    static List<byte[]> frames(Path clip) throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (FrameSource src = FrameSources.open(clip.toString(), SourceOptions.defaults());
                FrameEncoder enc = new FrameEncoder(FrameEncoder.Settings.jpeg())) {
            CapturedFrame f;
            while ((f = src.next(() -> true)) != null) {
                out.add(enc.encode(f.image()).bytes());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException(clip + " has no frames");
        }
        return out;
    }

    /** {ms per frame (decode + pose model, 1 thread), people per frame} over the clip after 20 warm-up frames. */
    static double[] poseAlone(PoseActivityPipeline.Settings s, List<byte[]> jpegs) throws Exception {
        try (PoseEstimator pose = PoseEstimator.load(ModelManifest.load(s.poseManifest()), 1);
                PoseEstimator.Runner r = pose.newRunner()) {
            for (int i = 0; i < 20; i++) {
                r.estimate(ImageIO.read(new ByteArrayInputStream(jpegs.get(i % jpegs.size()))), s.minPersonScore());
            }
            long people = 0;
            long t0 = System.nanoTime();
            for (byte[] j : jpegs) {
                people += r.estimate(ImageIO.read(new ByteArrayInputStream(j)), s.minPersonScore()).size();
            }
            double ms = (System.nanoTime() - t0) / 1e6 / jpegs.size();
            return new double[] {ms, (double) people / jpegs.size()};
        }
    }

    /** Frames/s of the pipeline for one camera: the clip sent twice as fast as the producer goes, timed to the last frame posed and stepped. */
    static double maxFps(PipelineSpec base, String bootstrap, List<byte[]> jpegs) throws Exception {
        PipelineSpec spec = isolated(base, "max");
        Path state = Files.createTempDirectory("engram-person-bench-");
        int total = 2 * jpegs.size();
        try (PipelineRunner r = PipelineRunner.start(spec, bootstrap, state, new SimpleMeterRegistry());
                KafkaProducer<String, byte[]> p = producer(bootstrap)) {
            if (!r.awaitRunning(Duration.ofSeconds(120))) {
                throw new IllegalStateException("the person-activity pipeline did not start");
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < total; i++) {
                p.send(frame(spec.topics().name(PoseActivityPipeline.FRAMES), "cam-0", jpegs.get(i % jpegs.size()), i,
                        1_700_000_000_000L + 100L * i));
            }
            p.flush();
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (r.metrics().encodedCount() < total && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            return total / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** One live pass: {@code cameras} cameras at {@code fps} each, in real time, on a pipeline and topics of its own. */
    static Live live(PipelineSpec base, String bootstrap, List<byte[]> jpegs, int cameras, double fps, int seconds) throws Exception {
        PipelineSpec spec = isolated(base, "live-" + cameras);
        Path state = Files.createTempDirectory("engram-person-bench-");
        List<Double> latencies = new ArrayList<>();
        long sent = 0;
        double stepMs;
        double poseMs;
        double people;
        double secondsSent;
        try (PipelineRunner r = PipelineRunner.start(spec, bootstrap, state, new SimpleMeterRegistry());
                KafkaProducer<String, byte[]> p = producer(bootstrap);
                KafkaConsumer<String, byte[]> c = KafkaClients.outputReader(bootstrap, "person-lat-" + UUID.randomUUID(), Map.of())) {
            c.subscribe(List.of(spec.topics().name(PoseHead.PREDICTIONS)));
            if (!r.awaitRunning(Duration.ofSeconds(120))) {
                throw new IllegalStateException("the person-activity pipeline did not start");
            }
            c.poll(Duration.ofMillis(500));
            String topic = spec.topics().name(PoseActivityPipeline.FRAMES);
            long start = System.nanoTime();
            long measuredFrom = System.currentTimeMillis() + WARMUP.toMillis();
            long end = start + Duration.ofSeconds(seconds).plus(WARMUP).toNanos();
            double rate = fps * cameras;
            while (System.nanoTime() < end) {
                long due = start + (long) (sent * 1e9 / rate);
                if (System.nanoTime() >= due) {
                    long seq = sent / cameras;
                    int cam = (int) (sent % cameras);
                    // Each camera plays the clip from another place, so that the cameras are not in step.
                    byte[] jpeg = jpegs.get((int) ((seq + (long) cam * jpegs.size() / cameras) % jpegs.size()));
                    p.send(frame(topic, "cam-" + cam, jpeg, seq, System.currentTimeMillis()));
                    sent++;
                }
                VideoBenchmark.collect(c.poll(Duration.ofMillis(1)), measuredFrom, latencies);
            }
            secondsSent = (System.nanoTime() - start) / 1e9;
            long drain = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < drain) {
                VideoBenchmark.collect(c.poll(Duration.ofMillis(50)), measuredFrom, latencies);
            }
            poseMs = r.metrics().encodeMeanMillis();
            stepMs = r.metrics().stepMeanMillis();
            people = r.metrics().processedCount() / Math.max(1, r.metrics().encodedCount());
        }
        double[] l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new Live(cameras, fps, sent / secondsSent, VideoBenchmark.pct(l, 0.50), VideoBenchmark.pct(l, 0.99), l.length, poseMs, stepMs,
                people);
    }

    private static PipelineSpec isolated(PipelineSpec base, String what) {
        String id = "engram-person-bench-" + what + "-" + UUID.randomUUID();
        return base.withApplicationId(id).withMetricsPort(0).withTopics(base.topics().withSuffix("-" + what + "-" + UUID.randomUUID()));
    }

    private static ProducerRecord<String, byte[]> frame(String topic, String camera, byte[] jpeg, long seq, long ts) {
        RecordHeaders h = new RecordHeaders();
        h.add(FrameEncodeProcessor.H_CONTENT_TYPE, FramePreprocessor.JPEG.getBytes(StandardCharsets.UTF_8));
        h.add(FrameEncodeProcessor.H_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic, null, ts, camera, jpeg, h);
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        return KafkaClients.keyedProducer(bootstrap, Map.of(ProducerConfig.LINGER_MS_CONFIG, 1, ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                4_000_000));
    }
}

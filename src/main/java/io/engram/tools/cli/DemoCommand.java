package io.engram.tools.cli;

import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.tools.demo.SensorSimulator;
import io.engram.tools.demo.VideoDemo;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.monitoring.MetricsServer;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code engram demo}: everything on an embedded broker. Feeds built-in sensor streams with injected
 * anomalies through the sensor pipeline and the bundled sample clips through the video activity
 * pipeline, prints alerts and activity changes as they arrive, then a summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run Engram's pipelines end to end on an in-process Kafka broker.",
            "",
            "Sensors: feeds built-in sensor streams (5-minute readings, replayed fast) with injected",
            "anomalies of different kinds and prints each alert as it happens.",
            "Video: plays the sample clips in ingest/samples/video/ as live cameras (looped, real time)",
            "through the CNN + GRU activity pipeline and prints each camera's activity changes, with",
            "the clip's true motion beside them; beside it, the video anomaly pipeline (the sensor pipeline's",
            "forecaster head over the same cameras' frame features) prints each unusual motion it flags.",
            "Prints a summary at the end, and the broker's address so that `engram tail` can watch",
            "the topics meanwhile."})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--seconds", description = "Stop after this many seconds (default: run until Ctrl-C).")
    Integer seconds;

    @Option(names = "--streams", defaultValue = "6", description = "Number of sensor streams, 1-6 (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(names = "--rate", defaultValue = "50", description = "Readings per second per stream (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--config", defaultValue = "topology/sensor-anomaly.yaml", description = "Pipeline definition (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = "--port", defaultValue = "0", description = "Broker port (default: a free one).")
    int port;

    @Option(names = "--no-video", description = "Run the sensor pipeline only.")
    boolean noVideo;

    @Option(names = "--video-config", defaultValue = "topology/video-activity.yaml", description = "Video pipeline definition (default: ${DEFAULT-VALUE}).")
    Path videoConfig;

    @Option(names = "--video-anomaly-config", defaultValue = "topology/video-anomaly.yaml",
            description = "Video anomaly pipeline definition, run beside activity recognition on the same cameras (default: ${DEFAULT-VALUE}).")
    Path videoAnomalyConfig;

    @Option(names = "--video-fps", defaultValue = "10", description = "Frames per second per sample camera (default: ${DEFAULT-VALUE}).")
    double videoFps;

    private static final Path VIDEO_SAMPLES = Path.of("ingest/samples/video");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final long INTERVAL_MS = 300_000;
    private static final long START_MS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Override
    public Integer call() throws Exception {
        PipelineSpec cfg = Pipelines.load(InstallPaths.resolve(config)).withApplicationId("engram-demo");
        int n = Math.max(1, Math.min(SensorSimulator.MAX_STREAMS, streams));
        long warmup = cfg.settings(AnomalyPipeline.INSTANCE).scoring().warmupSteps();
        SensorSimulator sim = new SensorSimulator(n, 42, warmup + 100, 400);

        AtomicBoolean running = new AtomicBoolean(true);
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            running.set(false);
            try {
                finished.await(90, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "engram-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        Path stateDir = Files.createTempDirectory("engram-demo-state-");
        EmbeddedKafka kafka = null;
        PipelineRunner runner = null;
        VideoDemo video = null;
        PipelineRunner videoAnomaly = null;
        String videoAnomalyTopic = null;
        MetricsServer http = null;
        // The pipelines /ready waits for, as they start.
        List<PipelineRunner> started = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread feeder = null;
        try {
            long t0 = System.nanoTime();
            kafka = EmbeddedKafka.start(port, null, false);
            String bootstrap = kafka.bootstrapServers();
            System.out.printf("engram demo: Kafka broker at %s (started in %.1f s)%n", bootstrap, (System.nanoTime() - t0) / 1e9);
            System.out.printf("  watch it:  ./engram tail --topic %s --bootstrap-servers %s%n", cfg.topics().name("anomalies"), bootstrap);

            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            io.engram.engine.monitoring.JvmMeters.bindTo(registry); // for the life of the process
            http = startMetrics(registry, cfg.metricsHost(), cfg.metricsPort(), () -> PipelineRunner.notReady(started));
            // One instance: every key is here, so no routing (and no application.server).
            http.route("/streams/", new io.engram.engine.runtime.StateQueries(started, null)::get);
            runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry);
            started.add(runner);
            if (!runner.awaitRunning(Duration.ofSeconds(60))) {
                System.err.println("engram demo: the pipeline did not start (state " + runner.streams().state() + ")");
                return 1;
            }
            System.out.printf("  pipeline:  %s, model %s; metrics at http://%s:%d/metrics (also /health, /ready, /streams/{id})%n", cfg.name(),
                    cfg.modelManifest().getFileName(), cfg.metricsHost(), http.port());
            System.out.printf("  feeding %d streams at %d readings/s each (5-minute readings); alerts start after %d readings of warm-up%n",
                    n, rate, warmup);
            if (!noVideo) {
                PipelineSpec vc = Pipelines.load(InstallPaths.resolve(videoConfig)).withApplicationId("engram-demo-video");
                List<VideoDemo.Camera> cams = VideoDemo.cameras(InstallPaths.resolve(VIDEO_SAMPLES));
                video = VideoDemo.start(vc, cams, bootstrap, stateDir, registry, videoFps);
                started.add(video.runner());
                if (!video.runner().awaitRunning(Duration.ofSeconds(60))) {
                    System.err.println("engram demo: the video pipeline did not start (state " + video.runner().streams().state() + ")");
                    return 1;
                }
                System.out.printf("  video:     %s, %d sample cameras (%s) at %.0f frames/s, CNN %s + GRU %s%n", vc.name(), cams.size(),
                        String.join(", ", cams.stream().map(VideoDemo.Camera::id).toList()), videoFps,
                        vc.settings(VideoActivityPipeline.INSTANCE).encoderManifest().getFileName(), vc.modelManifest().getFileName());
                System.out.printf("  watch it:  ./engram tail --topic %s --bootstrap-servers %s%n", vc.topics().name("events"), bootstrap);
                // The third pipeline: the forecaster head of the sensor pipeline over the same cameras' frame features.
                PipelineSpec va = Pipelines.load(InstallPaths.resolve(videoAnomalyConfig)).withApplicationId("engram-demo-video-anomaly");
                videoAnomaly = PipelineRunner.start(va, bootstrap, stateDir, registry);
                started.add(videoAnomaly);
                videoAnomalyTopic = va.topics().name("anomalies");
                if (!videoAnomaly.awaitRunning(Duration.ofSeconds(60))) {
                    System.err.println("engram demo: the video anomaly pipeline did not start (state " + videoAnomaly.streams().state() + ")");
                    return 1;
                }
                System.out.printf("  video anomaly: %s, feature forecaster %s over %s; alerts on %s%n", va.name(),
                        va.modelManifest().getFileName(), va.topics().name("input"), va.topics().name("anomalies"));
                video.startFeeding();
            }
            System.out.println(seconds == null ? "  press Ctrl-C to stop" : "  stopping after " + seconds + " s");
            System.out.println();

            AtomicLong sent = new AtomicLong();
            long[] stepsSent = new long[n];
            final String input = cfg.topics().name("input");
            final PipelineRunner pipeline = runner;
            feeder = new Thread(() -> feed(bootstrap, input, sim, running, sent, stepsSent), "engram-demo-feeder");
            feeder.start();

            long deadline = seconds == null ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            VideoAnomalyWatch vaw = videoAnomaly == null ? null : new VideoAnomalyWatch(videoAnomalyTopic, videoAnomaly);
            List<Alert> alerts = watch(bootstrap, cfg.topics().name("anomalies"), sim, video, vaw, running, deadline);
            running.set(false);
            feeder.join(10_000);
            summary(sim, alerts, stepsSent, pipeline, warmup);
            if (video != null) {
                videoSummary(video);
            }
            if (vaw != null) {
                vaw.summary();
            }
            return 0;
        } finally {
            running.set(false);
            if (feeder != null) {
                feeder.join(10_000);
            }
            if (videoAnomaly != null) {
                videoAnomaly.close();
            }
            if (video != null) {
                video.close();
            }
            if (runner != null) {
                runner.close();
            }
            if (http != null) {
                http.close();
            }
            if (kafka != null) {
                kafka.close();
            }
            deleteQuietly(stateDir);
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // already shutting down (Ctrl-C)
            }
        }
    }

    /** On the pipeline's metrics.host (127.0.0.1 in the shipped files: the demo is for this machine); a free port if its own is taken. */
    private static MetricsServer startMetrics(PrometheusMeterRegistry registry, String host, int port,
            java.util.function.Supplier<String> notReady) throws java.io.IOException {
        try {
            return new MetricsServer(registry, host, port, notReady);
        } catch (java.net.BindException e) {
            return new MetricsServer(registry, host, 0, notReady);
        }
    }

    private void feed(String bootstrap, String topic, SensorSimulator sim, AtomicBoolean running, AtomicLong sent, long[] stepsSent) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            // A few bad records first, to show the dead-letter path: they never stop the pipeline.
            producer.send(new ProducerRecord<>(topic, "demo-bad-input", "this is not JSON".getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<>(topic, "demo-bad-input", "{\"ts\": 1, \"values\": [1.0, 2.0]}".getBytes(StandardCharsets.UTF_8)));
            producer.send(new ProducerRecord<>(topic, null, "{\"ts\": 1, \"value\": 3.0}".getBytes(StandardCharsets.UTF_8)));
            long step = 0;
            long start = System.nanoTime();
            while (running.get()) {
                long ts = START_MS + step * INTERVAL_MS;
                for (int i = 0; i < sim.streams(); i++) {
                    double v = sim.next(i);
                    String json = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.6f]}", ts, v);
                    producer.send(new ProducerRecord<>(topic, null, ts, sim.name(i), json.getBytes(StandardCharsets.UTF_8)));
                    stepsSent[i] = step + 1;
                    sent.incrementAndGet();
                }
                step++;
                long due = start + step * 1_000_000_000L / Math.max(1, rate);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
            producer.flush();
        }
    }

    private record Alert(String stream, long step, SensorSimulator.Injection injection) {}

    private List<Alert> watch(String bootstrap, String topic, SensorSimulator sim, VideoDemo video, VideoAnomalyWatch vaw,
            AtomicBoolean running, long deadline) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "engram-demo-watch");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<Alert> alerts = new ArrayList<>();
        JsonSerde<ForecastPrediction> serde = new JsonSerde<>(ForecastPrediction.class);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<String> topics = new ArrayList<>(List.of(topic));
            if (video != null) {
                topics.add(video.config().topics().name("events"));
                topics.add(video.config().topics().name("predictions"));
                if (video.config().usedTopics().contains(video.config().topics().name(ActivityHead.REFINED))) {
                    topics.add(video.config().topics().name(ActivityHead.REFINED));
                }
            }
            if (vaw != null) {
                topics.add(vaw.topic);
            }
            consumer.subscribe(topics);
            while (running.get() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (vaw != null && r.topic().equals(vaw.topic)) {
                        vaw.onAlert(video, serde.deserialize(topic, r.value()));
                        continue;
                    }
                    if (video != null && !r.topic().equals(topic)) {
                        onVideo(video, r);
                        continue;
                    }
                    ForecastPrediction a = serde.deserialize(topic, r.value());
                    SensorSimulator.Injection inj = matching(sim, a.stream(), a.step());
                    alerts.add(new Alert(a.stream(), a.step(), inj));
                    double forecast = a.forecast() == null ? Double.NaN : a.forecast()[0];
                    System.out.printf(Locale.ROOT, "%s  ANOMALY  %-20s step %5d  value %10.3f  forecast %10.3f  score %.3f  %s%n",
                            LocalTime.now().format(CLOCK), a.stream(), a.step(), a.values()[0], forecast, a.score(),
                            inj == null ? "(no injected anomaly here: false alarm)"
                                    : "<- injected " + inj.kind().name().toLowerCase(Locale.ROOT).replace('_', ' ')
                                            + " at step " + inj.step());
                }
            }
        }
        return alerts;
    }

    /** Scores every activity prediction against the clip's truth; prints every activity change. */
    private static void onVideo(VideoDemo video, ConsumerRecord<String, byte[]> r) {
        JsonNode n;
        try {
            n = JSON.readTree(r.value());
        } catch (java.io.IOException e) {
            return; // our own pipeline's JSON; nothing else writes these topics in the demo
        }
        String camera = n.path("camera").asText();
        long seq = n.path("frame_seq").asLong();
        String label = n.path("label").asText();
        if (r.topic().equals(video.config().topics().name("predictions"))) {
            video.score(camera, seq, label);
            return;
        }
        if (r.topic().equals(video.config().topics().name(ActivityHead.REFINED))) {
            video.scoreRefined(camera, seq, label);
            return;
        }
        VideoDemo.Camera cam = video.camera(camera);
        String truth = cam == null ? null : cam.truthAt(seq);
        String previous = n.path("previous_label").isNull() ? "(start)" : n.path("previous_label").asText();
        System.out.printf(Locale.ROOT, "%s  ACTIVITY %-20s frame %5d  %-13s -> %-13s p %.2f  %s%n",
                LocalTime.now().format(CLOCK), camera, seq, previous, label, n.path("probability").asDouble(),
                truth == null ? "" : "(true motion: " + truth + ")");
    }

    /** Prints the video anomaly pipeline's alerts as they come, and counts them per camera. */
    private static final class VideoAnomalyWatch {
        final String topic;
        final PipelineRunner runner;
        final Map<String, Integer> perCamera = new java.util.TreeMap<>();

        VideoAnomalyWatch(String topic, PipelineRunner runner) {
            this.topic = topic;
            this.runner = runner;
        }

        void onAlert(VideoDemo video, ForecastPrediction a) {
            perCamera.merge(a.stream(), 1, Integer::sum);
            VideoDemo.Camera cam = video == null ? null : video.camera(a.stream());
            String note = "";
            if (cam != null && !cam.truth().isEmpty()) {
                // The demo loops each clip: its first frames follow its last, a jump no camera makes.
                long inClip = a.step() % cam.truth().size();
                note = inClip < 5 ? "(the clip loops here: its last frame jumps to its first)"
                        : "(true motion: " + cam.truthAt(a.step() - 1) + " -> " + cam.truthAt(a.step()) + ")";
            }
            System.out.printf(Locale.ROOT, "%s  VIDEO ANOMALY %-15s frame %5d  score %.3f  %s%n", LocalTime.now().format(CLOCK),
                    a.stream(), a.step(), a.score(), note);
        }

        void summary() {
            int total = perCamera.values().stream().mapToInt(Integer::intValue).sum();
            System.out.printf("  video anomaly frames scored: %.0f%n", runner.metrics().processedCount());
            System.out.printf("  video anomaly alerts: %d %s%n", total, perCamera);
        }
    }

    private static void videoSummary(VideoDemo video) {
        System.out.printf("  video frames sent:    %d over %d cameras%n", video.framesSent(), video.cameras().size());
        System.out.printf("  video frames processed: %.0f%n", video.runner().metrics().processedCount());
        long scored = 0;
        long correct = 0;
        for (long[] s : video.scores().values()) {
            scored += s[0];
            correct += s[1];
        }
        System.out.printf(Locale.ROOT, "  activity accuracy:    %.1f%% of %d frames (frames %d+ after a change of the true motion)%n",
                scored == 0 ? 0.0 : 100.0 * correct / scored, scored, VideoDemo.SCORE_AFTER_CHANGE);
        long[] live = video.tallies(false);
        long[] refined = video.tallies(true);
        if (refined[0] + refined[2] > 0) {
            // Side by side: the refined labels come lag frames late, with look-ahead.
            System.out.printf(Locale.ROOT, "  live vs refined:      frames 0-%d after a change %.1f%% vs %.1f%% (%d vs %d frames);"
                    + " frames %d+ %.1f%% vs %.1f%%; all frames %.1f%% vs %.1f%%%n", VideoDemo.SCORE_AFTER_CHANGE - 1, pct(live[1], live[0]),
                    pct(refined[1], refined[0]), live[0], refined[0], VideoDemo.SCORE_AFTER_CHANGE, pct(live[3], live[2]),
                    pct(refined[3], refined[2]), pct(live[1] + live[3], live[0] + live[2]), pct(refined[1] + refined[3], refined[0] + refined[2]));
        }
    }

    private static double pct(long correct, long of) {
        return of == 0 ? 0.0 : 100.0 * correct / of;
    }

    /** The injection an alert at {@code step} belongs to: inside it or up to 20 steps after. */
    private static SensorSimulator.Injection matching(SensorSimulator sim, String stream, long step) {
        for (SensorSimulator.Injection inj : sim.injections()) {
            if (inj.stream().equals(stream) && step >= inj.step() && step <= inj.step() + inj.length() + 20) {
                return inj;
            }
        }
        return null;
    }

    private static void summary(SensorSimulator sim, List<Alert> alerts, long[] stepsSent, PipelineRunner runner, long warmup) {
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
                if (inj.stream().equals(sim.name(i)) && inj.step() + inj.length() + 20 < stepsSent[i]) {
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

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException ignored) {
            // temp dir
        }
    }
}

package io.engram.tools.cli;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.monitoring.MetricsServer;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import io.engram.engine.pipeline.pose.PoseHead;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.console.Shutdown;
import io.engram.tools.demo.ActivityWatch;
import io.engram.tools.demo.DemoWatch;
import io.engram.tools.demo.PeopleDemo;
import io.engram.tools.demo.SensorAlerts;
import io.engram.tools.demo.SensorFeed;
import io.engram.tools.demo.SensorSimulator;
import io.engram.tools.demo.VideoAnomalyWatch;
import io.engram.tools.demo.VideoDemo;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code engram demo}: everything on an embedded broker. Feeds built-in sensor streams with injected
 * anomalies through the sensor pipeline and the bundled sample clips through the video activity
 * pipeline, prints alerts and activity changes as they arrive, then a summary.
 *
 * <p>Option parsing and wiring only: the sensor input is {@link SensorFeed}'s, reading and printing
 * the output {@link DemoWatch}'s, the cameras {@link VideoDemo}'s. One run per instance: the broker,
 * pipelines, metrics server and feeder thread it starts are fields while it runs, and all closed
 * (and the state directory deleted) before {@link #call} returns, Ctrl-C included.
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
            "People: plays a real clip of people (ingest/samples/people/hall.mp4, looped, real time) through the",
            "person activity pipeline (pose model, a track and a keypoint GRU per person) and prints each",
            "person's activity changes and falls.",
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

    @Option(names = "--no-people", description = "Do not run the person activity pipeline on the clip of people.")
    boolean noPeople;

    @Option(names = "--people-config", defaultValue = "topology/person-activity.yaml",
            description = "Person activity pipeline definition (default: ${DEFAULT-VALUE}); the demo reads its camera from topic people-frames.")
    Path peopleConfig;

    @Option(names = "--video-fps", defaultValue = "10", description = "Frames per second per sample camera (default: ${DEFAULT-VALUE}).")
    double videoFps;

    private static final Path VIDEO_SAMPLES = Path.of("ingest/samples/video");
    private static final Path PEOPLE_SAMPLES = Path.of("ingest/samples/people");
    /** The demo's clip of people has a frames topic of its own, so that the person pipeline does not pose the shape clips. */
    static final String PEOPLE_FRAMES = "people-frames";

    // What a run started, closed in reverse by closeAll().
    private EmbeddedKafka kafka;
    private MetricsServer http;
    private PipelineRunner runner;
    private VideoDemo video;
    private PipelineRunner videoAnomaly;
    private PeopleDemo people;
    private Thread feeder;
    /** The pipelines /ready waits for, as they start. */
    private final List<PipelineRunner> started = new CopyOnWriteArrayList<>();

    @Override
    public Integer call() throws Exception {
        PipelineSpec cfg = Pipelines.load(InstallPaths.resolve(config)).withApplicationId("engram-demo");
        int n = Math.max(1, Math.min(SensorSimulator.MAX_STREAMS, streams));
        long warmup = cfg.settings(AnomalyPipeline.INSTANCE).scoring().warmupSteps();
        SensorSimulator sim = new SensorSimulator(n, 42, warmup + 100, 400);
        try (Shutdown shutdown = Shutdown.onCtrlC("engram-demo-shutdown", Duration.ofSeconds(90))) {
            Path stateDir = demoStateDir();
            try {
                return run(cfg, sim, warmup, stateDir, shutdown);
            } finally {
                shutdown.stop();
                closeAll();
                deleteQuietly(stateDir);
            }
        }
    }

    private int run(PipelineSpec cfg, SensorSimulator sim, long warmup, Path stateDir, Shutdown shutdown) throws Exception {
        long t0 = System.nanoTime();
        kafka = EmbeddedKafka.start(port, null, false);
        String bootstrap = kafka.bootstrapServers();
        System.out.printf("engram demo: Kafka broker at %s (started in %.1f s)%n", bootstrap, (System.nanoTime() - t0) / 1e9);
        System.out.printf("  watch it:  ./engram tail --topic %s --bootstrap-servers %s%n", cfg.topics().name(ForecastHead.ANOMALIES), bootstrap);

        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        io.engram.engine.monitoring.JvmMeters.bindTo(registry); // for the life of the process
        http = startMetrics(registry, cfg.metricsHost(), cfg.metricsPort(), () -> PipelineRunner.notReady(started));
        // One instance: every key is here, so no routing (and no application.server).
        http.route("/streams/", new io.engram.engine.runtime.StateQueries(started, null)::get);
        runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry);
        if (!awaitRunning(runner, "the pipeline")) {
            return 1;
        }
        System.out.printf("  pipeline:  %s, model %s; metrics at http://%s:%d/metrics (also /health, /ready, /streams/{id})%n", cfg.name(),
                cfg.modelManifest().getFileName(), cfg.metricsHost(), http.port());
        System.out.printf("  feeding %d streams at %d readings/s each (5-minute readings); alerts start after %d readings of warm-up%n",
                sim.streams(), rate, warmup);
        VideoAnomalyWatch vaw = null;
        if (!noVideo) {
            vaw = startVideo(bootstrap, stateDir, registry);
            if (vaw == null) {
                return 1;
            }
        }
        if (!noPeople && !startPeople(bootstrap, stateDir, registry)) {
            return 1;
        }
        System.out.println(seconds == null ? "  press Ctrl-C to stop" : "  stopping after " + seconds + " s");
        System.out.println();

        SensorFeed feed = new SensorFeed(bootstrap, cfg.topics().name(AnomalyPipeline.INPUT), sim, rate, shutdown::running);
        feeder = new Thread(feed, "engram-demo-feeder");
        feeder.start();
        long deadline = seconds == null ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        SensorAlerts alerts = new SensorAlerts(sim);
        ActivityWatch activity = video == null ? null : new ActivityWatch(video);
        new DemoWatch(bootstrap, cfg.topics().name(ForecastHead.ANOMALIES), alerts, activity, vaw, people).run(shutdown::running, deadline);
        shutdown.stop();
        feeder.join(10_000);
        alerts.summary(feed.stepsSent(), runner, warmup);
        if (activity != null) {
            activity.summary();
        }
        if (vaw != null) {
            vaw.summary();
        }
        if (people != null) {
            people.summary();
        }
        return 0;
    }

    /** Starts the person activity pipeline on the clip of people, then its camera; false (said on stderr) when it did not start. */
    private boolean startPeople(String bootstrap, Path stateDir, PrometheusMeterRegistry registry) throws Exception {
        PipelineSpec pc = Pipelines.load(InstallPaths.resolve(peopleConfig), java.util.Map.of("topics.frames", PEOPLE_FRAMES))
                .withApplicationId("engram-demo-people");
        Path clip = PeopleDemo.clip(InstallPaths.resolve(PEOPLE_SAMPLES));
        people = PeopleDemo.start(pc, clip, "hall", bootstrap, stateDir, registry, videoFps);
        if (!awaitRunning(people.runner(), "the person activity pipeline")) {
            return false;
        }
        System.out.printf("  people:    %s, camera %s (%s, looped) at %.0f frames/s: pose %s, keypoint GRU %s%n", pc.name(), people.camera(),
                clip.getFileName(), videoFps, pc.settings(PoseActivityPipeline.INSTANCE).poseManifest().getFileName(),
                pc.modelManifest().getFileName());
        System.out.printf("  watch it:  ./engram tail --topic %s --bootstrap-servers %s%n", pc.topics().name(PoseHead.EVENTS), bootstrap);
        System.out.printf("  draw it:   ./engram tail --topic %s --draw DIR --frames-topic %s --bootstrap-servers %s%n",
                pc.topics().name(PoseActivityPipeline.KEYPOINTS), PEOPLE_FRAMES, bootstrap);
        people.startFeeding();
        return true;
    }

    /**
     * Starts the video activity pipeline with its sample cameras and, beside it, the video anomaly
     * pipeline, then the cameras' feeding.
     *
     * @return the watch of the video anomaly alerts; null when a pipeline did not start (said on stderr)
     */
    private VideoAnomalyWatch startVideo(String bootstrap, Path stateDir, PrometheusMeterRegistry registry) throws Exception {
        PipelineSpec vc = Pipelines.load(InstallPaths.resolve(videoConfig)).withApplicationId("engram-demo-video");
        List<VideoDemo.Camera> cams = VideoDemo.cameras(InstallPaths.resolve(VIDEO_SAMPLES));
        video = VideoDemo.start(vc, cams, bootstrap, stateDir, registry, videoFps);
        if (!awaitRunning(video.runner(), "the video pipeline")) {
            return null;
        }
        System.out.printf("  video:     %s, %d sample cameras (%s) at %.0f frames/s, CNN %s + GRU %s%n", vc.name(), cams.size(),
                String.join(", ", cams.stream().map(VideoDemo.Camera::id).toList()), videoFps,
                vc.settings(VideoActivityPipeline.INSTANCE).encoderManifest().getFileName(), vc.modelManifest().getFileName());
        System.out.printf("  watch it:  ./engram tail --topic %s --bootstrap-servers %s%n", vc.topics().name(ActivityHead.EVENTS), bootstrap);
        // The third pipeline: the forecaster head of the sensor pipeline over the same cameras' frame features.
        PipelineSpec va = Pipelines.load(InstallPaths.resolve(videoAnomalyConfig)).withApplicationId("engram-demo-video-anomaly");
        videoAnomaly = PipelineRunner.start(va, bootstrap, stateDir, registry);
        if (!awaitRunning(videoAnomaly, "the video anomaly pipeline")) {
            return null;
        }
        System.out.printf("  video anomaly: %s, feature forecaster %s over %s; alerts on %s%n", va.name(),
                va.modelManifest().getFileName(), va.topics().name(AnomalyPipeline.INPUT), va.topics().name(ForecastHead.ANOMALIES));
        video.startFeeding();
        return new VideoAnomalyWatch(va.topics().name(ForecastHead.ANOMALIES), videoAnomaly, video);
    }

    /** Adds {@code r} to what /ready waits for, and waits a minute for it to run; false (said on stderr) when it does not. */
    private boolean awaitRunning(PipelineRunner r, String what) throws InterruptedException {
        started.add(r);
        if (!r.awaitRunning(Duration.ofSeconds(60))) {
            System.err.println("engram demo: " + what + " did not start (state " + r.streams().state() + ")");
            return false;
        }
        return true;
    }

    /** Stops the feeder, then closes what started, the last started first. */
    private void closeAll() throws InterruptedException {
        if (feeder != null) {
            feeder.join(10_000);
        }
        if (people != null) {
            people.close();
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

    /**
     * A fresh state directory for this demo, deleted when it ends: under {@code ~/.engram} rather
     * than the OS temp directory, where Kafka Streams warns at every start (the OS may clear it);
     * the temp directory only when the home directory is not writable.
     */
    private static Path demoStateDir() throws java.io.IOException {
        try {
            Path home = Files.createDirectories(Path.of(System.getProperty("user.home"), ".engram"));
            return Files.createTempDirectory(home, "demo-state-");
        } catch (java.io.IOException | RuntimeException e) {
            return Files.createTempDirectory("engram-demo-state-");
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException ignored) {
            // temp dir
        }
    }
}

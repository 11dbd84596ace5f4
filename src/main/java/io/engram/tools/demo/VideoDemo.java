package io.engram.tools.demo;

import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.config.PipelineSpec;
import io.engram.tools.ingest.video.FrameEncoder;
import io.engram.tools.ingest.video.ImageDirectorySource;
import io.engram.tools.ingest.video.VideoReplay;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The video half of {@code engram demo}: runs the video activity pipeline and plays the bundled
 * sample clips ({@code ingest/samples/video/<camera>/frame-*.png}, with the true motion of every
 * frame in {@code labels.csv}) as live cameras: looped, paced in real time, one feeder thread per
 * camera, through the same {@link VideoReplay} as {@code engram ingest video}. Frames go as PNG, the
 * lossless format the clips are stored in.
 *
 * <p>Owns its {@link PipelineRunner}, its producer and its feeder threads. {@link #close()} stops
 * the feeders, then the pipeline; it is idempotent.
 */
public final class VideoDemo implements AutoCloseable {
    /** Frames at least this many after a change of the true label count in {@link #score}, as in the model card. */
    public static final int SCORE_AFTER_CHANGE = 4;

    /** One sample camera: its directory of frames and the true label of each frame (may be empty). */
    public record Camera(String id, Path dir, List<String> truth) {
        /** The true label of frame {@code seq} of a looped clip, or null when the clip has no labels. */
        public String truthAt(long seq) {
            return truth.isEmpty() ? null : truth.get((int) (seq % truth.size()));
        }

        /** Frames since the last change of the true label (the start of every loop counts as one). */
        public int changeAge(long seq) {
            int i = (int) (seq % Math.max(1, truth.size()));
            int age = 0;
            while (i > 0 && truth.get(i).equals(truth.get(i - 1))) {
                age++;
                i--;
            }
            return age;
        }
    }

    private final PipelineSpec config;
    private final List<Camera> cameras;
    private final PipelineRunner runner;
    private final KafkaProducer<byte[], byte[]> producer;
    private final List<Thread> feeders = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sent = new AtomicLong();
    private final Map<String, long[]> scores = new TreeMap<>();
    private final long[] live = new long[4];
    private final long[] refined = new long[4];
    private boolean closed;

    private VideoDemo(PipelineSpec config, List<Camera> cameras, PipelineRunner runner, KafkaProducer<byte[], byte[]> producer) {
        this.config = config;
        this.cameras = cameras;
        this.runner = runner;
        this.producer = producer;
        for (Camera c : cameras) {
            scores.put(c.id(), new long[2]);
        }
    }

    /**
     * The sample cameras under {@code samples}: every sub-directory that holds images, in name order.
     *
     * @throws ConfigException when there are none (the fix names the script that makes them)
     */
    public static List<Camera> cameras(Path samples) {
        List<Camera> out = new ArrayList<>();
        if (Files.isDirectory(samples)) {
            try (var dirs = Files.list(samples)) {
                for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                    if (ImageDirectorySource.list(d).isEmpty()) {
                        continue;
                    }
                    out.add(new Camera(d.getFileName().toString(), d, readLabels(d.resolve("labels.csv"))));
                }
            } catch (IOException e) {
                throw new ConfigException("cannot list the sample clips in " + samples + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new ConfigException("no sample video clips in " + samples
                    + ". Fix: run /usr/bin/python3 models/activity/train_activity.py (it writes them), or pass --no-video");
        }
        return out;
    }

    private static List<String> readLabels(Path csv) throws IOException {
        if (!Files.exists(csv)) {
            return List.of();
        }
        List<String> labels = new ArrayList<>();
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            String[] f = line.split(",");
            if (f.length == 2 && !f[0].equals("frame")) {
                labels.add(f[1].trim());
            }
        }
        return List.copyOf(labels);
    }

    /**
     * The producer a demo's cameras send frames with; when it cannot be made, {@code runner} (just
     * started, owned by the caller until then) is closed before the error goes on.
     */
    static KafkaProducer<byte[], byte[]> framesProducer(String bootstrap, PipelineRunner runner) {
        try {
            return VideoReplay.producer(bootstrap);
        } catch (RuntimeException e) {
            runner.close();
            throw e;
        }
    }

    /** Starts the pipeline (it creates its topics) and one looping, real-time feeder per camera. */
    public static VideoDemo start(PipelineSpec config, List<Camera> cameras, String bootstrap, Path stateDir,
            MeterRegistry registry, double fps) {
        PipelineRunner runner = PipelineRunner.start(config, bootstrap, stateDir, registry);
        KafkaProducer<byte[], byte[]> producer = framesProducer(bootstrap, runner);
        VideoDemo demo = new VideoDemo(config, cameras, runner, producer);
        for (Camera c : cameras) {
            Thread t = new Thread(() -> demo.feed(c, fps), "engram-demo-video-" + c.id());
            t.setDaemon(true);
            demo.feeders.add(t);
        }
        return demo;
    }

    /** Starts feeding; call once the pipeline is running, so the first frames are not a backlog. */
    public void startFeeding() {
        feeders.forEach(Thread::start);
    }

    private void feed(Camera c, double fps) {
        VideoReplay.Options opts = VideoReplay.Options.of(config.topics().name(VideoActivityPipeline.FRAMES), c.id())
                .withEncoding(FrameEncoder.Settings.png()).withRealtime(true).withLoop(true).withKeepGoing(running::get);
        try (ImageDirectorySource src = new ImageDirectorySource(c.dir(), fps)) {
            play(src, opts, producer, sent, running);
        } catch (RuntimeException e) {
            if (running.get()) {
                System.err.println("engram demo: camera " + c.id() + " stopped: " + e.getMessage());
            }
        }
    }

    /**
     * Sends a demo camera's frames until the source ends or {@code running} turns false, adding each
     * frame handed to the producer to {@code sent}; a failure while running is said on stderr.
     */
    static void play(io.engram.tools.ingest.video.FrameSource src, VideoReplay.Options opts, KafkaProducer<byte[], byte[]> producer,
            AtomicLong sent, AtomicBoolean running) {
        try {
            VideoReplay.send(src, opts, producer, new VideoReplay.ProgressListener() {
                private long last;

                @Override
                public void progress(long read, long handed) {
                    sent.addAndGet(handed - last);
                    last = handed;
                }
            });
        } catch (RuntimeException e) {
            if (running.get()) {
                System.err.println("engram demo: camera " + opts.cameraId() + " stopped: " + e.getMessage());
            }
        }
    }

    public PipelineSpec config() {
        return config;
    }

    public List<Camera> cameras() {
        return cameras;
    }

    public PipelineRunner runner() {
        return runner;
    }

    /** Frames handed to the producer so far, all cameras. */
    public long framesSent() {
        return sent.get();
    }

    public Camera camera(String id) {
        for (Camera c : cameras) {
            if (c.id().equals(id)) {
                return c;
            }
        }
        return null;
    }

    /** Scores one prediction against the clip's true label (frames {@value #SCORE_AFTER_CHANGE}+ after a change only). */
    public synchronized void score(String camera, long seq, String predicted) {
        Camera c = camera(camera);
        if (c == null || c.truth().isEmpty()) {
            return;
        }
        tally(live, c, seq, predicted);
        if (c.changeAge(seq) < SCORE_AFTER_CHANGE) {
            return;
        }
        long[] s = scores.get(camera);
        s[0]++;
        if (c.truthAt(seq).equals(predicted)) {
            s[1]++;
        }
    }

    /** Scores one refined prediction (of frame {@code seq}, known {@code lag} frames later) against the clip's true label. */
    public synchronized void scoreRefined(String camera, long seq, String predicted) {
        Camera c = camera(camera);
        if (c != null && !c.truth().isEmpty()) {
            tally(refined, c, seq, predicted);
        }
    }

    private static void tally(long[] t, Camera c, long seq, String predicted) {
        int at = c.changeAge(seq) < SCORE_AFTER_CHANGE ? 0 : 2;
        t[at]++;
        if (c.truthAt(seq).equals(predicted)) {
            t[at + 1]++;
        }
    }

    /**
     * Live or refined predictions over every camera: {frames 0-3 after a change of the true label
     * scored, of them correct, frames 4+ scored, of them correct}.
     */
    public synchronized long[] tallies(boolean refinedOnes) {
        return (refinedOnes ? refined : live).clone();
    }

    /** Per camera: {scored frames, correct frames}. */
    public synchronized Map<String, long[]> scores() {
        Map<String, long[]> copy = new TreeMap<>();
        scores.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        running.set(false);
        for (Thread t : feeders) {
            t.join(10_000);
        }
        producer.close();
        runner.close();
    }
}

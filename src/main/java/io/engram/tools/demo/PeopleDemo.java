package io.engram.tools.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import io.engram.engine.pipeline.pose.PoseHead;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.ingest.video.FrameEncoder;
import io.engram.tools.ingest.video.FrameSource;
import io.engram.tools.ingest.video.FrameSources;
import io.engram.tools.ingest.video.SourceOptions;
import io.engram.tools.ingest.video.VideoReplay;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * The person activity pipeline in the demo: a real clip of people (ingest/samples/people) played
 * as a live camera, looped in real time, through {@code topology/person-activity.yaml}; prints each
 * person's activity changes ({@code person-events}) and falls ({@code person-falls}) as they come,
 * and a summary at the end.
 *
 * <p>Owns its pipeline, producer and feeder thread from {@link #start} to {@link #close}
 * (idempotent). {@link #onRecord} and {@link #summary} run on the thread that reads the outputs
 * ({@link DemoWatch}).
 */
public final class PeopleDemo implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PipelineSpec config;
    private final Path clip;
    private final String camera;
    private final PipelineRunner runner;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Thread feeder;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sent = new AtomicLong();
    private final Set<String> people = new TreeSet<>();
    private long events;
    private long falls;
    private boolean closed;

    private PeopleDemo(PipelineSpec config, Path clip, String camera, PipelineRunner runner, KafkaProducer<byte[], byte[]> producer,
            double fps) {
        this.config = config;
        this.clip = clip;
        this.camera = camera;
        this.runner = runner;
        this.producer = producer;
        this.feeder = new Thread(() -> feed(fps), "engram-demo-people-" + camera);
        feeder.setDaemon(true);
    }

    /** The demo's clip of people: the first video file in {@code dir}; a start-up error naming the folder when there is none. */
    public static Path clip(Path dir) {
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                List<Path> clips = files.filter(p -> p.getFileName().toString().matches("(?i).*\\.(mp4|avi|mkv)")).sorted().toList();
                if (!clips.isEmpty()) {
                    return clips.get(0);
                }
            } catch (IOException e) {
                throw new ConfigException("cannot list the clips of people in " + dir + ": " + e.getMessage(), e);
            }
        }
        throw new ConfigException("no clip of people in " + dir + ". Fix: restore ingest/samples/people/hall.mp4 from the repository"
                + " (or rebuild it with ingest/samples/people/make_sample.sh), or pass --no-people");
    }

    /** Starts the pipeline (it creates its topics); the camera is fed from {@link #startFeeding}. */
    public static PeopleDemo start(PipelineSpec config, Path clip, String camera, String bootstrap, Path stateDir, MeterRegistry registry,
            double fps) {
        PipelineRunner runner = PipelineRunner.start(config, bootstrap, stateDir, registry);
        KafkaProducer<byte[], byte[]> producer = VideoDemo.framesProducer(bootstrap, runner);
        return new PeopleDemo(config, clip, camera, runner, producer, fps);
    }

    /** Starts feeding; call once the pipeline is running, so that the first frames are not a backlog. */
    public void startFeeding() {
        feeder.start();
    }

    private void feed(double fps) {
        VideoReplay.Options opts = VideoReplay.Options.of(config.topics().name(PoseActivityPipeline.FRAMES), camera)
                .withEncoding(FrameEncoder.Settings.jpeg()).withFps(fps).withRealtime(true).withLoop(true).withKeepGoing(running::get);
        try (FrameSource src = FrameSources.open(clip.toString(), SourceOptions.defaults())) {
            VideoDemo.play(src, opts, producer, sent, running);
        } catch (RuntimeException e) {
            if (running.get()) {
                System.err.println("engram demo: camera " + camera + " stopped: " + e.getMessage());
            }
        }
    }

    public PipelineSpec config() {
        return config;
    }

    public PipelineRunner runner() {
        return runner;
    }

    public String camera() {
        return camera;
    }

    /** The topics whose records {@link #onRecord} takes: each person's activity changes and falls. */
    List<String> topics() {
        return List.of(config.topics().name(PoseHead.EVENTS), config.topics().name(PoseHead.FALLS));
    }

    /** Prints a person's activity change or fall. */
    void onRecord(String topic, byte[] value) {
        JsonNode n;
        try {
            n = JSON.readTree(value);
        } catch (IOException e) {
            return; // our own pipeline's JSON; nothing else writes these topics in the demo
        }
        String person = n.path("person").asText();
        people.add(person);
        String previous = n.path("previous_label").isNull() ? "(seen)" : n.path("previous_label").asText();
        boolean fall = topic.equals(config.topics().name(PoseHead.FALLS));
        if (fall) {
            falls++;
        } else {
            events++;
        }
        System.out.printf(Locale.ROOT, "%s  %s %-20s frame %5d  %-10s -> %-10s p %.2f%n", DemoWatch.clock(), fall ? "FALL  " : "PERSON",
                person, n.path("frame_seq").asLong(), previous, n.path("label").asText(), n.path("probability").asDouble());
    }

    /** The summary lines of the people side. */
    public void summary() {
        System.out.printf("  people frames sent:   %d (camera %s, %s)%n", sent.get(), camera, clip.getFileName());
        System.out.printf("  people frames posed:  %.0f%n", runner.metrics().encodedCount());
        System.out.printf("  people seen:          %d with an activity (tracks), %d activity changes, %d falls%n", people.size(), events,
                falls);
    }

    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        running.set(false);
        if (feeder.isAlive()) {
            feeder.join(10_000);
        }
        producer.close();
        runner.close();
    }
}

package io.engram.testkit;

import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.step.StateLifecycle;
import io.engram.engine.state.StreamState;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.EngramMetrics;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.video.FrameStage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;

/**
 * Any pipeline's real topology in a {@link TopologyTestDriver}, built exactly as {@code engram run}
 * builds it (its kind, its real models, its Kafka Streams settings), with typed access to its topics
 * by role and to its state store. Owns the driver, the models and a temporary state directory;
 * {@link #close()} releases them.
 */
public final class PipelineDriver implements AutoCloseable {
    public final PipelineSpec spec;
    public final ModelManifest manifest;
    public final EngramMetrics metrics;
    public final TopologyTestDriver driver;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Path stateDir;

    /** The pipeline of a YAML file (e.g. {@code topology/sensor-anomaly.yaml}). */
    public PipelineDriver(String yaml) throws Exception {
        this(Pipelines.load(Path.of(yaml)));
    }

    public PipelineDriver(PipelineSpec spec) throws Exception {
        this.spec = spec;
        this.manifest = ModelManifest.load(spec.modelManifest());
        StepSession model = StepSession.load(manifest);
        owned.add(model);
        this.metrics = EngramMetrics.unbound(spec.name());
        this.stateDir = Files.createTempDirectory("engram-ttd-");
        io.engram.engine.config.BuiltPipeline built = spec.kind().build(spec, manifest, model, metrics);
        owned.add(built);
        this.driver = new TopologyTestDriver(built.topology(),
                PipelineRunner.streamsProperties(spec, "ttd:9092", stateDir, metrics));
    }

    /** The topic of {@code role} as raw bytes in (key and value as the producer would send them). */
    public TestInputTopic<byte[], byte[]> input(TopicRole role) {
        return driver.createInputTopic(spec.topics().name(role), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * The pipeline of {@code spec} with its step fed from the step input topic: the video and pose pipelines in
     * their split layout (in the fused one, the step reads the encoder's output and no topic), any
     * other pipeline as it is. For tests of the step that send it its input records directly.
     */
    public static PipelineDriver stepFed(PipelineSpec spec) throws Exception {
        if (spec.kind() == VideoActivityPipeline.INSTANCE) {
            spec = spec.withSettings(spec.settings(VideoActivityPipeline.INSTANCE).withLayout(FrameStage.Layout.SPLIT, true));
        } else if (spec.kind() == io.engram.engine.pipeline.pose.PoseActivityPipeline.INSTANCE) {
            spec = spec.withSettings(spec.settings(io.engram.engine.pipeline.pose.PoseActivityPipeline.INSTANCE)
                    .withLayout(FrameStage.Layout.SPLIT, true));
        }
        return new PipelineDriver(spec);
    }

    /** As {@link #stepFed(PipelineSpec)}, for a YAML file. */
    public static PipelineDriver stepFed(String yaml) throws Exception {
        return stepFed(Pipelines.load(Path.of(yaml)));
    }

    /** The step's input topic; the step must read it (see {@link #stepFed}). */
    public TestInputTopic<byte[], byte[]> stepInput() {
        String topic = spec.topics().name(spec.kind().stepInputRole());
        if (!spec.consumedTopics().contains(topic)) {
            throw new IllegalStateException(spec.file() + ": the step does not read " + topic + " in this layout; use PipelineDriver.stepFed");
        }
        return input(spec.kind().stepInputRole());
    }

    /** An output topic of JSON records, as strings. */
    public TestOutputTopic<String, String> output(TopicRole role) {
        return driver.createOutputTopic(spec.topics().name(role), new StringDeserializer(), new StringDeserializer());
    }

    /** An output topic of JSON records, read as {@code type}. */
    public <T> TestOutputTopic<String, T> output(TopicRole role, Class<T> type) {
        return driver.createOutputTopic(spec.topics().name(role), new StringDeserializer(), new JsonSerde<>(type));
    }

    public TestOutputTopic<byte[], byte[]> deadLetters() {
        return driver.createOutputTopic(spec.topics().deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    public TestOutputTopic<String, String> stateEvents() {
        return output(TopicRole.STATE_EVENTS);
    }

    /** Sends a control record (header {@value StateLifecycle#CONTROL_HEADER}) for {@code key} to the step's input. */
    public void sendControl(String key, String command, long ts) {
        RecordHeaders h = new RecordHeaders();
        h.add(StateLifecycle.CONTROL_HEADER, command.getBytes(StandardCharsets.UTF_8));
        stepInput().pipeInput(new TestRecord<>(key.getBytes(StandardCharsets.UTF_8), new byte[0], h, ts));
    }

    /** The step's state store. */
    public <P> KeyValueStore<String, StreamState<P>> store() {
        return driver.getKeyValueStore(spec.stateStore());
    }

    public Path stateDir() {
        return stateDir;
    }

    @Override
    public void close() throws Exception {
        driver.close();
        for (AutoCloseable c : owned) {
            c.close();
        }
        try (var walk = Files.walk(stateDir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}

package io.engram.topology;

import io.engram.app.PipelineRunner;
import io.engram.model.ModelManifest;
import io.engram.model.StepModel;
import io.engram.monitoring.EngramMetrics;
import io.engram.state.StreamState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/** The real sensor topology in a {@link TopologyTestDriver}, with the real model and config. Owns both. */
final class TopologyFixture implements AutoCloseable {
    final PipelineConfig config;
    final StepModel model;
    final EngramMetrics metrics;
    final TopologyTestDriver driver;
    final TestInputTopic<byte[], byte[]> input;
    final TestOutputTopic<String, SensorPrediction> predictions;
    final TestOutputTopic<String, SensorPrediction> anomalies;
    final TestOutputTopic<byte[], byte[]> deadLetters;
    final TestOutputTopic<String, String> stateEvents;
    private final Path stateDir;

    TopologyFixture(String manifest) throws Exception {
        this(PipelineConfig.load(Path.of("topology/sensor-anomaly.yaml")), manifest);
    }

    TopologyFixture(PipelineConfig config, String manifest) throws Exception {
        this.config = config;
        ModelManifest m = ModelManifest.load(Path.of(manifest));
        this.model = StepModel.load(m);
        this.metrics = EngramMetrics.unbound(config.name());
        this.stateDir = Files.createTempDirectory("engram-ttd-");
        this.driver = new TopologyTestDriver(SensorTopology.build(config, m, model, metrics),
                PipelineRunner.streamsProperties(config, "ttd:9092", stateDir, metrics));
        Topics t = config.topics();
        input = driver.createInputTopic(t.input(), new ByteArraySerializer(), new ByteArraySerializer());
        JsonSerde<SensorPrediction> serde = new JsonSerde<>(SensorPrediction.class);
        predictions = driver.createOutputTopic(t.predictions(), new StringDeserializer(), serde);
        anomalies = driver.createOutputTopic(t.anomalies(), new StringDeserializer(), serde);
        deadLetters = driver.createOutputTopic(t.deadLetter(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        stateEvents = driver.createOutputTopic(t.stateEvents(), new StringDeserializer(), new StringDeserializer());
    }

    void send(String key, long ts, double... values) {
        StringBuilder sb = new StringBuilder("{\"ts\":").append(ts).append(",\"values\":[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.17g", values[i]));
        }
        sb.append("]}");
        sendRaw(key, sb.toString(), ts);
    }

    void sendControl(String key, String command, long ts) {
        org.apache.kafka.common.header.internals.RecordHeaders h = new org.apache.kafka.common.header.internals.RecordHeaders();
        h.add(io.engram.state.StateLifecycle.CONTROL_HEADER, command.getBytes(StandardCharsets.UTF_8));
        input.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(key.getBytes(StandardCharsets.UTF_8), new byte[0], h, ts));
    }

    void sendRaw(String key, String value, long ts) {
        input.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8), ts);
    }

    Path stateDir() {
        return stateDir;
    }

    KeyValueStore<String, StreamState> store() {
        return driver.getKeyValueStore(config.stateStore());
    }

    @Override
    public void close() throws Exception {
        driver.close();
        model.close();
        try (var walk = Files.walk(stateDir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}

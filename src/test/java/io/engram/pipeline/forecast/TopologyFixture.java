package io.engram.pipeline.forecast;

import io.engram.core.PipelineSpec;
import io.engram.core.StreamState;
import io.engram.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/** The sensor pipeline in a {@link PipelineDriver}, with JSON reading helpers. Owns the driver. */
final class TopologyFixture implements AutoCloseable {
    final PipelineSpec config;
    final PipelineDriver pd;
    final io.engram.monitoring.EngramMetrics metrics;
    final TopologyTestDriver driver;
    final TestInputTopic<byte[], byte[]> input;
    final TestOutputTopic<String, SensorPrediction> predictions;
    final TestOutputTopic<String, SensorPrediction> anomalies;
    final TestOutputTopic<byte[], byte[]> deadLetters;
    final TestOutputTopic<String, String> stateEvents;

    TopologyFixture(String manifest) throws Exception {
        this(Pipelines.load(Path.of("topology/sensor-anomaly.yaml")), manifest);
    }

    TopologyFixture(PipelineSpec config, String manifest) throws Exception {
        this.config = config.withModelManifest(Path.of(manifest).toAbsolutePath().normalize());
        this.pd = new PipelineDriver(this.config);
        this.driver = pd.driver;
        this.metrics = pd.metrics;
        input = pd.stepInput();
        predictions = pd.output(ForecastHead.PREDICTIONS, SensorPrediction.class);
        anomalies = pd.output(ForecastHead.ANOMALIES, SensorPrediction.class);
        deadLetters = pd.deadLetters();
        stateEvents = pd.stateEvents();
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
        pd.sendControl(key, command, ts);
    }

    void sendRaw(String key, String value, long ts) {
        input.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8), ts);
    }

    Path stateDir() {
        return pd.stateDir();
    }

    KeyValueStore<String, StreamState<ForecastState>> store() {
        return pd.store();
    }

    @Override
    public void close() throws Exception {
        pd.close();
    }
}

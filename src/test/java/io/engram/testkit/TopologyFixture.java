package io.engram.testkit;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.engine.pipeline.anomaly.ForecastState;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.state.StreamState;
import io.engram.engine.runtime.Pipelines;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/** The sensor pipeline in a {@link PipelineDriver}, with JSON reading helpers. Owns the driver. */
public final class TopologyFixture implements AutoCloseable {
    public final PipelineSpec config;
    public final PipelineDriver pd;
    public final io.engram.engine.monitoring.EngramMetrics metrics;
    public final TopologyTestDriver driver;
    public final TestInputTopic<byte[], byte[]> input;
    public final TestOutputTopic<String, ForecastPrediction> predictions;
    public final TestOutputTopic<String, ForecastPrediction> anomalies;
    public final TestOutputTopic<byte[], byte[]> deadLetters;
    public final TestOutputTopic<String, String> stateEvents;

    public TopologyFixture(String manifest) throws Exception {
        this(Pipelines.load(Path.of("topology/sensor-anomaly.yaml")), manifest);
    }

    public TopologyFixture(PipelineSpec config, String manifest) throws Exception {
        this.config = config.withModelManifest(Path.of(manifest).toAbsolutePath().normalize());
        this.pd = new PipelineDriver(this.config);
        this.driver = pd.driver;
        this.metrics = pd.metrics;
        input = pd.stepInput();
        predictions = pd.output(ForecastHead.PREDICTIONS, ForecastPrediction.class);
        anomalies = pd.output(ForecastHead.ANOMALIES, ForecastPrediction.class);
        deadLetters = pd.deadLetters();
        stateEvents = pd.stateEvents();
    }

    public void send(String key, long ts, double... values) {
        StringBuilder sb = new StringBuilder("{\"ts\":").append(ts).append(",\"values\":[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.17g", values[i]));
        }
        sb.append("]}");
        sendRaw(key, sb.toString(), ts);
    }

    public void sendControl(String key, String command, long ts) {
        pd.sendControl(key, command, ts);
    }

    public void sendRaw(String key, String value, long ts) {
        input.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8), ts);
    }

    public Path stateDir() {
        return pd.stateDir();
    }

    public KeyValueStore<String, StreamState<ForecastState>> store() {
        return pd.store();
    }

    @Override
    public void close() throws Exception {
        pd.close();
    }
}

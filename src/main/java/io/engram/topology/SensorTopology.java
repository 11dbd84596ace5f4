package io.engram.topology;

import io.engram.anomaly.AnomalyScorer;
import io.engram.errors.ConfigException;
import io.engram.model.ModelManifest;
import io.engram.model.StepModel;
import io.engram.monitoring.EngramMetrics;
import io.engram.state.StateLifecycle;
import io.engram.state.StreamState;
import io.engram.state.StreamStateSerde;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The sensor anomaly topology as a function of its configuration: {@code main} code only wires
 * and tests call the same function. Every node and the store are named, so changelog topics and
 * error messages are stable and readable.
 *
 * <pre>
 * sensor-readings --(source)--> sensor-rnn-step [store] --> sensor-predictions
 *                                                      |--> sensor-anomalies (alerts only)
 *                                                      \--> sensor-state-events (resets, expiries)
 * </pre>
 */
public final class SensorTopology {
    public static final String SOURCE = "sensor-readings-source";
    public static final String STEP = "sensor-rnn-step";
    public static final String PREDICTIONS_SINK = "sensor-predictions-sink";
    public static final String ANOMALIES_SINK = "sensor-anomalies-sink";
    public static final String STATE_EVENTS_SINK = "sensor-state-events-sink";

    private SensorTopology() {}

    /**
     * @param model the loaded model, shared by all tasks; {@code null} builds the baseline topology
     *     with the model call removed (for benchmarks)
     */
    public static Topology build(PipelineConfig config, ModelManifest manifest, StepModel model, EngramMetrics metrics) {
        if (!"forecast".equals(manifest.task())) {
            throw new ConfigException("Model " + manifest.manifestPath() + " has task '" + manifest.task()
                    + "' but pipeline " + config.file() + " scores forecasts. Fix: use a forecast model.");
        }
        Topics topics = config.topics();
        AnomalyScorer scorer = new AnomalyScorer(config.scoring());
        StoreBuilder<KeyValueStore<String, StreamState>> store = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(config.stateStore()), Serdes.String(), new StreamStateSerde());
        ProcessorSupplier<String, byte[], String, Object> supplier = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, Object> get() {
                return new SensorProcessor(manifest, model, scorer, config.outOfOrder(), config.stateStore(), metrics,
                        PREDICTIONS_SINK, ANOMALIES_SINK, new StateLifecycle(config.statePolicy(), metrics, STATE_EVENTS_SINK));
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(store);
            }
        };
        JsonSerde<Object> out = new JsonSerde<>(Object.class);
        Topology t = new Topology();
        t.addSource(SOURCE, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), topics.input());
        t.addProcessor(STEP, supplier, SOURCE);
        t.addSink(PREDICTIONS_SINK, topics.predictions(), Serdes.String().serializer(), out, STEP);
        t.addSink(ANOMALIES_SINK, topics.anomalies(), Serdes.String().serializer(), out, STEP);
        t.addSink(STATE_EVENTS_SINK, topics.stateEvents(), Serdes.String().serializer(), out, STEP);
        return t;
    }
}

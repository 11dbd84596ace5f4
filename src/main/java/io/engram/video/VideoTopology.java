package io.engram.video;

import io.engram.errors.ConfigException;
import io.engram.model.EncoderModel;
import io.engram.model.StepModel;
import io.engram.monitoring.EngramMetrics;
import io.engram.state.ClassifierState;
import io.engram.state.ClassifierStateSerde;
import io.engram.state.StateLifecycle;
import io.engram.topology.InputKeyDeserializer;
import io.engram.topology.JsonSerde;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The video activity topology as a function of its configuration. Two sub-topologies joined by the
 * {@code frame-features} topic, so that features are inspectable and the recurrent stage can be
 * scaled and restarted on its own:
 *
 * <pre>
 * video-frames --> frame-encode [camera-frame-shape] --> frame-features
 * frame-features --> activity-rnn-step [activity-rnn-state] --> activity-predictions
 *                                                        |--> activity-events (activity changes)
 *                                                        \--> video-state-events (resets, expiries)
 * </pre>
 */
public final class VideoTopology {
    public static final String FRAMES_SOURCE = "video-frames-source";
    public static final String ENCODE = "frame-encode";
    public static final String FEATURES_SINK = "frame-features-sink";
    public static final String FEATURES_SOURCE = "frame-features-source";
    public static final String STEP = "activity-rnn-step";
    public static final String PREDICTIONS_SINK = "activity-predictions-sink";
    public static final String EVENTS_SINK = "activity-events-sink";
    public static final String STATE_EVENTS_SINK = "video-state-events-sink";

    private VideoTopology() {}

    public static Topology build(VideoPipelineConfig config, EncoderModel encoder, StepModel classifier, EngramMetrics metrics) {
        if (!"classify".equals(classifier.manifest().task())) {
            throw new ConfigException("Model " + classifier.manifest().manifestPath() + " has task '" + classifier.manifest().task()
                    + "' but pipeline " + config.file() + " needs a classifier (task: classify).");
        }
        if (classifier.manifest().input().size() != encoder.manifest().output().size()) {
            throw new ConfigException("Pipeline " + config.file() + ": the classifier takes " + classifier.manifest().input().size()
                    + " features but the encoder emits " + encoder.manifest().output().size() + ". Fix: pair models trained together.");
        }
        String want = classifier.manifest().encoder();
        if (!want.isEmpty() && !want.equals(encoder.manifest().id())) {
            throw new ConfigException("Pipeline " + config.file() + ": model " + classifier.manifest().manifestPath()
                    + " was trained on features of encoder '" + want + "' but the pipeline's encoder is '" + encoder.manifest().id()
                    + "' (" + encoder.manifest().manifestPath() + "). Fix: point encoder.manifest at " + want + "'s manifest.");
        }
        if (encoder.manifest().image().channels() != 1) {
            throw new ConfigException("Encoder " + encoder.manifest().manifestPath() + " declares image.channels "
                    + encoder.manifest().image().channels() + "; Engram's frame preprocessing feeds grayscale frames. Fix: export a"
                    + " 1-channel encoder (image [batch, 1, H, W]).");
        }
        VideoPipelineConfig.Topics t = config.topics();
        FramePreprocessor pre = new FramePreprocessor(encoder.manifest().image(), config.maxPixels());
        StoreBuilder<KeyValueStore<String, Long>> shapes = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(config.shapeStore()), Serdes.String(), Serdes.Long());
        StoreBuilder<KeyValueStore<String, ClassifierState>> state = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(config.stateStore()), Serdes.String(), new ClassifierStateSerde());

        ProcessorSupplier<String, byte[], String, FeatureRecord> encode = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, FeatureRecord> get() {
                return new FrameEncodeProcessor(encoder, pre, config.shapeStore(), config.maxFrameBytes(), metrics);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(shapes);
            }
        };
        ProcessorSupplier<String, byte[], String, Object> step = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, Object> get() {
                return new ActivityProcessor(classifier, config.stateStore(), config.dropOutOfOrder(), config.eventMinFrames(), metrics, PREDICTIONS_SINK, EVENTS_SINK,
                        new StateLifecycle(config.statePolicy(), metrics, STATE_EVENTS_SINK));
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(state);
            }
        };
        JsonSerde<Object> json = new JsonSerde<>(Object.class);
        Topology topo = new Topology();
        topo.addSource(FRAMES_SOURCE, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), t.frames());
        topo.addProcessor(ENCODE, encode, FRAMES_SOURCE);
        topo.addSink(FEATURES_SINK, t.features(), Serdes.String().serializer(), new FeatureRecordSerde(), ENCODE);
        topo.addSource(FEATURES_SOURCE, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), t.features());
        topo.addProcessor(STEP, step, FEATURES_SOURCE);
        topo.addSink(PREDICTIONS_SINK, t.predictions(), Serdes.String().serializer(), json, STEP);
        topo.addSink(EVENTS_SINK, t.events(), Serdes.String().serializer(), json, STEP);
        topo.addSink(STATE_EVENTS_SINK, t.stateEvents(), Serdes.String().serializer(), json, STEP);
        return topo;
    }
}

package io.engram.pipeline.video;

import io.engram.core.InputKeyDeserializer;
import io.engram.core.PipelineMeters;
import io.engram.core.TopicSpec;
import io.engram.model.EncoderModel;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The CNN stage as a sub-topology of its own, joined to the recurrent step by the features topic,
 * so that features are inspectable (and usable by other pipelines) and the stages can be scaled
 * and restarted apart:
 *
 * <pre>
 * &lt;frames&gt;-source --&gt; frame-encode [shape store] --&gt; &lt;features&gt;-sink
 * </pre>
 */
public final class FrameStage {
    public static final String ENCODE = "frame-encode";

    private FrameStage() {}

    /** The features topic: binary {@link FeatureRecord}s keyed by camera. */
    public static TopicSpec<String, FeatureRecord> featuresTopic(String name) {
        return TopicSpec.keyed(name, new FeatureRecordSerde());
    }

    /**
     * Adds the stage to {@code topology}.
     *
     * @param encoder shared by all tasks, owned by the caller
     */
    public static void add(Topology topology, String framesTopic, TopicSpec<String, FeatureRecord> features, EncoderModel encoder,
            long maxPixels, String shapeStore, int maxFrameBytes, PipelineMeters meters) {
        FramePreprocessor pre = new FramePreprocessor(encoder.manifest().image(), maxPixels);
        StoreBuilder<KeyValueStore<String, Long>> shapes = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(shapeStore), Serdes.String(), Serdes.Long());
        ProcessorSupplier<String, byte[], String, FeatureRecord> encode = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, FeatureRecord> get() {
                return new FrameEncodeProcessor(encoder, pre, shapeStore, maxFrameBytes, meters);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(shapes);
            }
        };
        String source = framesTopic + "-source";
        topology.addSource(source, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), framesTopic);
        topology.addProcessor(ENCODE, encode, source);
        topology.addSink(features.name() + "-sink", features.name(), features.keySerde().serializer(), features.valueSerde().serializer(),
                ENCODE);
    }
}

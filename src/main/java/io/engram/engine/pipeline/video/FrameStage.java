package io.engram.engine.pipeline.video;

import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.model.EncoderModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The CNN stage, in one of two layouts ({@code encoder.layout} in the pipeline YAML):
 *
 * <pre>
 * split: &lt;frames&gt;-source --&gt; frame-encode [shape store] --&gt; &lt;features&gt;-sink
 *        (the step is a sub-topology of its own, reading the features topic)
 *
 * fused: &lt;frames&gt;-source --&gt; frame-encode [shape store] --&gt; &lt;step&gt; [state store] --&gt; outputs
 *                                                     \--&gt; &lt;features&gt;-sink (optional)
 * </pre>
 *
 * <p>Split: the stages can be scaled, restarted and placed apart, at the cost of a second
 * exactly-once transaction and a topic round trip per frame. Fused: decode, CNN and GRU run in one
 * task and one transaction, frame in, prediction out (live latency); the features topic is then an
 * optional output, for inspection and for pipelines that read it (video anomaly detection).
 */
public final class FrameStage {
    public static final String ENCODE = "frame-encode";

    /** How the CNN stage and the recurrent step are joined. */
    public enum Layout {
        /** One sub-topology: the encoder's output goes straight to the step. */
        FUSED,
        /** Two sub-topologies joined by the features topic. */
        SPLIT;

        public String yaml() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private FrameStage() {}

    /**
     * Adds the stage to {@code topology}: a source on {@code framesTopic} and the encode node.
     *
     * @param featuresTopic where feature records are written, or null for none (fused only)
     * @param next the node the feature records go to in the same sub-topology (the fused layout's
     *     step, which the caller adds after this call with {@link #ENCODE} as its parent), or null (split)
     * @param encoder shared by all tasks, owned by the caller
     * @return the encode node's name
     */
    public static String add(Topology topology, String framesTopic, String featuresTopic, String next, EncoderModel encoder,
            long maxPixels, String shapeStore, int maxFrameBytes, PipelineMeters meters) {
        if (featuresTopic == null && next == null) {
            throw new IllegalArgumentException("the frame stage's features must go somewhere");
        }
        String sink = featuresTopic == null ? null : featuresTopic + "-sink";
        List<String> children = new ArrayList<>();
        if (next != null) {
            children.add(next);
        }
        if (sink != null) {
            children.add(sink);
        }
        FramePreprocessor pre = new FramePreprocessor(encoder.manifest().image(), maxPixels);
        StoreBuilder<KeyValueStore<String, Long>> shapes = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(shapeStore), Serdes.String(), Serdes.Long());
        ProcessorSupplier<String, byte[], String, byte[]> encode = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, byte[]> get() {
                return new FrameEncodeProcessor(encoder, pre, shapeStore, maxFrameBytes, meters, children);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(shapes);
            }
        };
        String source = framesTopic + "-source";
        topology.addSource(source, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), framesTopic);
        topology.addProcessor(ENCODE, encode, source);
        if (sink != null) {
            topology.addSink(sink, featuresTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), ENCODE);
        }
        return ENCODE;
    }

    /**
     * Forwards a frame stage's output record: to {@code children} in this order (the features topic's
     * sink, the step), or to every child when none is named. Shared by the frame stages (the CNN's and
     * the pose model's).
     */
    public static void forward(org.apache.kafka.streams.processor.api.ProcessorContext<String, byte[]> context, List<String> children,
            org.apache.kafka.streams.processor.api.Record<String, byte[]> r) {
        if (children.isEmpty()) {
            context.forward(r);
            return;
        }
        for (String child : children) {
            context.forward(r, child);
        }
    }
}

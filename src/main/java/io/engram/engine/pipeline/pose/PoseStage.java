package io.engram.engine.pipeline.pose;

import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.model.PoseEstimator;
import io.engram.engine.monitoring.PipelineMeters;
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
 * The pose stage before the step, in the two layouts of the video pipeline's frame stage
 * ({@link io.engram.engine.pipeline.video.FrameStage.Layout}):
 *
 * <pre>
 * split: &lt;frames&gt;-source --&gt; pose-estimate [tracks store] --&gt; &lt;keypoints&gt;-sink
 * fused: &lt;frames&gt;-source --&gt; pose-estimate [tracks store] --&gt; &lt;step&gt; [state store] --&gt; outputs
 *                                                        \--&gt; &lt;keypoints&gt;-sink (optional)
 * </pre>
 *
 * The tracks store (key = camera, value = {@link PersonTracks} bytes) is a persistent store with a
 * changelog, so under exactly-once a camera's tracks are restored with the task.
 */
public final class PoseStage {
    public static final String ESTIMATE = "pose-estimate";

    private PoseStage() {}

    /**
     * Adds a source on {@code framesTopic} and the pose node.
     *
     * @param keypointsTopic where the per-person records are written, or null for none (fused only)
     * @param next the step node (added by the caller after this call, {@link #ESTIMATE} as its parent), or null (split)
     * @return the pose node's name
     */
    public static String add(Topology topology, String framesTopic, String keypointsTopic, String next, PoseEstimator pose,
            PersonTracker tracker, String trackStore, float minPersonScore, int maxFrameBytes, long maxPixels, PipelineMeters meters) {
        if (keypointsTopic == null && next == null) {
            throw new IllegalArgumentException("the pose stage's records must go somewhere");
        }
        String sink = keypointsTopic == null ? null : keypointsTopic + "-sink";
        List<String> children = new ArrayList<>();
        if (next != null) {
            children.add(next);
        }
        if (sink != null) {
            children.add(sink);
        }
        StoreBuilder<KeyValueStore<String, byte[]>> store = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(trackStore), Serdes.String(), Serdes.ByteArray());
        ProcessorSupplier<String, byte[], String, byte[]> estimate = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, byte[]> get() {
                return new PoseFrameProcessor(pose, tracker, trackStore, minPersonScore, maxFrameBytes, maxPixels, meters, children);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(store);
            }
        };
        String source = framesTopic + "-source";
        topology.addSource(source, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), framesTopic);
        topology.addProcessor(ESTIMATE, estimate, source);
        if (sink != null) {
            topology.addSink(sink, keypointsTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), ESTIMATE);
        }
        return ESTIMATE;
    }
}

package io.engram.engine.step;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.kafka.TopicSpec;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.state.PayloadCodec;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;

import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Adds the recurrent step of a pipeline to a topology, the same way for every pipeline: a source
 * on the step's input topic, the {@link StepProcessor} with its head and its state store, and a
 * JSON sink per output topic (the head's outputs and the state events). Every node and the store
 * are named, so that changelog topics and error messages are stable and readable:
 *
 * <pre>
 * &lt;input&gt;-source --&gt; &lt;store minus "-state"&gt;-step [store] --&gt; &lt;output topic&gt;-sink, one per output role
 *                                                      \--&gt; &lt;state_events topic&gt;-sink (resets, expiries)
 * </pre>
 */
public final class StepTopology {
    /** The sink role of the state events. */
    public static final TopicRole STATE_EVENTS = TopicRole.STATE_EVENTS;

    private StepTopology() {}

    /** The step node's name for a store: {@code sensor-rnn-state} steps in {@code sensor-rnn-step}. */
    public static String stepNode(String store) {
        return (store.endsWith("-state") ? store.substring(0, store.length() - "-state".length()) : store) + "-step";
    }

    /**
     * Adds the step to {@code topology}, reading the topic of {@code spec}'s step input role.
     *
     * @param heads the head's codec and output roles, and one head per task
     * @param model the shared step model, or null for the model-less baseline
     * @return the step node's name
     */
    public static <I, P> String addStep(Topology topology, PipelineSpec spec, ModelManifest manifest, StepSession model,
            PipelineMeters meters, HeadType<I, P> heads) {
        return addStep(topology, spec, manifest, model, meters, heads, null);
    }

    /**
     * As {@link #addStep(Topology, PipelineSpec, ModelManifest, StepSession, PipelineMeters, HeadType)};
     * with a {@code parent} node the step reads what that node forwards (values in the form of the
     * step input topic's records) in the same sub-topology, instead of a source on the topic: one
     * task and one transaction from the parent's input to the step's outputs.
     *
     * @param parent the node the step's input comes from, or null for a source on the step input topic
     */
    public static <I, P> String addStep(Topology topology, PipelineSpec spec, ModelManifest manifest, StepSession model,
            PipelineMeters meters, HeadType<I, P> heads, String parent) {
        return addStep(topology, spec, manifest, model == null ? null : () -> model.newStep(1), meters, heads, parent);
    }

    /**
     * As {@link #addStep(Topology, PipelineSpec, ModelManifest, StepSession, PipelineMeters, HeadType, String)},
     * with the model step made by {@code steps} per task (null: the model-less baseline).
     */
    public static <I, P> String addStep(Topology topology, PipelineSpec spec, ModelManifest manifest,
            Supplier<? extends io.engram.engine.model.RecurrentStep> steps, PipelineMeters meters, HeadType<I, P> heads, String parent) {
        List<TopicRole> roles = heads.outputRoles();
        PayloadCodec<P> codec = heads.codec();
        PipelineTopics topics = spec.topics();
        String input = topics.name(spec.kind().stepInputRole());
        String source = parent != null ? parent : input + "-source";
        String step = stepNode(spec.stateStore());
        // role -> sink node; one sink per distinct topic
        Map<TopicRole, String> sinks = new LinkedHashMap<>();
        Map<String, String> sinkOfTopic = new LinkedHashMap<>();
        for (TopicRole role : concat(roles, STATE_EVENTS)) {
            String topic = topics.name(role);
            sinks.put(role, sinkOfTopic.computeIfAbsent(topic, x -> x + "-sink"));
        }
        StoreBuilder<KeyValueStore<String, StreamState<P>>> store = Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(spec.stateStore()), Serdes.String(), new StateSerde<>(codec));
        ProcessorSupplier<String, byte[], String, Object> supplier = new ProcessorSupplier<>() {
            @Override
            public Processor<String, byte[], String, Object> get() {
                return new StepProcessor<>(heads.newHead(), manifest, steps, spec.stateStore(), spec.outOfOrder(), spec.statePolicy(), meters,
                        sinks);
            }

            @Override
            public Set<StoreBuilder<?>> stores() {
                return Set.of(store);
            }
        };
        if (parent == null) {
            topology.addSource(source, new InputKeyDeserializer(), Serdes.ByteArray().deserializer(), input);
        }
        topology.addProcessor(step, supplier, source);
        for (Map.Entry<String, String> e : sinkOfTopic.entrySet()) {
            TopicSpec<String, Object> out = TopicSpec.json(e.getKey());
            topology.addSink(e.getValue(), out.name(), out.keySerde().serializer(), out.valueSerde().serializer(), step);
        }
        return step;
    }

    private static java.util.List<TopicRole> concat(java.util.List<TopicRole> roles, TopicRole last) {
        java.util.List<TopicRole> all = new java.util.ArrayList<>(roles);
        all.add(last);
        return all;
    }
}

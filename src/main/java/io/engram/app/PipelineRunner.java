package io.engram.app;

import io.engram.embedded.EmbeddedKafka;
import io.engram.errors.ConfigException;
import io.engram.errors.DeadLetterHandler;
import io.engram.model.ModelManifest;
import io.engram.model.EncoderModel;
import io.engram.model.StepModel;
import io.engram.monitoring.EngramMetrics;
import io.engram.topology.PipelineConfig;
import io.engram.topology.SensorTopology;
import io.engram.topology.Topics;
import io.engram.video.VideoPipelineConfig;
import io.engram.video.VideoTopology;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * Runs one sensor pipeline against a Kafka cluster: loads the model, creates missing topics, builds
 * the topology and starts Kafka Streams. Owns the {@link StepModel}, the {@link KafkaStreams}
 * instance and the Kafka Streams meter binder; {@link #close()} closes them (leaving the consumer
 * group, so a restart does not wait out the session timeout) and is idempotent.
 */
public final class PipelineRunner implements AutoCloseable {
    private final String name;
    private final java.util.List<AutoCloseable> models;
    private final KafkaStreams streams;
    private final EngramMetrics metrics;
    private final KafkaStreamsMetrics streamsMetrics;
    private boolean closed;

    /**
     * @param stateDir Kafka Streams state directory (RocksDB stores)
     * @param registry where metrics go (a Prometheus registry in production)
     * @param withModel false runs the baseline with the model call removed (benchmarks only)
     */
    public static PipelineRunner start(PipelineConfig config, String bootstrap, Path stateDir, MeterRegistry registry, boolean withModel) {
        return start(config, bootstrap, stateDir, registry, withModel, java.util.Map.of());
    }

    /**
     * As {@link #start(PipelineConfig, String, Path, MeterRegistry, boolean)}, with extra Kafka
     * Streams properties ({@code engram run --streams-property}) applied last, over Engram's own.
     */
    public static PipelineRunner start(PipelineConfig config, String bootstrap, Path stateDir, MeterRegistry registry, boolean withModel,
            java.util.Map<String, String> streamsOverrides) {
        // Local problems (manifest, model file) first: they need no broker to be found.
        ModelManifest manifest = ModelManifest.load(config.modelManifest());
        StepModel model = StepModel.load(manifest);
        try {
            checkReachable(bootstrap);
            Topics t = config.topics();
            EmbeddedKafka.createTopics(bootstrap, t.partitions(), t.replicationFactor(), t.input(), t.predictions(),
                    t.anomalies(), t.deadLetter(), t.stateEvents());
            EngramMetrics metrics = new EngramMetrics(config.name());
            metrics.bindTo(registry);
            Topology topology = SensorTopology.build(config, manifest, withModel ? model : null, metrics);
            Properties props = streamsProperties(config, bootstrap, stateDir, metrics);
            props.putAll(streamsOverrides);
            KafkaStreams streams = new KafkaStreams(topology, props);
            return start(config.name(), streams, metrics, registry, java.util.List.of(model));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Runs a video activity pipeline: frames -> CNN features -> recurrent classifier. */
    public static PipelineRunner startVideo(VideoPipelineConfig config, String bootstrap, Path stateDir, MeterRegistry registry) {
        return startVideo(config, bootstrap, stateDir, registry, java.util.Map.of());
    }

    /** As {@link #startVideo(VideoPipelineConfig, String, Path, MeterRegistry)}, with extra Kafka Streams properties applied last. */
    public static PipelineRunner startVideo(VideoPipelineConfig config, String bootstrap, Path stateDir, MeterRegistry registry,
            java.util.Map<String, String> streamsOverrides) {
        EncoderModel encoder = EncoderModel.load(ModelManifest.load(config.encoderManifest()), 1);
        StepModel classifier;
        try {
            classifier = StepModel.load(ModelManifest.load(config.modelManifest()));
        } catch (RuntimeException e) {
            encoder.close();
            throw e;
        }
        try {
            checkReachable(bootstrap);
            VideoPipelineConfig.Topics t = config.topics();
            EmbeddedKafka.createTopics(bootstrap, t.partitions(), t.replicationFactor(), t.frames(), t.features(),
                    t.predictions(), t.events(), t.deadLetter(), t.stateEvents());
            EngramMetrics metrics = new EngramMetrics(config.name());
            metrics.bindTo(registry);
            Topology topology = VideoTopology.build(config, encoder, classifier, metrics);
            Properties props = streamsProperties(config.applicationId(), config.guarantee(), config.commitIntervalMs(),
                    config.threads(), t.replicationFactor(), t.deadLetter(), bootstrap, stateDir, metrics);
            props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, config.standbyReplicas());
            props.putAll(streamsOverrides);
            return start(config.name(), new KafkaStreams(topology, props), metrics, registry, java.util.List.of(classifier, encoder));
        } catch (RuntimeException e) {
            classifier.close();
            encoder.close();
            throw e;
        }
    }

    private static PipelineRunner start(String name, KafkaStreams streams, EngramMetrics metrics, MeterRegistry registry,
            java.util.List<AutoCloseable> models) {
        KafkaStreamsMetrics km = new KafkaStreamsMetrics(streams);
        km.bindTo(registry);
        streams.start();
        return new PipelineRunner(name, models, streams, metrics, km);
    }

    private PipelineRunner(String name, java.util.List<AutoCloseable> models, KafkaStreams streams, EngramMetrics metrics,
            KafkaStreamsMetrics km) {
        this.name = name;
        this.models = models;
        this.streams = streams;
        this.metrics = metrics;
        this.streamsMetrics = km;
    }

    /** The Kafka Streams settings of a pipeline; shared with the TopologyTestDriver tests. */
    public static Properties streamsProperties(PipelineConfig config, String bootstrap, Path stateDir, EngramMetrics metrics) {
        Properties p = streamsProperties(config.applicationId(), config.guarantee(), config.commitIntervalMs(), config.threads(),
                config.topics().replicationFactor(), config.topics().deadLetter(), bootstrap, stateDir, metrics);
        // Warm copies of other instances' state: a failover resumes from a nearly current store
        // instead of replaying the whole changelog.
        p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, config.standbyReplicas());
        return p;
    }

    /** The Kafka Streams settings every Engram pipeline shares. */
    public static Properties streamsProperties(String applicationId, String guarantee, long commitIntervalMs, int threads,
            short replicationFactor, String deadLetterTopic, String bootstrap, Path stateDir, EngramMetrics metrics) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) replicationFactor);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(DeadLetterHandler.DEAD_LETTER_TOPIC, deadLetterTopic);
        p.put(DeadLetterHandler.METRICS, metrics);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        return p;
    }

    /** Fails fast, with the fix, when no broker answers at {@code bootstrap}. */
    public static void checkReachable(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster().clusterId().get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new ConfigException("Cannot reach a Kafka broker at " + bootstrap + " (" + e.getClass().getSimpleName()
                    + "). Fix: check --bootstrap-servers and that the cluster is up (or run `./engram broker`).", e);
        } catch (Throwable t) {
            throw new ConfigException("Bad --bootstrap-servers '" + bootstrap + "': " + t.getMessage(), t);
        }
    }

    public KafkaStreams streams() {
        return streams;
    }

    public EngramMetrics metrics() {
        return metrics;
    }

    public String name() {
        return name;
    }

    /** Waits until Kafka Streams is RUNNING; false on timeout or failure. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            KafkaStreams.State s = streams.state();
            if (s == KafkaStreams.State.RUNNING) {
                return true;
            }
            if (s == KafkaStreams.State.ERROR || s == KafkaStreams.State.NOT_RUNNING || s == KafkaStreams.State.PENDING_ERROR) {
                return false;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(30)));
        } finally {
            streamsMetrics.close();
            for (AutoCloseable m : models) {
                try {
                    m.close();
                } catch (Exception e) {
                    // closing native sessions at shutdown: nothing left to save
                }
            }
        }
    }
}

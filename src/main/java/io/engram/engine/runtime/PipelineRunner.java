package io.engram.engine.runtime;

import io.engram.engine.kafka.DeadLetterCounter;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.kafka.ProcessingErrors;
import io.engram.engine.state.StateEvent;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.ReplicationCheck;
import io.engram.engine.kafka.TopicAdmin;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.EngramMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * Runs one pipeline, of any type, against a Kafka cluster: loads the model, has the pipeline's kind
 * build its topology (and load any further model), checks the cluster, creates missing topics and
 * starts Kafka Streams. Owns the models, the {@link KafkaStreams} instance and the Kafka Streams
 * meter binder; {@link #close()} closes them (leaving the consumer group, so a restart does not wait
 * out the session timeout) and is idempotent.
 */
public final class PipelineRunner implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PipelineRunner.class);
    private final PipelineSpec spec;
    private final ModelManifest manifest;
    private final List<AutoCloseable> owned;
    private final KafkaStreams streams;
    private final EngramMetrics metrics;
    private final KafkaStreamsMetrics streamsMetrics;
    private final java.util.concurrent.atomic.AtomicReference<Throwable> failure;
    private final List<String> replicationWarnings;
    private boolean closed;

    /**
     * How {@link #start(PipelineSpec, String, Path, MeterRegistry, StartOptions)} starts a pipeline;
     * {@link #DEFAULTS} is what {@code engram run} does. Immutable.
     *
     * @param withModel false runs the baseline with the model call removed (benchmarks only)
     * @param streamsOverrides extra Kafka Streams properties ({@code engram run --streams-property}),
     *     applied last, over the file's {@code kafka:} section
     * @param createTopics false: the pipeline's topics must exist (a locked-down cluster), and a
     *     missing one is a start-up error naming it
     * @param resetChangelogs true: the operator allows the deletion of this topology's changelogs when
     *     the topics they were built from were recreated (see {@link #withResetChangelogs})
     */
    public record StartOptions(boolean withModel, Map<String, String> streamsOverrides, boolean createTopics,
            boolean resetChangelogs) {
        /** With the model, no extra properties, missing topics created, no topic ever deleted. */
        public static final StartOptions DEFAULTS = new StartOptions(true, Map.of(), true, false);

        public StartOptions {
            streamsOverrides = Map.copyOf(streamsOverrides);
        }

        /** The same, with the model call removed: the baseline that measures the model's cost. */
        public StartOptions withoutModel() {
            return new StartOptions(false, streamsOverrides, createTopics, resetChangelogs);
        }

        /** The same, with these extra Kafka Streams properties. */
        public StartOptions withStreamsOverrides(Map<String, String> overrides) {
            return new StartOptions(withModel, overrides, createTopics, resetChangelogs);
        }

        /** The same, creating missing topics or not ({@code engram run --no-create-topics}). */
        public StartOptions withCreateTopics(boolean create) {
            return new StartOptions(withModel, streamsOverrides, create, resetChangelogs);
        }

        /**
         * The same, allowed or not to delete this topology's changelogs when an input or changelog
         * topic they were built from was recreated or deleted ({@code engram run --reset-changelogs}).
         * Without it such a start stops with a {@link io.engram.engine.errors.ConfigException} naming
         * them; with it exactly those changelogs (named from the topology's stores) are deleted. It
         * deletes nothing when the state's origin is intact.
         */
        public StartOptions withResetChangelogs(boolean reset) {
            return new StartOptions(withModel, streamsOverrides, createTopics, reset);
        }
    }

    /** As {@link #start(PipelineSpec, String, Path, MeterRegistry, StartOptions)} with {@link StartOptions#DEFAULTS}. */
    public static PipelineRunner start(PipelineSpec spec, String bootstrap, Path stateDir, MeterRegistry registry) {
        return start(spec, bootstrap, stateDir, registry, StartOptions.DEFAULTS);
    }

    /**
     * Loads the pipeline's models, builds its topology, checks the cluster, creates missing topics,
     * checks that the local state belongs to this cluster and these topics (wiping it if not; refusing
     * to start, unless {@link StartOptions#resetChangelogs}, when an input was recreated under
     * changelogs that are still there), warns when an output or changelog is not durable, and starts
     * Kafka Streams. Local problems come first: they need no broker to be found. The runner
     * returned owns everything it made; on failure, what was made is closed before the exception
     * goes on.
     *
     * @param stateDir Kafka Streams state directory (RocksDB stores)
     * @param registry where metrics go (a Prometheus registry in production)
     */
    public static PipelineRunner start(PipelineSpec spec, String bootstrap, Path stateDir, MeterRegistry registry,
            StartOptions options) {
        // The file's kafka: section first; what the command line gives wins over it.
        Map<String, String> overrides = new java.util.LinkedHashMap<>(spec.kafkaProperties());
        overrides.putAll(options.streamsOverrides());
        ModelManifest manifest = ModelManifest.load(spec.modelManifest());
        List<AutoCloseable> owned = new ArrayList<>();
        StepSession model = StepSession.load(manifest);
        owned.add(model);
        try {
            EngramMetrics metrics = new EngramMetrics(spec.name());
            metrics.bindTo(registry);
            BuiltPipeline built = spec.kind().build(spec, manifest, options.withModel() ? model : null, metrics);
            owned.add(built);
            Topology topology = built.topology();
            Map<String, String> admin = adminProperties(overrides);
            TopicAdmin.checkReachable(bootstrap, admin);
            PipelineTopics t = spec.topics();
            TopicAdmin.createTopics(bootstrap, admin, t.partitions(), t.replicationFactor(), spec.usedTopics(), options.createTopics());
            Properties props = streamsProperties(spec, bootstrap, stateDir, metrics);
            props.putAll(overrides);
            List<String> changelogs = changelogTopics(props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG), topology);
            List<String> replicationWarnings = checkReplication(spec, bootstrap, admin, props, changelogs);
            Origin origin = new Origin(spec, bootstrap, admin, props, sourceTopics(topology), changelogs);
            // Before Kafka Streams is made: making it already writes to the state directory.
            origin.check(options.resetChangelogs());
            KafkaStreams streams = new KafkaStreams(topology, props);
            origin.wipeIfForeign(streams, metrics, overrides);
            origin.recordWhenRunning(streams);
            KafkaStreamsMetrics km = bindStreamsMeters(spec, streams, registry);
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = stopOnUncaughtException(spec, streams,
                    (ProcessingErrors) props.get(ProcessingErrors.CONFIG));
            streams.start();
            return new PipelineRunner(spec, manifest, owned, streams, metrics, km, failure, replicationWarnings);
        } catch (RuntimeException e) {
            closeAll(owned);
            throw e;
        }
    }

    /**
     * Where a pipeline's local state came from (see {@link StateOrigin}): the cluster and the ids of
     * its source and changelog topics, as recorded in the state directory. Used by {@link #start}
     * only, on the starting thread and then once on a daemon thread when Kafka Streams runs.
     */
    private static final class Origin {
        private final PipelineSpec spec;
        private final String bootstrap;
        private final Map<String, String> admin;
        private final Path stateRoot;
        private final String appId;
        private final List<String> sources;
        private final List<String> changelogs;
        private final Path file;
        private TopicAdmin.Identity identity;
        private StateOrigin.Verdict verdict;
        private List<String> reset = List.of();

        Origin(PipelineSpec spec, String bootstrap, Map<String, String> admin, Properties props, List<String> sources,
                List<String> changelogs) {
            this.spec = spec;
            this.bootstrap = bootstrap;
            this.admin = admin;
            this.stateRoot = Path.of(props.getProperty(StreamsConfig.STATE_DIR_CONFIG));
            this.appId = props.getProperty(StreamsConfig.APPLICATION_ID_CONFIG);
            this.sources = sources;
            this.changelogs = changelogs;
            this.file = StateOrigin.file(stateRoot, appId);
        }

        /** The inputs and this topology's changelogs, by their exact names. */
        private TopicAdmin.Identity identify() {
            java.util.Set<String> names = new java.util.TreeSet<>(sources);
            names.addAll(changelogs);
            return TopicAdmin.identify(bootstrap, admin, names);
        }

        /**
         * A topic the state was built from: an input, or one of this topology's changelogs. A record
         * written when changelogs were found by prefix may also name another application's
         * ({@code <id>-eu-...-changelog} for application {@code <id>}): those are not compared.
         */
        private boolean tracked(String topic) {
            boolean changelogLike = topic.startsWith(appId + "-") && topic.endsWith(CHANGELOG_SUFFIX);
            return !changelogLike || changelogs.contains(topic);
        }

        /**
         * Is the local state this cluster's and these topics'? Call before Kafka Streams touches
         * the state directory (before it is made). When a topic the state was built from was
         * recreated or deleted and some of this topology's changelogs are still there, they no longer
         * match the input: without {@code reset} the start stops here, with one line naming them and
         * the command that resets them, having deleted and wiped nothing.
         */
        void check(boolean resetChangelogs) {
            identity = identify();
            verdict = StateOrigin.check(file, identity, StateOrigin.hasLocalState(stateRoot, appId), this::tracked);
            if (verdict == null || !verdict.historyGone()) {
                if (resetChangelogs) {
                    LOG.info("pipeline {}: --reset-changelogs: nothing to reset, the state's topics are those it was built from", spec.name());
                }
                return;
            }
            List<String> left = changelogs.stream().filter(identity.topicIds()::containsKey).toList();
            if (!left.isEmpty() && !resetChangelogs) {
                throw new io.engram.engine.errors.ConfigException("pipeline " + spec.name() + ": a topic its state was built from changed ("
                        + verdict.detail() + "), so its changelogs " + String.join(", ", left)
                        + " no longer match its input; nothing was deleted. Fix: to start every stream afresh from the current input"
                        + " position, stop every instance of " + appId + " and run once `engram run --config "
                        + (spec.file() == null ? "FILE" : spec.file().toString()) + " ... --reset-changelogs`,"
                        + " which deletes exactly these changelogs and wipes the local state");
            }
            reset = left;
        }

        /**
         * After {@link #check}: wipes the local state if it is another cluster's or other topics'
         * (before any record is stepped), deleting the changelogs that the operator allowed to go,
         * announces the wipe, and records the origin.
         */
        void wipeIfForeign(KafkaStreams streams, EngramMetrics metrics, Map<String, String> overrides) {
            if (verdict != null) {
                String what = "it is rebuilt from the changelogs";
                if (verdict.historyGone()) {
                    // An input or changelog topic of this cluster was recreated or deleted: the
                    // changelogs hold a history that no longer matches the input. Those left were
                    // allowed to go (--reset-changelogs); every stream starts afresh from the current
                    // input position.
                    TopicAdmin.deleteTopics(bootstrap, admin, reset);
                    identity = identify();
                    what = reset.isEmpty() ? "its changelogs are gone: every stream starts afresh"
                            : "its changelogs " + reset + " were deleted (--reset-changelogs): every stream starts afresh";
                }
                streams.cleanUp();
                LOG.warn("pipeline {}: local state in {} wiped before start: {} ({}); {}",
                        spec.name(), stateRoot.resolve(appId), verdict.detail(), verdict.reason(), what);
                metrics.stateWiped(verdict.reason());
                announceWipe(bootstrap, overrides, spec.topics().stateEvents(), appId, verdict);
            }
            writeOrigin(file, identity);
        }

        /**
         * The changelogs exist once Kafka Streams runs: record their ids too, so that a changelog
         * deleted or recreated later is caught at the next start.
         */
        void recordWhenRunning(KafkaStreams streams) {
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING) {
                    Thread th = new Thread(() -> {
                        try {
                            writeOrigin(file, identify());
                        } catch (RuntimeException e) {
                            LOG.warn("pipeline {}: could not record the changelogs' ids in {}: {}", spec.name(), file, e.getMessage());
                        }
                    }, "engram-state-origin");
                    th.setDaemon(true);
                    th.start();
                }
            });
        }
    }

    /**
     * Warns, once at start and at most one line per group (outputs, changelogs), when a topic the
     * pipeline writes is not durable on this cluster ({@link ReplicationCheck}): the outputs as they
     * exist, the changelogs as they exist or as Kafka Streams will create them (its
     * {@code replication.factor}, which follows {@code topics.replication_factor} unless overridden;
     * -1 is the broker's {@code default.replication.factor}). Advisory: a cluster that refuses to
     * describe its configs (ACLs) is noted at INFO and the start goes on. On a one-broker cluster only
     * a factor below {@code min.insync.replicas} is reported, so a clean demo start warns about nothing.
     *
     * @return the lines logged at WARN
     */
    static List<String> checkReplication(PipelineSpec spec, String bootstrap, Map<String, String> admin, Properties props,
            List<String> changelogs) {
        List<String> lines = new ArrayList<>();
        try {
            Object rf = props.get(StreamsConfig.REPLICATION_FACTOR_CONFIG);
            int changelogFactor = rf == null ? -1 : Integer.parseInt(rf.toString().trim());
            Object mi = props.get(StreamsConfig.topicPrefix(org.apache.kafka.common.config.TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG));
            Integer changelogMinInsync = mi == null ? null : Integer.valueOf(mi.toString().trim());
            String outputs = ReplicationCheck.warning(spec.name(), "outputs",
                    ReplicationCheck.describe(bootstrap, admin, spec.outputTopics(), spec.topics().replicationFactor(), null));
            String logs = ReplicationCheck.warning(spec.name(), "changelogs",
                    ReplicationCheck.describe(bootstrap, admin, changelogs, changelogFactor, changelogMinInsync));
            for (String line : java.util.Arrays.asList(outputs, logs)) {
                if (line != null) {
                    lines.add(line);
                    LOG.warn(line);
                }
            }
        } catch (RuntimeException e) {
            LOG.info("pipeline {}: the replication of its topics was not checked: {}", spec.name(), e.getMessage());
        }
        return List.copyOf(lines);
    }

    /**
     * Binds Kafka Streams' own meters, with the pipeline's tag so that a dashboard can pick one
     * pipeline, and the client's state as a gauge per state (1 for the current one): "is it RUNNING"
     * on a dashboard and in alerts. The binder returned is the runner's, closed with it.
     */
    private static KafkaStreamsMetrics bindStreamsMeters(PipelineSpec spec, KafkaStreams streams, MeterRegistry registry) {
        KafkaStreamsMetrics km = new KafkaStreamsMetrics(streams, io.micrometer.core.instrument.Tags.of("pipeline", spec.name()));
        km.bindTo(registry);
        for (KafkaStreams.State st : KafkaStreams.State.values()) {
            io.micrometer.core.instrument.Gauge.builder("engram.streams.state", streams, k -> k.state() == st ? 1 : 0)
                    .description("Kafka Streams client state: 1 for the current state, 0 for the others")
                    .tag("pipeline", spec.name()).tag("state", st.name()).register(registry);
        }
        return km;
    }

    /**
     * An exception no handler resumed from (an output the broker refuses under exactly-once, an
     * output topic gone, authorisation revoked, ...) stops the whole instance, so that its
     * supervisor sees it and restarts it; the cause is kept, in the reference returned, for the
     * one-line report (led by {@code errors}' verdict when too many records failed in processing).
     */
    private static java.util.concurrent.atomic.AtomicReference<Throwable> stopOnUncaughtException(PipelineSpec spec,
            KafkaStreams streams, ProcessingErrors errors) {
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, errors == null ? e : errors.explain(e));
            LOG.error("pipeline {} stops: {}", spec.name(), e.toString(), e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        return failure;
    }

    private PipelineRunner(PipelineSpec spec, ModelManifest manifest, List<AutoCloseable> owned, KafkaStreams streams, EngramMetrics metrics,
            KafkaStreamsMetrics km, java.util.concurrent.atomic.AtomicReference<Throwable> failure, List<String> replicationWarnings) {
        this.failure = failure;
        this.replicationWarnings = replicationWarnings;
        this.spec = spec;
        this.manifest = manifest;
        this.owned = owned;
        this.streams = streams;
        this.metrics = metrics;
        this.streamsMetrics = km;
    }

    private static final String CHANGELOG_SUFFIX = "-changelog";

    /**
     * The changelog topics of a topology's stores, as Kafka Streams names them:
     * {@code <application.id>-<store>-changelog}, one per store, by name (never a prefix).
     */
    public static List<String> changelogTopics(String applicationId, Topology topology) {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        for (var sub : topology.describe().subtopologies()) {
            for (var node : sub.nodes()) {
                if (node instanceof org.apache.kafka.streams.TopologyDescription.Processor p) {
                    for (String store : p.stores()) {
                        out.add(applicationId + "-" + store + CHANGELOG_SUFFIX);
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    /** The topics the topology reads: the histories its state is built from. */
    static List<String> sourceTopics(Topology topology) {
        java.util.TreeSet<String> out = new java.util.TreeSet<>();
        for (var sub : topology.describe().subtopologies()) {
            for (var node : sub.nodes()) {
                if (node instanceof org.apache.kafka.streams.TopologyDescription.Source src && src.topicSet() != null) {
                    out.addAll(src.topicSet());
                }
            }
        }
        return List.copyOf(out);
    }

    private static synchronized void writeOrigin(Path origin, TopicAdmin.Identity identity) {
        try {
            StateOrigin.write(origin, identity);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot write " + origin + ": " + e.getMessage()
                    + ". Fix: make the state directory writable (--state-dir).", e);
        }
    }

    /**
     * Puts the wipe on the state-events topic: {@code event} "wiped", the reason, the application id
     * as the key and no stream. Unlike the other state events it comes from the wall clock, because a
     * wipe is about an instance's disk, not about the input.
     */
    private static void announceWipe(String bootstrap, Map<String, String> overrides, String topic, String appId,
            StateOrigin.Verdict v) {
        Properties p = new Properties();
        p.putAll(clientProperties(overrides, ProducerConfig.configNames(), StreamsConfig.PRODUCER_PREFIX));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        StateEvent e = new StateEvent(null, StateEvent.WIPED, v.reason(), System.currentTimeMillis(), 0, null, null, null, null, null);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, appId.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    new JsonSerde<>(StateEvent.class).serialize(topic, e))).get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception ex) {
            LOG.warn("pipeline {}: could not announce the wipe on {}: {}", appId, topic, ex.getMessage());
        }
    }

    /** The overrides that concern an admin client: {@code admin.}-prefixed ones, unprefixed, and admin client settings as they are. */
    static Map<String, String> adminProperties(Map<String, String> overrides) {
        return clientProperties(overrides, AdminClientConfig.configNames(), StreamsConfig.ADMIN_CLIENT_PREFIX);
    }

    /** The overrides that concern one kind of client: its settings as they are, then those with its Kafka Streams prefix. */
    private static Map<String, String> clientProperties(Map<String, String> overrides, java.util.Set<String> names, String prefix) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        overrides.forEach((k, v) -> {
            if (names.contains(k)) {
                m.put(k, v);
            }
        });
        overrides.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                m.put(k.substring(prefix.length()), v);
            }
        });
        return m;
    }

    /** The Kafka Streams settings of a pipeline; shared with the TopologyTestDriver tests. */
    public static Properties streamsProperties(PipelineSpec spec, String bootstrap, Path stateDir, EngramMetrics metrics) {
        PipelineSpec.Processing pr = spec.processing();
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, spec.applicationId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, pr.guarantee());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, pr.commitIntervalMs());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, pr.threads());
        // Warm copies of other instances' state: a failover resumes from a nearly current store
        // instead of replaying the whole changelog.
        p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, pr.standbyReplicas());
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) spec.topics().replicationFactor());
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        // Engram has no global stores, so this changes nothing today; it is Kafka 5.0's default, and
        // left unset Kafka Streams warns at every start: once for the application's config, and once
        // for the copy that the partition assignor makes from the main consumer's.
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, "true");
        p.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), "true");
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(DeadLetterHandler.DEAD_LETTER_TOPIC, spec.topics().deadLetter());
        p.put(DeadLetterHandler.METRICS, metrics);
        p.put(ProcessingErrors.CONFIG, new ProcessingErrors(pr.errorWindow(), pr.maxErrorShare()));
        // Dead letters are counted once the broker acknowledged them, by an interceptor of Kafka Streams' producers.
        DeadLetterCounter.Counts deadLetters = new DeadLetterCounter.Counts(spec.topics().deadLetter(), metrics);
        p.put(DeadLetterCounter.CONFIG, deadLetters);
        p.put(StreamsConfig.producerPrefix(DeadLetterCounter.CONFIG), deadLetters);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG), DeadLetterCounter.class.getName());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        if (PipelineSpec.Processing.LIVE.equals(pr.profile())) {
            // Latency first: send at once, and let a fetch return as soon as one record is there
            // (the consumer's default waits up to 500 ms for a fuller fetch when input is sparse).
            p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
            p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 5);
            p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), 1);
        } else if (PipelineSpec.Processing.THROUGHPUT.equals(pr.profile())) {
            // Batching first: fuller producer batches and fetches, fewer transactions (commit_interval_ms 1000).
            p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 20);
            p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
            p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), 64 * 1024);
            p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 2000);
        }
        if (spec.statePolicy().memoryMb() > 0) {
            p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDb.class);
            p.put(BoundedRocksDb.MEMORY_MB, spec.statePolicy().memoryMb());
        }
        return p;
    }

    /**
     * Why these pipelines are not all RUNNING, e.g. {@code "sensor-anomaly is REBALANCING"}, or null
     * when they are: the answer of {@code /ready}. None yet is "starting".
     */
    public static String notReady(java.util.Collection<PipelineRunner> runners) {
        if (runners.isEmpty()) {
            return "starting";
        }
        for (PipelineRunner r : runners) {
            KafkaStreams.State state = r.streams().state();
            if (state != KafkaStreams.State.RUNNING) {
                return r.name() + " is " + state;
            }
        }
        return null;
    }

    public PipelineSpec spec() {
        return spec;
    }

    /**
     * The lines this start logged at WARN because an output or changelog is not durable on this
     * cluster (see {@link #checkReplication}); empty when none was.
     */
    public List<String> replicationWarnings() {
        return replicationWarnings;
    }

    /** The step model's manifest (its id, version, labels). */
    public ModelManifest manifest() {
        return manifest;
    }

    public KafkaStreams streams() {
        return streams;
    }

    public EngramMetrics metrics() {
        return metrics;
    }

    public String name() {
        return spec.name();
    }

    /**
     * Why the pipeline stopped on its own, in one line: the exception's message and its innermost
     * cause's type and message; null while it has not failed.
     */
    public String failure() {
        return oneLine(failure.get());
    }

    static String oneLine(Throwable t) {
        if (t == null) {
            return null;
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getClass().getSimpleName() + ": " + root.getMessage();
        if (root != t && t.getMessage() != null) {
            msg = t.getMessage() + " (" + msg + ")";
        }
        return msg.replaceAll("\\s+", " ").trim();
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
            closeAll(owned);
        }
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (AutoCloseable m : owned) {
            try {
                m.close();
            } catch (Exception e) {
                // closing native sessions at shutdown: nothing left to save
            }
        }
    }
}

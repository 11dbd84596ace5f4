package io.engram.engine.config;

import io.engram.engine.kafka.KafkaProperties;
import io.engram.engine.kafka.PipelineTopics;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.errors.ConfigException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A pipeline definition from {@code topology/*.yaml}: the sections every pipeline has, parsed here
 * once, and the kind's own settings, parsed by its {@link PipelineKind}. Immutable.
 * {@link #load} validates every key and names the file and the key in every error; unknown keys
 * are errors too, since a typo would otherwise silently use a default.
 *
 * @param kind the pipeline type ({@code type:}; {@code anomaly} when absent)
 * @param modelManifest the step model's manifest ({@code model.manifest}), resolved against the file
 * @param metricsHost the address /metrics, /health and /ready bind ({@code metrics.host}; 127.0.0.1 when absent)
 * @param kafkaProperties Kafka client properties for every client of the pipeline ({@code kafka:}),
 *     {@code ${NAME}} already replaced by the environment variable
 * @param settings the kind's own settings (e.g. the forecaster head's scoring), of the type its kind
 *     parses; read them typed with {@link #settings(PipelineKind)}
 */
public record PipelineSpec(
        Path file,
        PipelineKind<?> kind,
        String name,
        String applicationId,
        PipelineTopics topics,
        Path modelManifest,
        String stateStore,
        OutOfOrder outOfOrder,
        StatePolicy statePolicy,
        Processing processing,
        String metricsHost,
        int metricsPort,
        Map<String, String> kafkaProperties,
        Object settings) {

    /**
     * The {@code processing:} section.
     *
     * @param profile {@code live} (latency first), {@code throughput} (batching first), or null
     *     (Engram's middle settings); see {@code PipelineRunner.streamsProperties}
     * @param errorWindow {@code error_window}: the last records over which {@code maxErrorShare} is judged
     * @param maxErrorShare {@code max_error_share}: more than this share of the last {@code errorWindow}
     *     records failing in processing (not bad input) stops the pipeline ({@code io.engram.engine.kafka.ProcessingErrors})
     */
    public record Processing(String guarantee, long commitIntervalMs, int threads, int standbyReplicas, String profile,
            int errorWindow, double maxErrorShare) {
        public static final String LIVE = "live";
        public static final String THROUGHPUT = "throughput";

        /** With the default error limit: more than half of the last 100 records. */
        public Processing(String guarantee, long commitIntervalMs, int threads, int standbyReplicas, String profile) {
            this(guarantee, commitIntervalMs, threads, standbyReplicas, profile, io.engram.engine.kafka.ProcessingErrors.DEFAULT_WINDOW,
                    io.engram.engine.kafka.ProcessingErrors.DEFAULT_MAX_SHARE);
        }

        /** The commit interval a profile sets unless the file gives one: live 20 ms, throughput 1 s, none 100 ms. */
        public static long defaultCommitIntervalMs(String profile) {
            return profile == null ? 100 : profile.equals(LIVE) ? 20 : 1000;
        }
    }

    /** Where /metrics, /health and /ready listen unless {@code metrics.host} says otherwise: this machine only. */
    public static final String DEFAULT_METRICS_HOST = "127.0.0.1";

    public PipelineSpec withMetricsHost(String host) {
        return with(c -> c.metricsHost = host);
    }

    /**
     * The {@code kafka:} section: client properties as flat keys ({@code security.protocol: SASL_SSL}),
     * each value a scalar, {@code ${NAME}} replaced from the environment.
     */
    private static Map<String, String> kafkaSection(Path file, JsonNode k) {
        if (k == null || k.isNull()) {
            return Map.of();
        }
        if (!k.isObject()) {
            throw new io.engram.engine.errors.ConfigException(file + ": kafka must be a map of Kafka client properties, e.g."
                    + " kafka: {security.protocol: SASL_SSL}");
        }
        Map<String, String> out = new java.util.TreeMap<>();
        k.fields().forEachRemaining(e -> {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new io.engram.engine.errors.ConfigException(file + ": kafka." + e.getKey() + " must be a single value (a string or number);"
                        + " write nested keys flat, e.g. sasl.mechanism: PLAIN");
            }
            out.put(e.getKey(), KafkaProperties.substitute(e.getValue().asText(), System::getenv, file + ": kafka." + e.getKey()));
        });
        return java.util.Collections.unmodifiableMap(out);
    }

    /** The type of a file without {@code type:}: the first pipeline, sensor anomaly detection. */
    public static final String DEFAULT_TYPE = "anomaly";

    private static final Set<String> COMMON = Set.of("type", "name", "application_id", "topics", "model", "state", "processing",
            "metrics", "kafka");

    /** The topics users write and this pipeline reads (see {@link PipelineKind#inputRoles}). */
    public List<String> inputTopics() {
        return kind.inputRoles(this).stream().map(topics::name).distinct().toList();
    }

    /** Every topic this pipeline consumes: its inputs, and a topic between two of its stages (see {@link PipelineKind#consumedRoles}). */
    public List<String> consumedTopics() {
        return kind.consumedRoles(this).stream().map(topics::name).distinct().toList();
    }

    /** The topics this pipeline writes: every used one but the inputs. */
    public List<String> outputTopics() {
        List<String> in = inputTopics();
        return usedTopics().stream().filter(t -> !in.contains(t)).toList();
    }

    /** Every topic this pipeline reads or writes, in role order, without repeats: those Engram creates. */
    public List<String> usedTopics() {
        return kind.usedRoles(this).stream().map(topics::name).distinct().toList();
    }

    /**
     * The settings of {@code kind}, typed: the one place they are cast, after checking that this
     * pipeline is of that kind (the settings were made by that kind's {@link PipelineKind#settings},
     * or given with it to {@link #withKind}).
     *
     * @throws IllegalStateException when this pipeline is of another kind (a programming error)
     */
    @SuppressWarnings("unchecked") // S is the type of kind's settings, and this.kind is kind
    public <S> S settings(PipelineKind<S> kind) {
        if (this.kind != kind) {
            throw new IllegalStateException("pipeline " + name + " is of " + this.kind + ", not " + kind);
        }
        return (S) settings;
    }

    public PipelineSpec withApplicationId(String id) {
        return with(c -> c.applicationId = id);
    }

    public PipelineSpec withTopics(PipelineTopics t) {
        return with(c -> c.topics = t);
    }

    public PipelineSpec withMetricsPort(int port) {
        return with(c -> c.metricsPort = port);
    }

    public PipelineSpec withOutOfOrder(OutOfOrder o) {
        return with(c -> c.outOfOrder = o);
    }

    public PipelineSpec withModelManifest(Path manifest) {
        return with(c -> c.modelManifest = manifest);
    }

    public PipelineSpec withStatePolicy(StatePolicy p) {
        return with(c -> c.statePolicy = p);
    }

    public PipelineSpec withProcessing(Processing p) {
        return with(c -> c.processing = p);
    }

    public PipelineSpec withThreads(int n) {
        return withProcessing(new Processing(processing.guarantee(), processing.commitIntervalMs(), n, processing.standbyReplicas(),
                processing.profile(), processing.errorWindow(), processing.maxErrorShare()));
    }

    /** The same file's common settings under another kind, with that kind's settings (benchmark baselines). */
    public <S> PipelineSpec withKind(PipelineKind<S> k, S s) {
        return with(c -> { c.kind = k; c.settings = s; });
    }

    public PipelineSpec withSettings(Object s) {
        return with(c -> c.settings = s);
    }

    /**
     * This spec with some fields changed: each wither edits a {@code Copy} instead of repeating the
     * fourteen-argument constructor.
     */
    private PipelineSpec with(java.util.function.Consumer<Copy> change) {
        Copy c = new Copy(this);
        change.accept(c);
        return c.spec();
    }

    /** The fields of a spec, to change before {@link #spec()} makes the new one. Used by {@link #with} only. */
    private static final class Copy {
        Path file;
        PipelineKind<?> kind;
        String name;
        String applicationId;
        PipelineTopics topics;
        Path modelManifest;
        String stateStore;
        OutOfOrder outOfOrder;
        StatePolicy statePolicy;
        Processing processing;
        String metricsHost;
        int metricsPort;
        Map<String, String> kafkaProperties;
        Object settings;

        Copy(PipelineSpec s) {
            file = s.file;
            kind = s.kind;
            name = s.name;
            applicationId = s.applicationId;
            topics = s.topics;
            modelManifest = s.modelManifest;
            stateStore = s.stateStore;
            outOfOrder = s.outOfOrder;
            statePolicy = s.statePolicy;
            processing = s.processing;
            metricsHost = s.metricsHost;
            metricsPort = s.metricsPort;
            kafkaProperties = s.kafkaProperties;
            settings = s.settings;
        }

        PipelineSpec spec() {
            return new PipelineSpec(file, kind, name, applicationId, topics, modelManifest, stateStore, outOfOrder, statePolicy, processing, metricsHost, metricsPort, kafkaProperties, settings);
        }
    }

    /**
     * Loads a pipeline file.
     *
     * @param kinds the kind of each known type, or null for an unknown one
     * @param known the known types, for the error message
     */
    private static void set(JsonNode root, String key, String value, Path file) {
        String[] parts = key.split("\\.");
        JsonNode n = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode next = n.get(parts[i]);
            if (next == null || next.isNull()) {
                next = ((com.fasterxml.jackson.databind.node.ObjectNode) n).putObject(parts[i]);
            }
            if (!next.isObject()) {
                throw new ConfigException("--set " + key + ": '" + parts[i] + "' in " + file + " is not a section. Fix the key.");
            }
            n = next;
        }
        JsonNode v;
        try {
            v = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(value);
        } catch (java.io.IOException e) {
            throw new ConfigException("--set " + key + "=" + KafkaProperties.mask(key, value) + ": the value is not YAML (" + e.getMessage() + "). Fix the value.");
        }
        ((com.fasterxml.jackson.databind.node.ObjectNode) n).set(parts[parts.length - 1], v);
    }

    public static PipelineSpec load(Path path, Function<String, PipelineKind<?>> kinds, Set<String> known) {
        return load(path, kinds, known, Map.of());
    }

    /**
     * Loads a pipeline file with some keys set on the command line, e.g.
     * {@code scoring.shape.novel_weight=2.0} (the value is read as YAML: a number, a word, a list
     * {@code [a, b]}), as if the file said so; for experiments such as the anomaly protocol's.
     */
    public static PipelineSpec load(Path path, Function<String, PipelineKind<?>> kinds, Set<String> known, Map<String, String> overrides) {
        Path file = path.toAbsolutePath().normalize();
        JsonNode root = ConfigReader.read(file);
        for (Map.Entry<String, String> o : overrides.entrySet()) {
            set(root, o.getKey(), o.getValue(), file);
        }
        ConfigReader v = new ConfigReader(file);
        String type = v.text(root, "type", DEFAULT_TYPE);
        PipelineKind<?> kind = kinds.apply(type);
        if (kind == null) {
            throw v.error("type", "is '" + type + "', not a pipeline type this Engram knows (known: " + known + ")");
        }
        Set<String> top = new LinkedHashSet<>(COMMON);
        top.addAll(kind.sections());
        v.known(root, "", top);
        String name = v.text(root, "name", null);
        String appId = v.text(root, "application_id", "engram-" + name);

        JsonNode t = v.section(root, "topics");
        Set<String> topicKeys = new LinkedHashSet<>();
        kind.defaultTopics().keySet().forEach(role -> topicKeys.add(role.key()));
        topicKeys.add("partitions");
        topicKeys.add("replication_factor");
        v.known(t, "topics.", topicKeys);
        Map<String, String> names = new LinkedHashMap<>();
        kind.defaultTopics().forEach((role, dflt) -> names.put(role.key(), v.text(t, role.key(), dflt)));
        PipelineTopics topics = new PipelineTopics(names, (int) v.integer(t, "partitions", 4, 1, 10_000),
                (short) v.integer(t, "replication_factor", -1, -1, 32));

        JsonNode m = v.section(root, "model");
        v.known(m, "model.", Set.of("manifest"));
        Path manifest = file.getParent().resolve(v.text(m, "manifest", null)).normalize();

        JsonNode st = v.section(root, "state");
        v.known(st, "state.", keys(kind, "state", "store", "out_of_order", "max_gap_ms", "on_gap", "idle_ttl_ms",
                "idle_scan_interval_ms", "memory_mb"));
        StatePolicy policy = v.statePolicy(st);
        String store = v.text(st, "store", kind.defaultStore());
        String ooo = v.text(st, "out_of_order", "drop");
        OutOfOrder outOfOrder;
        try {
            outOfOrder = OutOfOrder.valueOf(ooo.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw v.error("state.out_of_order", "is '" + ooo + "', not one of drop, process");
        }

        JsonNode p = v.section(root, "processing");
        v.known(p, "processing.", keys(kind, "processing", "guarantee", "commit_interval_ms", "threads", "standby_replicas", "profile",
                "error_window", "max_error_share"));
        String guarantee = v.text(p, "guarantee", "exactly_once_v2");
        if (!Set.of("exactly_once_v2", "at_least_once").contains(guarantee)) {
            throw v.error("processing.guarantee", "is '" + guarantee + "'; it must be exactly_once_v2 or at_least_once");
        }
        String profile = p != null && p.hasNonNull("profile")
                ? v.choice(p, "profile", null, java.util.List.of(Processing.LIVE, Processing.THROUGHPUT)) : null;
        // The profile sets the commit interval unless the file gives one.
        long commitDefault = Processing.defaultCommitIntervalMs(profile);
        Processing processing = new Processing(guarantee, v.integer(p, "commit_interval_ms", commitDefault, 1, 3_600_000),
                (int) v.integer(p, "threads", 1, 1, 256), (int) v.integer(p, "standby_replicas", 0, 0, 32), profile,
                (int) v.integer(p, "error_window", io.engram.engine.kafka.ProcessingErrors.DEFAULT_WINDOW, 1, 100_000),
                v.number(p, "max_error_share", io.engram.engine.kafka.ProcessingErrors.DEFAULT_MAX_SHARE));
        if (!(processing.maxErrorShare() >= 0 && processing.maxErrorShare() <= 1)) {
            throw v.error("processing.max_error_share", "is " + processing.maxErrorShare()
                    + "; it must be from 0 (stop at the first processing error) to 1 (never stop)");
        }

        JsonNode mt = v.section(root, "metrics");
        v.known(mt, "metrics.", keys(kind, "metrics", "port", "host"));
        int port = (int) v.integer(mt, "port", kind.defaultMetricsPort(), 0, 65535);
        // Loopback unless asked: metrics and state summaries are not for the whole network (the container sets 0.0.0.0).
        String host = v.text(mt, "host", DEFAULT_METRICS_HOST).trim();

        Map<String, String> kafka = kafkaSection(file, root.get("kafka"));

        Object settings = kind.settings(v, root);
        return new PipelineSpec(file, kind, name, appId, topics, manifest, store, outOfOrder, policy, processing, host, port, kafka, settings);
    }

    private static Set<String> keys(PipelineKind<?> kind, String section, String... common) {
        Set<String> s = new LinkedHashSet<>(java.util.List.of(common));
        s.addAll(kind.extraKeys().getOrDefault(section, Set.of()));
        return s;
    }
}

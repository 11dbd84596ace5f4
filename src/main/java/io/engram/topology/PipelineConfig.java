package io.engram.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.engram.anomaly.ScoringConfig;
import io.engram.errors.ConfigException;
import io.engram.state.StatePolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

/**
 * A pipeline definition from {@code topology/*.yaml}: topics, model, scoring, state and processing
 * settings. Immutable. {@link #load(Path)} validates every key and names the file and the key in
 * every error; unknown keys are errors too, since a typo would otherwise silently use a default.
 */
public record PipelineConfig(
        Path file,
        String name,
        String applicationId,
        Topics topics,
        Path modelManifest,
        ScoringConfig scoring,
        String stateStore,
        OutOfOrder outOfOrder,
        String guarantee,
        long commitIntervalMs,
        int threads,
        int metricsPort,
        StatePolicy statePolicy,
        int standbyReplicas) {

    /** What to do with a record older than the stream's last stepped record. */
    public enum OutOfOrder {
        /** Dead-letter it with reason out-of-order and count it: a step never goes back in time. */
        DROP,
        /** Step it anyway, in arrival order. */
        PROCESS
    }

    public PipelineConfig withApplicationId(String id) {
        return new PipelineConfig(file, name, id, topics, modelManifest, scoring, stateStore, outOfOrder, guarantee,
                commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public PipelineConfig withTopics(Topics t) {
        return new PipelineConfig(file, name, applicationId, t, modelManifest, scoring, stateStore, outOfOrder, guarantee,
                commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public PipelineConfig withMetricsPort(int port) {
        return new PipelineConfig(file, name, applicationId, topics, modelManifest, scoring, stateStore, outOfOrder,
                guarantee, commitIntervalMs, threads, port, statePolicy, standbyReplicas);
    }

    public PipelineConfig withOutOfOrder(OutOfOrder o) {
        return new PipelineConfig(file, name, applicationId, topics, modelManifest, scoring, stateStore, o,
                guarantee, commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public PipelineConfig withThreads(int n) {
        return new PipelineConfig(file, name, applicationId, topics, modelManifest, scoring, stateStore, outOfOrder,
                guarantee, commitIntervalMs, n, metricsPort, statePolicy, standbyReplicas);
    }

    public PipelineConfig withScoring(ScoringConfig s) {
        return new PipelineConfig(file, name, applicationId, topics, modelManifest, s, stateStore, outOfOrder,
                guarantee, commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public PipelineConfig withModelManifest(Path manifest) {
        return new PipelineConfig(file, name, applicationId, topics, manifest, scoring, stateStore, outOfOrder,
                guarantee, commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public PipelineConfig withStatePolicy(StatePolicy p) {
        return new PipelineConfig(file, name, applicationId, topics, modelManifest, scoring, stateStore, outOfOrder,
                guarantee, commitIntervalMs, threads, metricsPort, p, standbyReplicas);
    }

    public static PipelineConfig load(Path path) {
        Path file = path.toAbsolutePath().normalize();
        JsonNode root = ConfigReader.read(file);
        ConfigReader v = new ConfigReader(file);
        v.known(root, "", Set.of("type", "name", "application_id", "topics", "model", "scoring", "state", "processing", "metrics"));
        String name = v.text(root, "name", null);
        String appId = v.text(root, "application_id", "engram-" + name);

        JsonNode t = v.section(root, "topics");
        v.known(t, "topics.", Set.of("input", "predictions", "anomalies", "dead_letter", "state_events", "partitions",
                "replication_factor"));
        Topics d = Topics.DEFAULTS;
        Topics topics = new Topics(
                v.text(t, "input", d.input()), v.text(t, "predictions", d.predictions()),
                v.text(t, "anomalies", d.anomalies()), v.text(t, "dead_letter", d.deadLetter()),
                v.text(t, "state_events", d.stateEvents()),
                (int) v.integer(t, "partitions", d.partitions(), 1, 10_000),
                (short) v.integer(t, "replication_factor", d.replicationFactor(), -1, 32));

        JsonNode m = v.section(root, "model");
        v.known(m, "model.", Set.of("manifest"));
        String manifest = v.text(m, "manifest", null);
        Path manifestPath = file.getParent().resolve(manifest).normalize();

        JsonNode s = v.section(root, "scoring");
        v.known(s, "scoring.", Set.of("short_alpha", "long_alpha", "warmup_steps", "threshold", "suppress_steps", "raw_clip",
                "level_weight"));
        ScoringConfig sd = ScoringConfig.DEFAULTS;
        ScoringConfig scoring;
        try {
            scoring = new ScoringConfig(
                    v.number(s, "short_alpha", sd.shortAlpha()), v.number(s, "long_alpha", sd.longAlpha()),
                    v.integer(s, "warmup_steps", sd.warmupSteps(), 0, Long.MAX_VALUE),
                    v.number(s, "threshold", sd.threshold()),
                    v.integer(s, "suppress_steps", sd.suppressSteps(), 0, Long.MAX_VALUE),
                    v.number(s, "raw_clip", sd.rawClip()),
                    v.number(s, "level_weight", sd.levelWeight()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("Pipeline file " + file + ": " + e.getMessage() + ". Fix the scoring section.");
        }

        JsonNode st = v.section(root, "state");
        v.known(st, "state.", Set.of("store", "out_of_order", "max_gap_ms", "on_gap", "idle_ttl_ms", "idle_scan_interval_ms"));
        StatePolicy policy = v.statePolicy(st);
        String store = v.text(st, "store", "sensor-rnn-state");
        String ooo = v.text(st, "out_of_order", "drop");
        OutOfOrder outOfOrder;
        try {
            outOfOrder = OutOfOrder.valueOf(ooo.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("Pipeline file " + file + ": state.out_of_order '" + ooo
                    + "' is not one of drop, process. Fix that key.");
        }

        JsonNode p = v.section(root, "processing");
        v.known(p, "processing.", Set.of("guarantee", "commit_interval_ms", "threads", "standby_replicas"));
        String guarantee = v.text(p, "guarantee", "exactly_once_v2");
        if (!Set.of("exactly_once_v2", "at_least_once").contains(guarantee)) {
            throw new ConfigException("Pipeline file " + file + ": processing.guarantee '" + guarantee
                    + "' must be exactly_once_v2 or at_least_once.");
        }
        long commit = v.integer(p, "commit_interval_ms", 100, 1, 3_600_000);
        int threads = (int) v.integer(p, "threads", 1, 1, 256);
        int standbys = (int) v.integer(p, "standby_replicas", 0, 0, 32);

        JsonNode mt = v.section(root, "metrics");
        v.known(mt, "metrics.", Set.of("port"));
        int port = (int) v.integer(mt, "port", 9464, 0, 65535);

        return new PipelineConfig(file, name, appId, topics, manifestPath, scoring, store, outOfOrder, guarantee, commit,
                threads, port, policy, standbys);
    }
}

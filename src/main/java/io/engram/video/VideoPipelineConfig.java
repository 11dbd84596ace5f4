package io.engram.video;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.state.StatePolicy;
import io.engram.topology.ConfigReader;
import java.nio.file.Path;
import java.util.Set;

/**
 * A video activity pipeline definition ({@code type: video-activity}, e.g.
 * topology/video-activity.yaml). Immutable; {@link #load} validates every key and names the file
 * and the key in every error.
 */
public record VideoPipelineConfig(
        Path file,
        String name,
        String applicationId,
        Topics topics,
        Path encoderManifest,
        int maxFrameBytes,
        long maxPixels,
        Path modelManifest,
        String shapeStore,
        String stateStore,
        boolean dropOutOfOrder,
        int eventMinFrames,
        String guarantee,
        long commitIntervalMs,
        int threads,
        int metricsPort,
        StatePolicy statePolicy,
        int standbyReplicas) {

    /** The topics of a video pipeline. */
    public record Topics(String frames, String features, String predictions, String events, String deadLetter,
            String stateEvents, int partitions, short replicationFactor) {}

    public static final String TYPE = "video-activity";

    public VideoPipelineConfig withApplicationId(String id) {
        return new VideoPipelineConfig(file, name, id, topics, encoderManifest, maxFrameBytes, maxPixels, modelManifest,
                shapeStore, stateStore, dropOutOfOrder, eventMinFrames, guarantee, commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public VideoPipelineConfig withTopics(Topics t) {
        return new VideoPipelineConfig(file, name, applicationId, t, encoderManifest, maxFrameBytes, maxPixels, modelManifest,
                shapeStore, stateStore, dropOutOfOrder, eventMinFrames, guarantee, commitIntervalMs, threads, metricsPort, statePolicy, standbyReplicas);
    }

    public VideoPipelineConfig withMetricsPort(int port) {
        return new VideoPipelineConfig(file, name, applicationId, topics, encoderManifest, maxFrameBytes, maxPixels,
                modelManifest, shapeStore, stateStore, dropOutOfOrder, eventMinFrames, guarantee, commitIntervalMs, threads, port, statePolicy, standbyReplicas);
    }

    /** True when the YAML file declares {@code type: video-activity}. */
    public static boolean isVideo(Path path) {
        JsonNode root = ConfigReader.read(path.toAbsolutePath().normalize());
        return TYPE.equals(root.path("type").asText(""));
    }

    public static VideoPipelineConfig load(Path path) {
        Path file = path.toAbsolutePath().normalize();
        JsonNode root = ConfigReader.read(file);
        ConfigReader v = new ConfigReader(file);
        v.known(root, "", Set.of("type", "name", "application_id", "topics", "encoder", "model", "state", "events", "processing", "metrics"));
        if (!TYPE.equals(v.text(root, "type", ""))) {
            throw v.error("type", "must be " + TYPE + " for a video pipeline");
        }
        String name = v.text(root, "name", null);
        String appId = v.text(root, "application_id", "engram-" + name);
        JsonNode t = v.section(root, "topics");
        v.known(t, "topics.", Set.of("frames", "features", "predictions", "events", "dead_letter", "state_events", "partitions",
                "replication_factor"));
        Topics topics = new Topics(v.text(t, "frames", "video-frames"), v.text(t, "features", "frame-features"),
                v.text(t, "predictions", "activity-predictions"), v.text(t, "events", "activity-events"),
                v.text(t, "dead_letter", "video-dead-letters"), v.text(t, "state_events", "video-state-events"), (int) v.integer(t, "partitions", 4, 1, 10_000),
                (short) v.integer(t, "replication_factor", 1, -1, 32));
        JsonNode e = v.section(root, "encoder");
        v.known(e, "encoder.", Set.of("manifest", "max_frame_bytes", "max_pixels"));
        Path encoder = file.getParent().resolve(v.text(e, "manifest", null)).normalize();
        int maxBytes = (int) v.integer(e, "max_frame_bytes", 1_000_000, 1, Integer.MAX_VALUE);
        long maxPixels = v.integer(e, "max_pixels", 4096L * 4096, 1, Long.MAX_VALUE);
        JsonNode m = v.section(root, "model");
        v.known(m, "model.", Set.of("manifest"));
        Path model = file.getParent().resolve(v.text(m, "manifest", null)).normalize();
        JsonNode st = v.section(root, "state");
        v.known(st, "state.", Set.of("store", "shape_store", "out_of_order", "max_gap_ms", "on_gap", "idle_ttl_ms",
                "idle_scan_interval_ms"));
        StatePolicy policy = v.statePolicy(st);
        String ooo = v.text(st, "out_of_order", "drop");
        if (!Set.of("drop", "process").contains(ooo)) {
            throw v.error("state.out_of_order", "must be drop or process");
        }
        JsonNode ev = v.section(root, "events");
        v.known(ev, "events.", Set.of("min_frames"));
        int minFrames = (int) v.integer(ev, "min_frames", 3, 1, 10_000);
        JsonNode p = v.section(root, "processing");
        v.known(p, "processing.", Set.of("guarantee", "commit_interval_ms", "threads", "standby_replicas"));
        String guarantee = v.text(p, "guarantee", "exactly_once_v2");
        if (!Set.of("exactly_once_v2", "at_least_once").contains(guarantee)) {
            throw v.error("processing.guarantee", "must be exactly_once_v2 or at_least_once");
        }
        JsonNode mt = v.section(root, "metrics");
        v.known(mt, "metrics.", Set.of("port"));
        return new VideoPipelineConfig(file, name, appId, topics, encoder, maxBytes, maxPixels, model,
                v.text(st, "shape_store", "camera-frame-shape"), v.text(st, "store", "activity-rnn-state"), "drop".equals(ooo),
                minFrames, guarantee, v.integer(p, "commit_interval_ms", 100, 1, 3_600_000), (int) v.integer(p, "threads", 1, 1, 256),
                (int) v.integer(mt, "port", 9465, 0, 65535), policy, (int) v.integer(p, "standby_replicas", 0, 0, 32));
    }
}

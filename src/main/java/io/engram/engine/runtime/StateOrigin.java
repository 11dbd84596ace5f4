package io.engram.engine.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.engram.engine.kafka.TopicAdmin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Binds an application's local state (its Kafka Streams state directory) to the Kafka cluster and
 * topics it was built from: the cluster id, and the topic ids of the topology's input topics and of
 * the application's changelogs. Local RocksDB state is a cache of the changelog topics of one cluster: if
 * the cluster is another one, or a topic was deleted or recreated (a new topic id) since, the local
 * state belongs to a history that no longer exists, and stepping a record with it would fork a
 * stream. Kafka Streams' own offset checks do not catch every such case, so the runner wipes the
 * local state before it starts whenever the record here disagrees with the cluster: on another
 * cluster it is rebuilt from that cluster's changelogs. When an input or changelog topic of the same
 * cluster was recreated or deleted (see {@link Verdict#historyGone()}), the changelogs left no longer
 * match the input: the runner deletes them only when the operator asks ({@code --reset-changelogs}),
 * and refuses to start otherwise. Topics are never deleted here.
 *
 * <p>The record is {@code <state.dir>/<application.id>.engram-origin.json}, beside (not inside) the
 * application's directory, which {@code KafkaStreams.cleanUp()} deletes. Stateless.
 */
final class StateOrigin {
    static final String SUFFIX = ".engram-origin.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reasons for a wipe, as they appear in the log line, the metric's tag and the state event. */
    static final String UNKNOWN_ORIGIN = "unknown-origin";
    static final String CLUSTER_CHANGED = "cluster-changed";
    static final String TOPIC_RECREATED = "topic-recreated";
    static final String TOPIC_MISSING = "topic-missing";

    /** Why local state must go: a fixed reason and the detail for the log. */
    record Verdict(String reason, String detail) {
        /**
         * True when a topic of this cluster that the state was built from (an input or a changelog)
         * was recreated or deleted: the changelogs then no longer describe the input's history.
         */
        boolean historyGone() {
            return reason.equals(TOPIC_RECREATED) || reason.equals(TOPIC_MISSING);
        }
    }

    private StateOrigin() {}

    static Path file(Path stateDir, String applicationId) {
        return stateDir.resolve(applicationId + SUFFIX);
    }

    /** Whether Kafka Streams has left anything for this application: a task directory or a store. */
    static boolean hasLocalState(Path stateDir, String applicationId) {
        Path app = stateDir.resolve(applicationId);
        if (!Files.isDirectory(app)) {
            return false;
        }
        try (Stream<Path> s = Files.list(app)) {
            return s.anyMatch(Files::isDirectory);
        } catch (IOException e) {
            return true; // unreadable: assume the worst, and wipe
        }
    }

    /** Null if the local state may be used, else why it must be wiped. */
    static Verdict check(Path file, TopicAdmin.Identity now, boolean hasLocalState) {
        return check(file, now, hasLocalState, name -> true);
    }

    /**
     * As {@link #check(Path, TopicAdmin.Identity, boolean)}, comparing only the recorded topics that
     * {@code tracked} accepts: a record written by an Engram that found changelogs by prefix may name
     * another application's (one whose id extends this one's), which are none of this state's business.
     */
    static Verdict check(Path file, TopicAdmin.Identity now, boolean hasLocalState, java.util.function.Predicate<String> tracked) {
        if (!hasLocalState) {
            return null;
        }
        TopicAdmin.Identity was;
        try {
            was = read(file);
        } catch (IOException e) {
            return new Verdict(UNKNOWN_ORIGIN, "the record of its origin, " + file + ", cannot be read (" + e.getMessage() + ")");
        }
        if (was == null) {
            return new Verdict(UNKNOWN_ORIGIN, "no record of the cluster it was built from (" + file + ")");
        }
        if (!was.clusterId().equals(now.clusterId())) {
            return new Verdict(CLUSTER_CHANGED, "it was built on cluster " + was.clusterId() + ", this is cluster " + now.clusterId());
        }
        for (Map.Entry<String, String> t : was.topicIds().entrySet()) {
            if (!tracked.test(t.getKey())) {
                continue;
            }
            String id = now.topicIds().get(t.getKey());
            if (id == null) {
                return new Verdict(TOPIC_MISSING, "topic " + t.getKey() + " it was built from is gone");
            }
            if (!id.equals(t.getValue())) {
                return new Verdict(TOPIC_RECREATED, "topic " + t.getKey() + " was recreated (id " + t.getValue() + ", now " + id + ")");
            }
        }
        return null;
    }

    static TopicAdmin.Identity read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode n = JSON.readTree(file.toFile());
        if (n == null || !n.hasNonNull("cluster_id") || !n.path("topic_ids").isObject()) {
            throw new IOException("not an origin record");
        }
        java.util.SortedMap<String, String> ids = new java.util.TreeMap<>();
        n.get("topic_ids").fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asText()));
        return new TopicAdmin.Identity(n.get("cluster_id").asText(), ids);
    }

    /** Writes the record atomically (a crash leaves the old one or the new one, never half of one). */
    static void write(Path file, TopicAdmin.Identity id) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("cluster_id", id.clusterId());
        ObjectNode t = n.putObject("topic_ids");
        id.topicIds().forEach(t::put);
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

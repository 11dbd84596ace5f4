package io.engram.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.TopicAdmin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verdicts of {@link StateOrigin} on a record and a cluster, without a broker. */
class StateOriginTest {
    @TempDir
    Path dir;

    static TopicAdmin.Identity id(String cluster, String... topicAndId) {
        TreeMap<String, String> m = new TreeMap<>();
        for (int i = 0; i < topicAndId.length; i += 2) {
            m.put(topicAndId[i], topicAndId[i + 1]);
        }
        return new TopicAdmin.Identity(cluster, m);
    }

    @Test
    void theRecordRoundTripsAndEachDifferenceHasItsReason() throws Exception {
        Path f = StateOrigin.file(dir, "app");
        TopicAdmin.Identity was = id("c1", "in", "u1", "app-s-changelog", "u2");
        StateOrigin.write(f, was);
        assertEquals(was, StateOrigin.read(f));
        assertNull(StateOrigin.check(f, was, true), "the same cluster and topics: keep");
        assertNull(StateOrigin.check(f, id("c1", "in", "u1", "app-s-changelog", "u2", "app-t-changelog", "u3"), true),
                "a new changelog (a new store) is no reason");
        assertEquals(StateOrigin.CLUSTER_CHANGED, StateOrigin.check(f, id("c2", "in", "u1", "app-s-changelog", "u2"), true).reason());
        StateOrigin.Verdict recreated = StateOrigin.check(f, id("c1", "in", "u9", "app-s-changelog", "u2"), true);
        assertEquals(StateOrigin.TOPIC_RECREATED, recreated.reason());
        assertTrue(recreated.historyGone() && recreated.detail().contains("in"), recreated.detail());
        StateOrigin.Verdict missing = StateOrigin.check(f, id("c1", "in", "u1"), true);
        assertEquals(StateOrigin.TOPIC_MISSING, missing.reason());
        assertTrue(missing.detail().contains("app-s-changelog"), missing.detail());
        assertFalse(StateOrigin.check(f, id("c2"), true).historyGone(), "another cluster: its own changelogs are the truth");
        assertNull(StateOrigin.check(f, id("c2"), false), "nothing local: nothing to wipe");
    }

    @Test
    void topicsNotTrackedAreNotComparedSoAnotherApplicationsChangelogIsNoReason() throws Exception {
        Path f = StateOrigin.file(dir, "app");
        // A record from an Engram that found changelogs by prefix: it holds app-eu's changelog too.
        StateOrigin.write(f, id("c1", "in", "u1", "app-s-changelog", "u2", "app-eu-s-changelog", "u3"));
        java.util.function.Predicate<String> ours = t -> !t.equals("app-eu-s-changelog");
        assertNull(StateOrigin.check(f, id("c1", "in", "u1", "app-s-changelog", "u2"), true, ours), "app-eu's changelog gone: no reason");
        assertNull(StateOrigin.check(f, id("c1", "in", "u1", "app-s-changelog", "u2", "app-eu-s-changelog", "u9"), true, ours));
        assertEquals(StateOrigin.TOPIC_RECREATED, StateOrigin.check(f, id("c1", "in", "u1", "app-s-changelog", "u8"), true, ours).reason());
        assertEquals(StateOrigin.TOPIC_MISSING, StateOrigin.check(f, id("c1", "in", "u1", "app-s-changelog", "u2"), true).reason(),
                "everything is compared when all is tracked");
    }

    @Test
    void localStateWithoutARecordOrWithABadOneIsOfUnknownOrigin() throws Exception {
        Path f = StateOrigin.file(dir, "app");
        assertEquals(StateOrigin.UNKNOWN_ORIGIN, StateOrigin.check(f, id("c1"), true).reason());
        Files.writeString(f, "{not json");
        assertEquals(StateOrigin.UNKNOWN_ORIGIN, StateOrigin.check(f, id("c1"), true).reason());
        assertFalse(StateOrigin.hasLocalState(dir, "app"));
        Files.createDirectories(dir.resolve("app"));
        Files.writeString(dir.resolve("app/kafka-streams-process-metadata"), "x");
        assertFalse(StateOrigin.hasLocalState(dir, "app"), "Kafka Streams' process file alone is no state");
        Files.createDirectories(dir.resolve("app/0_1/rocksdb"));
        assertTrue(StateOrigin.hasLocalState(dir, "app"));
    }
}

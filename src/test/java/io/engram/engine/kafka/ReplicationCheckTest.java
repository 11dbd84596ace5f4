package io.engram.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.ReplicationCheck.Facts;
import io.engram.engine.kafka.ReplicationCheck.TopicReplication;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The durability rule of {@link ReplicationCheck}, as a pure function (issue 21). */
class ReplicationCheckTest {
    static TopicReplication t(String name, int factor, int minInsync) {
        return new TopicReplication(name, factor, minInsync, true);
    }

    static String problem(int brokers, int factor, int minInsync) {
        return ReplicationCheck.problem(brokers, t("t", factor, minInsync));
    }

    @Test
    void belowThreeOnThreeOrMoreBrokers() {
        assertTrue(problem(3, 1, 1).contains("factor 1 < 3 on 3 brokers"), problem(3, 1, 1));
        assertTrue(problem(5, 2, 1).contains("factor 2 < 3 on 5 brokers"), problem(5, 2, 1));
        assertNull(problem(3, 3, 2), "factor 3, min.insync.replicas 2: the durable set-up");
        assertNull(problem(6, 4, 2));
    }

    @Test
    void belowMinInsyncReplicasPlusOne() {
        assertTrue(problem(3, 3, 3).contains("< min.insync.replicas 3 + 1: one broker lost stops its writes"), problem(3, 3, 3));
        assertTrue(problem(2, 1, 1).contains("< min.insync.replicas 1 + 1: one broker lost loses its data"), problem(2, 1, 1));
        assertFalse(problem(2, 1, 1).contains("< 3 on"), "two brokers: 3 copies are impossible, no '< 3'");
        assertNull(problem(2, 2, 1));
        assertTrue(problem(3, 2, 3).contains("factor 2 < min.insync.replicas 3: every acks=all write is refused"), problem(3, 2, 3));
        assertTrue(problem(3, 2, 3).contains("factor 2 < 3 on 3 brokers"), "both reasons: " + problem(3, 2, 3));
    }

    @Test
    void oneBrokerWarnsOnlyWhenWritesWouldBeRefused() {
        assertNull(problem(1, 1, 1), "a development broker (the demo's): one copy is all there is, no warning");
        assertTrue(problem(1, 1, 2).contains("factor 1 < min.insync.replicas 2"), problem(1, 1, 2));
        assertNull(ReplicationCheck.warning("p", "outputs", new Facts(1, List.of(t("a", 1, 1), t("b", 1, 1)))));
        String line = ReplicationCheck.warning("p", "outputs", new Facts(1, List.of(t("a", 1, 1), t("b", 1, 2))));
        assertTrue(line.startsWith("pipeline p: outputs not durable on this cluster of 1 broker: b (factor 1 < min.insync.replicas 2"), line);
        assertTrue(line.contains("Fix: min.insync.replicas at most 1"), "one broker: the fix is not a factor of 3: " + line);
    }

    @Test
    void oneLinePerGroupNamingOnlyTheTopicsAtFault() {
        assertNull(ReplicationCheck.warning("p", "outputs", new Facts(3, List.of(t("a", 3, 2), t("b", 4, 2)))));
        String line = ReplicationCheck.warning("p", "changelogs", new Facts(3, List.of(t("a", 3, 2), t("b", 1, 1),
                new TopicReplication("c", 2, 1, false))));
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("pipeline p: changelogs not durable on this cluster of 3 brokers: b (factor 1 < 3"), line);
        assertTrue(line.contains("c (factor 2 < 3 on 3 brokers; when created)"), line);
        assertFalse(line.contains("a ("), "a is durable: " + line);
        assertTrue(line.contains("min.insync.replicas 2") && line.contains("docs/deploy.md"), line);
    }
}

package io.engram.tools.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ports a broker's or a cluster's listeners are given. A CI run once failed with "Each listener must have a
 * different port": the broker and controller ports had been picked one after the other, each socket closed before the
 * next was opened, and the kernel handed out the same port twice.
 */
class FreePortsTest {

    @Test
    void manyPortsChosenTogetherAreDistinctAndFree() throws Exception {
        List<Integer> ports = EmbeddedKafka.freePorts(64, List.of());
        assertEquals(64, ports.size());
        assertEquals(64, new HashSet<>(ports).size(), "no port twice: " + ports);
        for (int p : ports) {
            try (ServerSocket s = new ServerSocket(p)) {
                assertEquals(p, s.getLocalPort(), "released again, so a node can bind it");
            }
        }
    }

    @Test
    void aPortToAvoidIsNeverChosen() throws Exception {
        // The broker's own port, given by the user, must not come back as the controller's.
        int given;
        try (ServerSocket s = new ServerSocket(0)) {
            given = s.getLocalPort();
        }
        for (int round = 0; round < 20; round++) {
            List<Integer> ports = EmbeddedKafka.freePorts(4, List.of(given));
            assertFalse(ports.contains(given), "avoided " + given + ", got " + ports);
            assertEquals(4, new HashSet<>(ports).size());
        }
    }

    @Test
    void aClusterPlanGivesEveryListenerItsOwnPort(@TempDir Path root)
            throws Exception {
        ClusterPlan plan = ClusterPlan.create(root, 3);
        HashSet<String> seen = new HashSet<>();
        for (var config : plan.configs()) {
            for (String listener : config.getProperty("listeners").split(",")) {
                String port = listener.substring(listener.lastIndexOf(':') + 1);
                assertTrue(seen.add(port), "port " + port + " given twice across " + plan.configs());
            }
        }
        assertEquals(6, seen.size());
    }
}

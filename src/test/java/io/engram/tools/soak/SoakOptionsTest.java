package io.engram.tools.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which faults the soak's options allow on one broker and on a cluster. */
class SoakOptionsTest {
    static Soak.Options options(int brokers, List<Soak.Fault> faults) {
        return new Soak.Options(Duration.ofSeconds(10), 1, 2, List.of(Path.of("topology/sensor-anomaly.yaml")), Path.of("x"), Path.of("w"),
                100, 10, Duration.ofSeconds(5), Duration.ofSeconds(1), 1, false, brokers, faults);
    }

    @Test
    void oneBrokerAllowsNoClusterFaultAndThreeAllowEvery() {
        List<Soak.Fault> one = Soak.Fault.forBrokers(1);
        assertFalse(one.contains(Soak.Fault.INPUT_LEADER_KILL));
        assertTrue(one.contains(Soak.Fault.BROKER_RESTART));
        assertEquals(List.of(Soak.Fault.values()), Soak.Fault.forBrokers(3));
        ConfigException e = assertThrows(ConfigException.class, () -> options(1, List.of(Soak.Fault.ROLLING_RESTART)));
        assertTrue(e.getMessage().contains("--brokers 3"), e.getMessage());
        assertEquals(List.of(Soak.Fault.ROLLING_RESTART), options(3, List.of(Soak.Fault.ROLLING_RESTART)).faults());
    }

    @Test
    void twoBrokersNoFaultsAndAnUnknownFaultAreRefused() {
        assertThrows(ConfigException.class, () -> options(2, Soak.Fault.forBrokers(1)));
        assertThrows(ConfigException.class, () -> options(1, List.of()));
        ConfigException e = assertThrows(ConfigException.class, () -> Soak.Fault.ofId("leader-kil"));
        assertTrue(e.getMessage().contains("input-leader-kill"), e.getMessage());
        assertEquals(Soak.Fault.CHANGELOG_LEADER_KILL, Soak.Fault.ofId("changelog-leader-kill"));
    }

    @Test
    void aFaultTwiceIsInjectedAsOneKind() {
        assertEquals(List.of(Soak.Fault.KILL, Soak.Fault.JOIN), options(1, List.of(Soak.Fault.KILL, Soak.Fault.JOIN, Soak.Fault.KILL)).faults());
    }
}

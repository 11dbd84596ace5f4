package io.engram.tools.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI version of {@code engram soak --brokers 3}: the sensor pipeline, two {@code engram run}
 * processes, on a cluster of three broker processes (every topic replicated 3 times,
 * {@code min.insync.replicas} 2), under continuous ingest, with one kill -9 of the broker that leads
 * an input partition and one rolling restart of all three brokers. Every output topic must equal
 * the uninterrupted run's, per key, byte for byte, and after each fault every partition's replicas
 * must be back in sync.
 */
class SoakClusterIT {
    @TempDir
    Path work;

    @Test
    void aLeaderKillAndARollingRestartLoseDuplicateAndChangeNothing() throws Exception {
        List<Soak.Fault> faults = List.of(Soak.Fault.INPUT_LEADER_KILL, Soak.Fault.ROLLING_RESTART);
        Soak.Options o = new Soak.Options(Duration.ofSeconds(40), 11, 2, List.of(Path.of("topology/sensor-anomaly.yaml")),
                Path.of("ingest/samples/video"), work.resolve("soak"), 150, 15, Duration.ofSeconds(8), Duration.ofSeconds(3), 1, false,
                3, faults);
        Soak.Report r = Soak.run(o, System.out);
        String text = r.text();
        System.out.print(text);
        assertEquals(faults, r.faults().stream().map(Soak.Injected::fault).distinct().sorted().toList(), "both faults injected:\n" + text);
        for (Soak.Injected f : r.faults()) {
            assertTrue(f.recoverySeconds() >= 0, f + " output recovered:\n" + text);
            assertTrue(f.inSyncSeconds() >= 0, f + " replicas back in sync:\n" + text);
        }
        Soak.PipelineResult p = r.pipelines().get(0);
        assertTrue(p.good() > 500 && p.bad() > 0, "good and bad input: " + p);
        assertEquals(0, p.lost(), "lost records:\n" + text);
        assertEquals(0, p.duplicated(), "duplicated records:\n" + text);
        assertEquals(0, p.different(), "different records:\n" + text);
        assertEquals(p.referenceRecords(), p.outputRecords(), "output records:\n" + text);
        assertEquals(List.of(), p.diff(), "per key and byte for byte:\n" + text);
        assertTrue(r.passed(), text);
    }
}

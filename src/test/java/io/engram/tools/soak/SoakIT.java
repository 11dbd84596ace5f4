package io.engram.tools.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI version of {@code engram soak}: both shipped pipelines (sensor anomaly, video activity),
 * two {@code engram run} processes each, about a minute of continuous ingest, and every kind of
 * fault at least once (kill -9, graceful restart, kill with the state directory deleted, broker
 * restart, an instance joining). Every output topic must equal the uninterrupted run's, per key,
 * byte for byte: nothing lost, nothing duplicated, nothing different, and every fault recovered.
 */
class SoakIT {
    @TempDir
    Path work;

    @Test
    void everyFaultKindUnderIngestLosesDuplicatesAndChangesNothing() throws Exception {
        Soak.Options o = new Soak.Options(Duration.ofSeconds(60), 7, 2,
                List.of(Path.of("topology/sensor-anomaly.yaml"), Path.of("topology/video-activity.yaml")), Path.of("ingest/samples/video"),
                work.resolve("soak"), 150, 15, Duration.ofSeconds(6), Duration.ofSeconds(3), 1, false,
                1, Soak.Fault.forBrokers(1));
        Soak.Report r = Soak.run(o, System.out);
        String text = r.text();
        System.out.print(text);
        assertEquals(EnumSet.copyOf(Soak.Fault.forBrokers(1)), EnumSet.copyOf(r.counts().keySet()), "every kind of fault injected:\n" + text);
        for (Soak.Injected f : r.faults()) {
            assertTrue(f.recovered(), f + " recovered:\n" + text);
        }
        assertEquals(2, r.pipelines().size());
        for (Soak.PipelineResult p : r.pipelines()) {
            assertTrue(p.good() > 500 && p.bad() > 0, p.pipeline() + " had good and bad input: " + p);
            assertEquals(0, p.lost(), p.pipeline() + " lost records:\n" + text);
            assertEquals(0, p.duplicated(), p.pipeline() + " duplicated records:\n" + text);
            assertEquals(0, p.different(), p.pipeline() + " different records:\n" + text);
            assertEquals(p.referenceRecords(), p.outputRecords(), p.pipeline() + " output records:\n" + text);
            assertEquals(List.of(), p.diff(), p.pipeline() + ", per key and byte for byte:\n" + text);
        }
        assertTrue(r.passed(), text);
    }
}

package io.engram.engine.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.monitoring.EngramMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/**
 * Issue 21: every shipped pipeline file leaves the replication factor to the cluster (-1), and Kafka
 * Streams' changelogs follow the pipeline's factor, whatever it is.
 */
class ReplicationDefaultsTest {
    static List<Path> shipped() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("topology"))) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void aFileWithoutAFactorGetsTheClustersDefault(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String yaml = Files.readString(Path.of("topology/sensor-anomaly.yaml"))
                .replaceAll("(?m)^\\s*replication_factor:.*\\R", "")
                .replace("manifest: ../models/", "manifest: " + Path.of("models").toAbsolutePath() + "/");
        Path f = Files.writeString(dir.resolve("no-factor.yaml"), yaml);
        assertEquals(false, Files.readString(f).contains("replication_factor"));
        assertEquals(-1, Pipelines.load(f).topics().replicationFactor(), "the code's default: the cluster's");
    }

    @Test
    void everyShippedFileUsesTheClustersDefaultAndTheChangelogsFollowIt() throws Exception {
        List<Path> files = shipped();
        assertEquals(4, files.size(), "the shipped files: " + files);
        for (Path f : files) {
            PipelineSpec spec = Pipelines.load(f);
            assertEquals(-1, spec.topics().replicationFactor(), f + ": the cluster's default.replication.factor");
            assertEquals(-1, PipelineRunner.streamsProperties(spec, "localhost:9092", Path.of("state"), new EngramMetrics(spec.name()))
                    .get(StreamsConfig.REPLICATION_FACTOR_CONFIG), f + ": the changelogs too");
            PipelineTopics t = spec.topics();
            PipelineSpec three = spec.withTopics(new PipelineTopics(t.names(), t.partitions(), (short) 3));
            assertEquals(3, PipelineRunner.streamsProperties(three, "localhost:9092", Path.of("state"), new EngramMetrics(spec.name()))
                    .get(StreamsConfig.REPLICATION_FACTOR_CONFIG), f + ": the changelogs follow the pipeline's factor");
        }
    }
}

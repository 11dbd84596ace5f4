package io.engram.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.TopicAdmin;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up durability warning (issue 21) on a real, one-broker cluster: a clean start (the
 * shipped file, replication_factor -1, the broker's defaults) warns about nothing, as the demo must;
 * an output and a changelog whose {@code min.insync.replicas} exceeds their factor get one WARN line
 * per group, naming them.
 */
class ReplicationWarningIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    Path stateDir;

    static PipelineSpec config(String suffix) {
        PipelineSpec c = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        return c.withApplicationId("replication-" + suffix).withTopics(c.topics().withSuffix("-" + suffix).withPartitions(1));
    }

    @Test
    void aCleanStartOnOneBrokerWarnsAboutNothing() {
        PipelineSpec cfg = config("clean");
        assertEquals(-1, cfg.topics().replicationFactor(), "the shipped file: the cluster's default");
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrap(), stateDir, new SimpleMeterRegistry())) {
            assertEquals(List.of(), runner.replicationWarnings());
        }
    }

    @Test
    void anOutputAndChangelogsBelowMinInsyncReplicasAreNamedOncePerGroup() throws Exception {
        PipelineSpec cfg = config("short");
        String predictions = cfg.topics().name(ForecastHead.PREDICTIONS);
        try (Admin admin = Admin.create(TopicAdmin.props(kafka.bootstrap(), Map.of()))) {
            admin.createTopics(List.of(new NewTopic(predictions, Optional.of(1), Optional.empty())
                    .configs(Map.of("min.insync.replicas", "2")))).all().get(30, TimeUnit.SECONDS);
        }
        String changelog = cfg.applicationId() + "-" + cfg.stateStore() + "-changelog";
        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrap(), stateDir, new SimpleMeterRegistry(),
                PipelineRunner.StartOptions.DEFAULTS.withStreamsOverrides(Map.of("topic.min.insync.replicas", "2")))) {
            List<String> lines = runner.replicationWarnings();
            assertEquals(2, lines.size(), "one line per group: " + lines);
            String outputs = lines.get(0);
            assertTrue(outputs.startsWith("pipeline " + cfg.name() + ": outputs not durable on this cluster of 1 broker: "), outputs);
            assertTrue(outputs.contains(predictions + " (factor 1 < min.insync.replicas 2"), outputs);
            for (String t : cfg.outputTopics()) {
                assertEquals(t.equals(predictions), outputs.contains(t + " ("), "only the output at fault is named: " + outputs);
            }
            String changelogs = lines.get(1);
            assertTrue(changelogs.startsWith("pipeline " + cfg.name() + ": changelogs not durable"), changelogs);
            assertTrue(changelogs.contains(changelog + " (factor 1 < min.insync.replicas 2"), changelogs);
        }
    }
}

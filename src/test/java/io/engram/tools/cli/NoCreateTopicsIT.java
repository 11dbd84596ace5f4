package io.engram.tools.cli;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.PipelineYaml;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topics on a cluster where Engram may not create them (issue 10): {@code run --no-create-topics}
 * creates nothing and names a missing topic with the fix; with every topic there it starts, having
 * only listed the topics (a create request for an existing topic would be refused for lack of rights).
 */
class NoCreateTopicsIT {
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    Path dir;

    static Set<String> topics() throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
        try (Admin a = Admin.create(p)) {
            return a.listTopics().names().get();
        }
    }

    @Test
    void aMissingTopicIsNamedWithTheFixAndNothingIsCreated() throws Exception {
        Path yaml = PipelineYaml.of("topology/sensor-anomaly.yaml").applicationId("locked").write(dir.resolve("p.yaml"));
        PipelineSpec spec = Pipelines.load(yaml);
        StartupErrorsTest.Result r = StartupErrorsTest.engram("run", "--config", yaml.toString(), "--bootstrap-servers", kafka.bootstrap(),
                "--metrics-port", "0", "--state-dir", dir.resolve("state").toString(), "--no-create-topics");
        StartupErrorsTest.assertClearError(r, spec.topics().name(AnomalyPipeline.INPUT), spec.topics().name(ForecastHead.PREDICTIONS), "missing",
                "--no-create-topics");
        for (String t : spec.topics().all()) {
            assertFalse(topics().contains(t), t + " was not created");
        }
    }

    @Test
    void withEveryTopicThereItStartsWithoutCreatingAny() throws Exception {
        PipelineSpec spec = PipelineYaml.of("topology/sensor-anomaly.yaml").applicationId("locked-ok").spec(dir);
        var t = spec.topics().withSuffix("-ok");
        spec = spec.withTopics(t);
        kafka.createTopics(2, t.all().toArray(new String[0]));
        try (PipelineRunner runner = PipelineRunner.start(spec, kafka.bootstrap(), dir.resolve("state"), new SimpleMeterRegistry(),
                PipelineRunner.StartOptions.DEFAULTS.withCreateTopics(false))) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(60)));
        }
    }
}

package io.engram.cli;

import io.engram.app.PipelineRunner;
import io.engram.monitoring.MetricsServer;
import io.engram.topology.PipelineConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram run}: one pipeline against any Kafka cluster, until stopped. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a pipeline (topology/*.yaml) against a Kafka cluster until Ctrl-C.", "",
            "Creates the pipeline's topics if they are missing; serves Prometheus metrics on /metrics."})
public final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", defaultValue = "topology/sensor-anomaly.yaml",
            description = "Pipeline definition (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = {"--bootstrap-servers", "-b"}, required = true, description = "Kafka bootstrap servers, HOST:PORT[,...].")
    String bootstrap;

    @Option(names = "--state-dir", defaultValue = "${java.io.tmpdir}/engram-state",
            description = "Kafka Streams state directory (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--metrics-port", description = "Override the pipeline's metrics.port (0 = off).")
    Integer metricsPort;

    @Option(names = "--application-id", description = "Override the pipeline's application_id (consumer group, state).")
    String applicationId;

    @Override
    public Integer call() throws Exception {
        PipelineConfig cfg = PipelineConfig.load(config);
        if (metricsPort != null) {
            cfg = cfg.withMetricsPort(metricsPort);
        }
        if (applicationId != null) {
            cfg = cfg.withApplicationId(applicationId);
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsServer http = cfg.metricsPort() > 0 ? new MetricsServer(registry, "0.0.0.0", cfg.metricsPort()) : null;
        CountDownLatch stop = new CountDownLatch(1);
        try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, registry, true)) {
            Thread hook = new Thread(() -> {
                runner.close();
                stop.countDown();
            }, "engram-run-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            runner.streams().setStateListener((now, before) -> {
                if (now == org.apache.kafka.streams.KafkaStreams.State.ERROR) {
                    System.err.println("engram: pipeline " + runner.config().name() + " failed; see the log above");
                    stop.countDown();
                }
            });
            if (runner.awaitRunning(Duration.ofMinutes(2))) {
                System.out.printf("engram: pipeline %s running (application id %s) on %s: %s -> %s, %s; dead letters -> %s%n",
                        cfg.name(), cfg.applicationId(), bootstrap, cfg.topics().input(), cfg.topics().predictions(),
                        cfg.topics().anomalies(), cfg.topics().deadLetter());
                if (http != null) {
                    System.out.printf("engram: metrics at http://localhost:%d/metrics%n", http.port());
                }
            }
            stop.await();
            return runner.streams().state() == org.apache.kafka.streams.KafkaStreams.State.ERROR ? 1 : 0;
        } finally {
            if (http != null) {
                http.close();
            }
        }
    }
}

package io.engram.tools.cli;

import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.StateQueries;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.monitoring.MetricsServer;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.BindException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import io.engram.tools.console.Shutdown;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code engram run}: one pipeline against any Kafka cluster, until stopped. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a pipeline (topology/*.yaml) against a Kafka cluster until Ctrl-C.", "",
            "The file's type: picks the pipeline: anomaly (sensor or video anomaly detection; the default) or video-activity.",
            "Creates the pipeline's topics if they are missing (--no-create-topics: requires them); serves Prometheus metrics on /metrics."})
public final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", defaultValue = "topology/sensor-anomaly.yaml",
            description = "Pipeline definition (default: ${DEFAULT-VALUE}).")
    Path config;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    // Not under the OS temp directory, which the OS may clear under a running pipeline (Kafka
    // Streams warns at every start when state.dir is there).
    @Option(names = "--state-dir", defaultValue = "${user.home}/.engram/state",
            description = "Kafka Streams state directory (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--metrics-port", description = "Override the pipeline's metrics.port (0 = off).")
    Integer metricsPort;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS",
            description = {"Override the pipeline's metrics.host: the address /metrics, /health and /ready bind",
                "(default 127.0.0.1, this machine only; 0.0.0.0 for every interface, as in the container)."})
    String metricsHost;

    @Option(names = "--application-id", description = "Override the pipeline's application_id (consumer group, state).")
    String applicationId;

    @Option(names = "--streams-property", paramLabel = "KEY=VALUE",
            description = {"Extra Kafka Streams property, applied over Engram's own settings; repeatable.",
                "Client settings pass through too, with Kafka Streams' prefixes (consumer., producer., admin.) or without,",
                "e.g. --streams-property session.timeout.ms=10000."})
    Map<String, String> streamsProperties = new LinkedHashMap<>();

    @Option(names = "--no-create-topics",
            description = {"Create no topics: each of the pipeline's topics must exist (a cluster where this principal may not create",
                "topics). A missing one stops the start with its name. Kafka Streams' own changelog topics are created by Kafka Streams."})
    boolean noCreateTopics;

    @Option(names = "--reset-changelogs",
            description = {"When an input or changelog topic of this pipeline was recreated or deleted since its local state was built,",
                "delete this topology's changelogs (<application_id>-<store>-changelog, by exact name) so that every stream starts afresh.",
                "Without it such a start stops with their names. It deletes nothing otherwise. Stop every instance first."})
    boolean resetChangelogs;

    @Override
    public Integer call() throws Exception {
        PipelineSpec spec = Pipelines.load(InstallPaths.resolve(config));
        if (metricsPort != null) {
            spec = spec.withMetricsPort(metricsPort);
        }
        if (applicationId != null) {
            spec = spec.withApplicationId(applicationId);
        }
        if (metricsHost != null) {
            spec = spec.withMetricsHost(metricsHost);
        }
        PipelineSpec s = spec;
        String bootstrap = kafka.bootstrap();
        // The command line's client settings: --command-config, -X, then --streams-property. The runner
        // puts them over the file's kafka: section, as --print-config shows.
        Map<String, String> client = new LinkedHashMap<>(kafka.client());
        client.putAll(streamsProperties);
        Map<String, String> effective = new LinkedHashMap<>(s.kafkaProperties());
        effective.putAll(client);
        if (kafka.printed(effective, System.out)) {
            return 0;
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        io.engram.engine.monitoring.JvmMeters.bindTo(registry); // for the life of the process
        String summary = String.format("%s (%s): %s -> %s; dead letters -> %s", s.name(), s.kind().type(),
                String.join(", ", s.inputTopics()), String.join(", ", outputs(s)), s.topics().deadLetter());
        checkBootstrap(bootstrap);
        return runUntilStopped(s.name(), summary, s.metricsHost(), s.metricsPort(), registry, client, s,
                () -> PipelineRunner.start(s, bootstrap, stateDir, registry,
                        PipelineRunner.StartOptions.DEFAULTS.withStreamsOverrides(client).withCreateTopics(!noCreateTopics)
                                .withResetChangelogs(resetChangelogs)), bootstrap);
    }

    /** The topics a pipeline writes, besides dead letters. */
    private static java.util.List<String> outputs(PipelineSpec s) {
        return s.outputTopics().stream().filter(t -> !t.equals(s.topics().deadLetter())).toList();
    }

    /** A malformed or unresolvable address is a local mistake: say so, rather than "cannot reach" after a timeout. */
    static void checkBootstrap(String bootstrap) {
        try {
            org.apache.kafka.clients.ClientUtils.parseAndValidateAddresses(java.util.Arrays.asList(bootstrap.split(",")),
                    org.apache.kafka.clients.ClientDnsLookup.USE_ALL_DNS_IPS);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new ConfigException("cannot use --bootstrap-servers '" + bootstrap + "': " + e.getMessage()
                    + ". Fix: give HOST:PORT[,HOST:PORT...] of your Kafka brokers", e);
        }
    }

    /**
     * @param client the clients' settings, which {@code start} reads: {@code application.server} is
     *     set in it here (this instance's HTTP address, for state queries routed between instances),
     *     to the user's when given ({@link #applicationServer})
     */
    private Integer runUntilStopped(String name, String summary, String host, int port, PrometheusMeterRegistry registry,
            Map<String, String> client, PipelineSpec spec, java.util.function.Supplier<PipelineRunner> start, String bootstrap)
            throws Exception {
        java.util.List<PipelineRunner> started = new java.util.concurrent.CopyOnWriteArrayList<>();
        MetricsServer http = port > 0 ? metricsServer(registry, host, port, () -> PipelineRunner.notReady(started)) : null;
        HostInfo self = null;
        if (http != null) {
            try {
                self = applicationServer(spec, client, host, http.port());
            } catch (RuntimeException e) {
                http.close();
                throw e;
            }
            if (!client.containsKey(APPLICATION_SERVER) && !spec.kafkaProperties().containsKey(APPLICATION_SERVER)) {
                client.put(APPLICATION_SERVER, self.host() + ":" + self.port());
            }
            writePortFile(System.getenv(PORT_FILE), http.port());
        }
        try (PipelineRunner runner = start.get()) {
            started.add(runner);
            if (http != null) {
                StateQueries queries = new StateQueries(List.of(runner), self);
                http.route("/streams/", queries::get);
            }
            // Ctrl-C closes the pipeline on the hook's thread (a clean Kafka Streams close commits), then ends the loop below.
            try (Shutdown shutdown = Shutdown.onCtrlC("engram-run-shutdown", Duration.ZERO, runner::close)) {
                // Kafka Streams takes a state listener only before start(), and the runner has started it:
                // watch the state instead, until Ctrl-C (the hook), an interrupt (when embedded) or a failure.
                boolean announced = false;
                while (!shutdown.awaitStop(200, TimeUnit.MILLISECONDS)) {
                    KafkaStreams.State state = runner.streams().state();
                    if (state == KafkaStreams.State.RUNNING && !announced) {
                        announced = true;
                        System.out.printf("engram: pipeline %s running on %s: %s%n", name, bootstrap, summary);
                        if (http != null) {
                            System.out.printf("engram: metrics at http://%s:%d/metrics (also /health, /ready, /streams/{id})%n", host, http.port());
                        }
                    } else if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR) {
                        // One line and status 1, so that a supervisor (systemd, Kubernetes, compose's
                        // restart policy) restarts it; the stack trace is in the log above.
                        String why = io.engram.engine.kafka.KafkaProperties.redactUrls(runner.failure());
                        System.err.println("engram: pipeline " + runner.name() + " stopped: " + (why != null ? why : "Kafka Streams failed")
                                + ". Fix the cause and restart it: output resumes exactly once from the last commit"
                                + " (docs/operating-state.md, \"When the pipeline stops\")");
                        return 1;
                    }
                }
            } catch (InterruptedException e) {
                // An embedding's (or a test's) way to stop: handled by closing as for Ctrl-C. The flag
                // stays clear, so that Kafka Streams' close can wait for its threads.
            }
            return 0;
        } finally {
            if (http != null) {
                http.close();
            }
        }
    }

    /** The environment variable that names a file to write the HTTP port to (the image's health check reads it). */
    public static final String PORT_FILE = "ENGRAM_HTTP_PORT_FILE";

    /**
     * Writes {@code port} (as text, one line) to {@code file}, replacing it at once, so that a health
     * check that reads it never sees half a number; nothing when {@code file} is null or empty. The
     * container image sets {@value #PORT_FILE}: its HEALTHCHECK asks /health on whatever port this
     * pipeline serves (its metrics.port, or --metrics-port), not a fixed one.
     */
    public static void writePortFile(String file, int port) throws java.io.IOException {
        if (file == null || file.isBlank()) {
            return;
        }
        Path target = Path.of(file).toAbsolutePath();
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        java.nio.file.Files.writeString(tmp, port + "\n");
        java.nio.file.Files.move(tmp, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static final String APPLICATION_SERVER = "application.server";

    /**
     * This instance's {@code application.server}: the HTTP address at which other instances of the
     * application reach its {@code /streams/} answers. The user's when given, on the command line
     * ({@code --streams-property}, {@code -X}, {@code --command-config}) or in the pipeline file's
     * {@code kafka:} section, in that order; else this instance's own address ({@link #advertised}
     * and the port bound).
     *
     * <p>A value in the file is used, not refused: the {@code kafka:} section is where a deployment
     * keeps its settings, {@code ${NAME}} lets one file give each instance its own address (e.g.
     * {@code application.server: ${POD_IP}:9464}, behind a NAT or a container's port mapping where
     * the bound address is not the reachable one), and {@code --print-config} shows it, so what it
     * shows is what runs. It used to be overridden by the bound address without a word.
     *
     * @throws ConfigException naming the setting, where it came from and the fix when it is not HOST:PORT
     */
    static HostInfo applicationServer(PipelineSpec spec, Map<String, String> client, String host, int port)
            throws java.net.UnknownHostException {
        String given = client.get(APPLICATION_SERVER);
        String from = "the command line (--streams-property, -X or --command-config)";
        if (given == null) {
            given = spec.kafkaProperties().get(APPLICATION_SERVER);
            from = "the kafka: section of " + spec.file();
        }
        if (given == null) {
            return new HostInfo(advertised(host), port);
        }
        HostInfo h;
        try {
            h = HostInfo.buildFromEndpoint(given);
        } catch (org.apache.kafka.common.KafkaException e) {
            h = null;
        }
        if (h == null || h.host().isBlank() || h.port() <= 0) {
            throw new ConfigException(APPLICATION_SERVER + " '" + given + "' from " + from + " is not HOST:PORT."
                    + " Fix: give the address other instances reach this one's metrics port at (e.g. engram-1:" + port
                    + "), or leave it out for " + advertised(host) + ":" + port);
        }
        return h;
    }

    /** The address other instances reach this one's HTTP port at: the bound host, or this machine's name when bound to all interfaces. */
    static String advertised(String host) throws java.net.UnknownHostException {
        return host.equals("0.0.0.0") || host.equals("::") ? java.net.InetAddress.getLocalHost().getHostName() : host;
    }

    private static MetricsServer metricsServer(PrometheusMeterRegistry registry, String host, int port,
            java.util.function.Supplier<String> notReady) throws java.io.IOException {
        try {
            return new MetricsServer(registry, host, port, notReady);
        } catch (BindException e) {
            throw new ConfigException("metrics port " + port + " is in use (another engram run?). Fix: pass --metrics-port"
                    + " with a free port, or 0 for no metrics (metrics.port in the pipeline file).", e);
        }
    }
}

package io.engram.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import io.engram.engine.monitoring.MetricsServer;
import io.engram.tools.cli.RunCommand;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * docker/compose.yaml, docker/Dockerfile, monitoring/prometheus*.yml and Grafana's provisioning
 * against each other and the app, without a Docker engine: every file they name exists, every port
 * and address matches the pipeline's configuration, every environment variable is one Engram reads.
 * And the deployment as shipped is private: every port published on 127.0.0.1 only, no default
 * password, no scrape target that is down by design, and a health check on the pipeline's own port.
 */
@SuppressWarnings("unchecked")
class ComposeConsistencyTest {
    static final Path DOCKER = Path.of("docker");

    static Map<String, Object> yaml(Path p) throws Exception {
        try (var r = Files.newBufferedReader(p)) {
            return new Yaml().load(r);
        }
    }

    static Map<String, Object> services() throws Exception {
        return (Map<String, Object>) yaml(DOCKER.resolve("compose.yaml")).get("services");
    }

    static List<String> engramServices(Map<String, Object> services) {
        return services.keySet().stream().filter(s -> s.startsWith("engram")).sorted().toList();
    }

    @Test
    void everyMountedFileExistsAndEveryNamedVolumeIsDeclared() throws Exception {
        Map<String, Object> compose = yaml(DOCKER.resolve("compose.yaml"));
        Set<String> declared = ((Map<String, Object>) compose.get("volumes")).keySet();
        for (var e : services().entrySet()) {
            for (Object v : (List<Object>) ((Map<String, Object>) e.getValue()).getOrDefault("volumes", List.of())) {
                String source = v.toString().split(":")[0];
                if (source.startsWith(".")) {
                    assertTrue(Files.exists(DOCKER.resolve(source)), e.getKey() + " mounts " + source + ", which does not exist");
                } else {
                    assertTrue(declared.contains(source), e.getKey() + " uses volume " + source + ", not declared");
                }
            }
        }
        assertTrue(declared.contains("kafka-data"), "the broker's data is kept in a volume");
    }

    @Test
    void engramServicesMatchThePipelineTheDockerfileAndPrometheus() throws Exception {
        Map<String, Object> services = services();
        List<String> engram = engramServices(services);
        assertTrue(engram.size() >= 2, "two instances of the sensor pipeline: " + engram);
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        Map<String, Object> kafka = (Map<String, Object>) services.get("kafka");
        String advertised = ((Map<String, Object>) kafka.get("environment")).get("KAFKA_ADVERTISED_LISTENERS").toString();
        Set<String> envRead = envVariablesReadByEngram();
        Set<String> scraped = new TreeSet<>(targets(mountedPrometheusConfig()));
        Set<String> instances = new TreeSet<>();
        for (String name : engram) {
            Map<String, Object> s = (Map<String, Object>) services.get(name);
            List<String> cmd = ((List<Object>) s.get("command")).stream().map(Object::toString).toList();
            Path config = Path.of(arg(cmd, "--config"));
            assertTrue(Files.isRegularFile(config), name + ": " + config + " exists");
            assertTrue(dockerfile.contains("COPY " + config.getName(0) + " " + config.getName(0)), "the image carries " + config.getName(0));
            PipelineSpec spec = Pipelines.load(config);
            int port = spec.metricsPort();
            assertTrue(((List<Object>) s.get("ports")).stream().anyMatch(p -> p.toString().endsWith(":" + port)), name + " publishes " + port);
            assertTrue(dockerfile.contains("EXPOSE " + port), "the Dockerfile exposes " + port);
            assertTrue(healthcheck(dockerfile).contains("/dev/tcp/127.0.0.1/$port "),
                    "the Dockerfile health-checks the port the pipeline serves (" + port + " here), read from the port file");
            assertEquals("0.0.0.0", arg(cmd, "--metrics-host"), name + " binds every interface in its container");
            assertTrue(advertised.contains("PLAINTEXT://" + arg(cmd, "--bootstrap-servers")), name + " reaches Kafka's advertised listener");
            String stateDir = arg(cmd, "--state-dir");
            assertTrue(((List<Object>) s.get("volumes")).stream().anyMatch(v -> v.toString().endsWith(":" + stateDir)), name + " keeps its state");
            assertEquals("linux/amd64", s.get("platform"));
            assertEquals("unless-stopped", s.get("restart"));
            assertEquals(Map.of("kafka", Map.of("condition", "service_healthy")), s.get("depends_on"));
            assertEquals(name, s.get("hostname"), name + "'s hostname is its service name (application.server)");
            for (String var : ((Map<String, Object>) s.getOrDefault("environment", Map.of())).keySet()) {
                assertTrue(envRead.contains(var), name + " sets " + var + ", which Engram does not read (it reads " + envRead + ")");
            }
            instances.add(name + ":" + port);
        }
        assertEquals(instances, scraped, "compose's Prometheus scrapes exactly its Engram instances: none is down by design");
        assertTrue(((Map<String, Object>) kafka).containsKey("healthcheck"), "Kafka has a healthcheck");
        for (String svc : List.of("kafka", "prometheus", "grafana")) {
            assertEquals("unless-stopped", ((Map<String, Object>) services.get(svc)).get("restart"), svc);
        }
    }

    @Test
    void theDockerfileCopiesWhatExistsAndRunsItsJarAsNonRoot() throws Exception {
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        Matcher m = Pattern.compile("(?m)^COPY (?!--from)(.+) (\\S+)$").matcher(dockerfile);
        int copies = 0;
        while (m.find()) {
            for (String src : m.group(1).trim().split("\\s+")) {
                assertTrue(Files.exists(Path.of(src)), "COPY " + src + " exists");
                copies++;
            }
        }
        assertTrue(copies >= 5, "COPY lines read: " + copies);
        assertTrue(dockerfile.contains("COPY --from=build /src/target/engram.jar target/engram.jar")
                && dockerfile.contains("\"-jar\", \"/opt/engram/target/engram.jar\""), "the entry point runs the built jar");
        assertTrue(dockerfile.contains("\nUSER engram\n") && dockerfile.contains("HEALTHCHECK"), "non-root, with a health check");
        String ignore = Files.readString(Path.of(".dockerignore"));
        assertTrue(ignore.startsWith("#") && ignore.contains("\n*\n"), ".dockerignore lets in only what the image needs");
    }

    @Test
    void grafanaProvisioningPointsAtTheDashboardsAndPrometheus() throws Exception {
        Map<String, Object> grafana = (Map<String, Object>) services().get("grafana");
        List<String> mounts = ((List<Object>) grafana.get("volumes")).stream().map(Object::toString).toList();
        String dashboards = mounts.stream().filter(v -> v.startsWith("../monitoring/grafana/dashboards:")).findFirst().orElseThrow()
                .split(":")[1];
        Map<String, Object> provider = (Map<String, Object>) ((List<Object>) yaml(Path.of(
                "monitoring/grafana/provisioning/dashboards/engram.yml")).get("providers")).get(0);
        assertEquals(dashboards, ((Map<String, Object>) provider.get("options")).get("path"), "the provider reads the mounted dashboards");
        Map<String, Object> ds = (Map<String, Object>) ((List<Object>) yaml(Path.of(
                "monitoring/grafana/provisioning/datasources/prometheus.yml")).get("datasources")).get(0);
        assertTrue(((List<Object>) ((Map<String, Object>) services().get("prometheus")).get("ports")).contains("127.0.0.1:9090:9090"));
        assertEquals("http://prometheus:9090", ds.get("url"));
        // Every dashboard refers to the provisioned datasource by its uid.
        try (Stream<Path> files = Files.list(Path.of("monitoring/grafana/dashboards"))) {
            List<Path> all = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
            assertEquals(3, all.size(), "overview, sensor and video dashboards: " + all);
            for (Path f : all) {
                String json = Files.readString(f);
                assertTrue(json.contains("\"uid\": \"" + ds.get("uid") + "\""), f + " uses datasource " + ds.get("uid"));
            }
        }
    }

    @Test
    void everyPortIsPublishedOnLoopbackOnly() throws Exception {
        int published = 0;
        for (var e : services().entrySet()) {
            for (Object p : (List<Object>) ((Map<String, Object>) e.getValue()).getOrDefault("ports", List.of())) {
                assertTrue(p.toString().matches("127\\.0\\.0\\.1:\\d+:\\d+"),
                        e.getKey() + " publishes " + p + ": publish on 127.0.0.1 only (\"127.0.0.1:HOST:CONTAINER\")");
                published++;
            }
            assertTrue(!((Map<String, Object>) e.getValue()).containsKey("network_mode"), e.getKey() + " uses the host's network");
        }
        assertEquals(5, published, "Kafka, two Engram instances, Prometheus, Grafana: " + published);
    }

    @Test
    void grafanasAdminPasswordIsARequiredVariable() throws Exception {
        Map<String, Object> env = (Map<String, Object>) ((Map<String, Object>) services().get("grafana")).get("environment");
        assertEquals("${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD}", env.get("GF_SECURITY_ADMIN_PASSWORD"),
                "compose stops with that line when the variable is unset or empty");
        // No default anywhere: not in the file, not in an .env file that compose would read.
        for (var e : services().entrySet()) {
            Map<String, Object> vars = (Map<String, Object>) ((Map<String, Object>) e.getValue()).getOrDefault("environment", Map.of());
            for (var v : vars.entrySet()) {
                if (v.getKey().contains("PASSWORD") || v.getKey().contains("SECRET")) {
                    assertTrue(String.valueOf(v.getValue()).matches("\\$\\{[A-Z_]+:\\?[^}]+}"), e.getKey() + ": " + v.getKey() + " is a required variable");
                }
            }
        }
        assertTrue(!Files.exists(DOCKER.resolve(".env")) && !Files.exists(Path.of(".env")), "no .env file with a password");
        assertTrue(!Files.readString(DOCKER.resolve("compose.yaml")).contains("admin/admin"));
    }

    @Test
    void eachPrometheusSetUpScrapesOnlyItsOwnTargets() throws Exception {
        // compose: monitoring/prometheus-compose.yml (checked against the services above); this machine:
        // monitoring/prometheus.yml, one engram run or demo of the sensor pipeline.
        assertEquals(Path.of("monitoring/prometheus-compose.yml"), mountedPrometheusConfig());
        int port = Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).metricsPort();
        assertEquals(List.of("localhost:" + port), targets(Path.of("monitoring/prometheus.yml")));
        Map<String, Object> prometheus = (Map<String, Object>) services().get("prometheus");
        List<String> mounts = ((List<Object>) prometheus.get("volumes")).stream().map(Object::toString).toList();
        for (Path config : List.of(Path.of("monitoring/prometheus.yml"), Path.of("monitoring/prometheus-compose.yml"))) {
            Map<String, Object> y = yaml(config);
            List<Map<String, Object>> jobs = (List<Map<String, Object>>) y.get("scrape_configs");
            assertEquals(List.of("engram"), jobs.stream().map(j -> j.get("job_name")).toList(), config + ": one job, which EngramTargetDown watches");
            for (Object rules : (List<Object>) y.get("rule_files")) {
                assertTrue(Files.isRegularFile(config.resolveSibling(rules.toString())), config + " loads " + rules);
                assertTrue(mounts.contains("../monitoring/" + rules + ":/etc/prometheus/" + rules + ":ro"), "compose mounts " + rules);
            }
        }
    }

    @Test
    void theHealthCheckAsksThePortThePipelineServes(@TempDir Path dir) throws Exception {
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        Matcher env = Pattern.compile("(?m)^ENV " + RunCommand.PORT_FILE + "=(\\S+)$").matcher(dockerfile);
        assertTrue(env.find(), "the image names the port file that engram run writes");
        assertTrue(envVariablesReadByEngram().contains(RunCommand.PORT_FILE));
        String check = healthcheck(dockerfile);
        assertTrue(check.contains("\"$" + RunCommand.PORT_FILE + "\"") && !check.matches("(?s).*/dev/tcp/127\\.0\\.0\\.1/\\d.*"),
                "no fixed port in the health check: " + check);
        assertTrue(Files.isExecutable(Path.of("/bin/bash")), "bash runs the health check, as in the image");
        // The check itself, as Docker runs it (/bin/sh -c), against a server on a port that no pipeline file names.
        Path portFile = dir.resolve("engram-http.port");
        try (MetricsServer server = new MetricsServer(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), "127.0.0.1", 0)) {
            RunCommand.writePortFile(portFile.toString(), server.port());
            assertEquals(0, runCheck(check, portFile), "healthy: /health answers 200 on port " + server.port());
        }
        assertTrue(runCheck(check, portFile) != 0, "unhealthy once nothing answers on that port");
        assertTrue(runCheck(check, dir.resolve("no-such-file")) != 0, "unhealthy before engram run wrote its port");
    }

    /** The health check's exit status; the process is waited for without a bound of its own (the check connects to loopback only). */
    static int runCheck(String check, Path portFile) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", check).redirectErrorStream(true);
        pb.environment().put(RunCommand.PORT_FILE, portFile.toString());
        Process p = pb.start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }

    /** The HEALTHCHECK's command (shell form), its continuation lines joined. */
    static String healthcheck(String dockerfile) {
        String joined = dockerfile.replaceAll("\\\\\n\\s*", " ");
        Matcher m = Pattern.compile("(?m)^HEALTHCHECK .*? CMD (.+)$").matcher(joined);
        assertTrue(m.find(), "a HEALTHCHECK ... CMD line");
        return m.group(1);
    }

    /** The Prometheus configuration that compose mounts as /etc/prometheus/prometheus.yml. */
    static Path mountedPrometheusConfig() throws Exception {
        Map<String, Object> prometheus = (Map<String, Object>) services().get("prometheus");
        String mount = ((List<Object>) prometheus.get("volumes")).stream().map(Object::toString)
                .filter(v -> v.contains(":/etc/prometheus/prometheus.yml")).findFirst().orElseThrow();
        return Path.of(DOCKER.resolve(mount.split(":")[0]).normalize().toString());
    }

    /** Every static target of a Prometheus configuration. */
    static List<String> targets(Path config) throws Exception {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> job : (List<Map<String, Object>>) yaml(config).get("scrape_configs")) {
            for (Map<String, Object> sc : (List<Map<String, Object>>) job.getOrDefault("static_configs", List.of())) {
                ((List<Object>) sc.get("targets")).forEach(t -> out.add(t.toString()));
            }
        }
        return out;
    }

    static String arg(List<String> cmd, String name) {
        int i = cmd.indexOf(name);
        assertTrue(i >= 0 && i + 1 < cmd.size(), name + " in " + cmd);
        return cmd.get(i + 1);
    }

    /** Every ENGRAM_* variable the main sources read with System.getenv. */
    static Set<String> envVariablesReadByEngram() throws Exception {
        Set<String> out = new TreeSet<>();
        Pattern p = Pattern.compile("\"(ENGRAM_[A-Z_]+)\"");
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(Path.of("src/main/java"))) {
            walk.filter(f -> f.toString().endsWith(".java")).forEach(sources::add);
        }
        for (Path f : sources) {
            Matcher m = p.matcher(Files.readString(f));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }
}

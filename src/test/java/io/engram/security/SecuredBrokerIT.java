package io.engram.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.tools.cli.EngramCli;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.harness.EngramProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Engram on a secured broker: the in-process broker with a SASL_SSL listener (SASL/PLAIN over TLS,
 * a certificate generated for the test), and {@code run} (an {@code engram run} process), {@code
 * ingest sensors} and {@code tail} given the client settings with {@code --command-config}. With
 * the right password the readings go through the pipeline and every prediction is read back; with
 * a wrong one each command stops at once with one line naming the authentication failure.
 */
class SecuredBrokerIT {
    static final int READINGS = 200;
    static final String PASSWORD = "alice-secret";

    @TempDir
    static Path dir;

    static EmbeddedKafka kafka;
    static Path good;
    static Path wrong;

    @BeforeAll
    static void startSecuredBroker() throws Exception {
        kafka = EmbeddedKafka.startSecured(0, null, true, new EmbeddedKafka.Secured("alice", PASSWORD, dir.resolve("tls")));
        assertEquals("SASL_SSL", kafka.clientProperties().get("security.protocol"));
        good = write("good.properties", kafka.clientProperties());
        Map<String, String> bad = new java.util.LinkedHashMap<>(kafka.clientProperties());
        bad.put("sasl.jaas.config", bad.get("sasl.jaas.config").replace(PASSWORD, "not-the-password"));
        wrong = write("wrong.properties", bad);
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    static Path write(String name, Map<String, String> props) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, props.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().replace("\\", "\\\\"))
                .collect(Collectors.joining("\n", "", "\n")));
        return f;
    }

    record Result(int code, String out, String err) {
        String line() {
            List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), "one line on stderr:\n" + err);
            return lines.get(0);
        }
    }

    /** Runs a command in this JVM, with what it prints on stdout (tail's records) and its error line. */
    static synchronized Result engram(String... args) {
        StringWriter err = new StringWriter();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = EngramCli.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(original);
        }
    }

    static Path csv() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("ingest/samples/machine-temperature.csv"));
        Path f = dir.resolve("secured.csv");
        Files.write(f, lines.subList(0, READINGS + 1));
        return f;
    }

    @Test
    @Timeout(300) // a guard against a client that retries a refused login for ever, not a measurement
    void runIngestAndTailWorkThroughSaslSslAndEveryPredictionComesBack() throws Exception {
        Path yaml = Path.of("topology/sensor-anomaly.yaml");
        EngramProcess run = EngramProcess.start("secured-run", yaml, kafka.bootstrapServers(), dir.resolve("state"),
                dir.resolve("run.log"), Map.of(), List.of("--command-config", good.toString(), "--application-id", "secured-it"));
        try {
            run.awaitRunning(Duration.ofMinutes(2));
            Result ingest = engram("ingest", "sensors", "--file", csv().toString(), "--stream", "secured-1", "--topic", "sensor-readings",
                    "--bootstrap-server", kafka.bootstrapServers(), "--command-config", good.toString(), "--no-progress");
            assertEquals(0, ingest.code(), ingest.err());
            // Reads on until 15 s pass without a record: a duplicate would show as one line too many.
            Result tail = engram("tail", "--topic", "sensor-predictions", "--from-beginning", "--timeout", "15",
                    "-b", kafka.bootstrapServers(), "--command-config", good.toString());
            assertEquals(0, tail.code(), tail.err());
            List<String> predictions = tail.out().lines().filter(l -> l.contains("secured-1")).toList();
            assertEquals(READINGS, predictions.size(), "one prediction per reading, read back through SASL_SSL:\n" + tail.out());
            assertTrue(run.alive(), "engram run still running:\n" + run.tail(40));
        } finally {
            run.stop();
        }
    }

    @Test
    @Timeout(300)
    void aWrongPasswordStopsEveryCommandAtOnceWithOneLineNamingTheAuthenticationFailure() throws Exception {
        Result ingest = engram("ingest", "sensors", "--file", csv().toString(), "--topic", "sensor-readings",
                "-b", kafka.bootstrapServers(), "--command-config", wrong.toString(), "--no-progress");
        Result tail = engram("tail", "--topic", "sensor-predictions", "-b", kafka.bootstrapServers(), "--command-config", wrong.toString());
        Result run = engram("run", "--config", "topology/sensor-anomaly.yaml", "-b", kafka.bootstrapServers(), "--command-config",
                wrong.toString(), "--metrics-port", "0", "--state-dir", dir.resolve("wrong-state").toString());
        for (Map.Entry<String, Result> e : Map.of("ingest", ingest, "tail", tail, "run", run).entrySet()) {
            assertEquals(2, e.getValue().code(), e.getKey() + ": " + e.getValue().err());
            String line = e.getValue().line();
            assertTrue(line.startsWith("engram: authentication failed at " + kafka.bootstrapServers()), e.getKey() + ": " + line);
            assertTrue(line.contains("--command-config"), e.getKey() + " names the fix: " + line);
        }
    }

    @Test
    void printConfigShowsTheSettingsWithSecretsHidden() {
        Result r = engram("tail", "--topic", "t", "-b", kafka.bootstrapServers(), "--command-config", good.toString(),
                "-X", "client.id=mine", "--print-config");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bootstrap.servers=" + kafka.bootstrapServers()), r.out());
        assertTrue(r.out().contains("security.protocol=SASL_SSL"), r.out());
        assertTrue(r.out().contains("client.id=mine"), r.out());
        assertTrue(r.out().contains("sasl.jaas.config=[hidden]") && r.out().contains("ssl.truststore.password=[hidden]"), r.out());
        assertTrue(!r.out().contains(PASSWORD) && !r.out().contains("engram-test-store"), "no secret printed:\n" + r.out());
    }
}

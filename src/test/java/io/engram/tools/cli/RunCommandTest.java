package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.runtime.Pipelines;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RunCommandTest {
    @Test
    void streamsPropertiesAreRepeatableKeyValuePairsInOrder() {
        RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs("--bootstrap-servers", "localhost:9092",
                "--streams-property", "session.timeout.ms=6000", "--streams-property", "producer.linger.ms=20");
        assertEquals(Map.of("session.timeout.ms", "6000", "producer.linger.ms", "20"), run.streamsProperties);
        assertEquals(java.util.List.of("session.timeout.ms", "producer.linger.ms"), java.util.List.copyOf(run.streamsProperties.keySet()));
    }

    @Test
    void noStreamsPropertiesIsAnEmptyMap() {
        RunCommand run = new RunCommand();
        new CommandLine(run).parseArgs("--bootstrap-servers", "localhost:9092");
        assertEquals(Map.of(), run.streamsProperties);
    }

    @Test
    void aStreamsPropertyWithoutAnEqualsSignIsAUsageError() {
        StringWriter err = new StringWriter();
        var cl = EngramCli.commandLine();
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("run", "--bootstrap-servers", "localhost:9092", "--streams-property", "session.timeout.ms"));
        assertTrue(err.toString().contains("--streams-property"), err.toString());
    }

    @Test
    void thePortFileHoldsTheServedPortAndIsReplacedWhole(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("engram-http.port");
        RunCommand.writePortFile(file.toString(), 9465);
        assertEquals("9465\n", java.nio.file.Files.readString(file));
        RunCommand.writePortFile(file.toString(), 9464);
        assertEquals("9464\n", java.nio.file.Files.readString(file));
        try (var files = java.nio.file.Files.list(dir)) {
            assertEquals(java.util.List.of(file), files.toList(), "no temporary file left");
        }
        RunCommand.writePortFile(null, 9464); // not in a container: nothing to write
        RunCommand.writePortFile("", 9464);
    }

    @TempDir
    Path dir;

    PipelineSpec pipeline(String kafka) throws Exception {
        Path f = dir.resolve("p.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\n" + kafka);
        return Pipelines.load(f);
    }

    /**
     * application.server set in the pipeline file's kafka: section is what state queries route by
     * (and what --print-config shows), not replaced by the bound address; the command line's wins over
     * the file's, as for every client setting; none gives this instance's own address.
     */
    @Test
    void applicationServerFromTheFileIsUsedTheCommandLinesWinsAndNoneIsTheBoundAddress() throws Exception {
        PipelineSpec withServer = pipeline("kafka:\n  application.server: engram-1:9464\n");
        assertEquals(new HostInfo("engram-1", 9464), RunCommand.applicationServer(withServer, Map.of(), "127.0.0.1", 9999));
        assertEquals(new HostInfo("10.0.0.7", 9000),
                RunCommand.applicationServer(withServer, Map.of("application.server", "10.0.0.7:9000"), "127.0.0.1", 9999));
        PipelineSpec without = pipeline("");
        assertEquals(new HostInfo("127.0.0.1", 9999), RunCommand.applicationServer(without, Map.of(), "127.0.0.1", 9999));
    }

    @Test
    void anApplicationServerThatIsNotHostAndPortIsAClearErrorNamingWhereItCameFrom() throws Exception {
        PipelineSpec bad = pipeline("kafka:\n  application.server: engram-1\n");
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> RunCommand.applicationServer(bad, Map.of(), "127.0.0.1", 9999));
        assertTrue(e.getMessage().contains("application.server 'engram-1'") && e.getMessage().contains("kafka: section of " + bad.file())
                && e.getMessage().contains("HOST:PORT") && e.getMessage().contains("Fix"), e.getMessage());
        ConfigException cli = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> RunCommand.applicationServer(pipeline(""), Map.of("application.server", "a:b"), "127.0.0.1", 9999));
        assertTrue(cli.getMessage().contains("--streams-property"), cli.getMessage());
    }

    /** {@code run --print-config}: every credential hidden, wherever it came from; the file's application.server shown as it runs. */
    @Test
    void printConfigHidesEveryCredentialAndShowsTheFilesSettings() throws Exception {
        PipelineSpec p = pipeline("kafka:\n  application.server: engram-1:9464\n  basic.auth.user.info: alice:s3cret\n"
                + "  schema.registry.url: http://alice:s3cret@registry:8081\n  security.protocol: SASL_SSL\n");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.out;
        int code;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            code = EngramCli.commandLine().execute("run", "--config", p.file().toString(), "--bootstrap-servers", "localhost:9092",
                    "-X", "sasl.oauthbearer.client.credentials.client.secret=s3cret", "-X", "sasl.jaas.config=x password=\"s3cret\";",
                    "--streams-property", "producer.ssl.key.password=s3cret", "--print-config");
        } finally {
            System.setOut(original);
        }
        String printed = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, code, printed);
        for (String line : java.util.List.of("application.server=engram-1:9464", "basic.auth.user.info=[hidden]",
                "schema.registry.url=http://***@registry:8081", "security.protocol=SASL_SSL", "sasl.jaas.config=[hidden]",
                "sasl.oauthbearer.client.credentials.client.secret=[hidden]", "producer.ssl.key.password=[hidden]")) {
            assertTrue(printed.lines().anyMatch(line::equals), line + " in:\n" + printed);
        }
        assertTrue(!printed.contains("s3cret"), "no secret printed:\n" + printed);
    }

    @Test
    void theHelpShowsTheVariableSyntaxLiterally() {
        String help = EngramCli.commandLine().getSubcommands().get("run").getUsageMessage();
        assertTrue(help.contains("${NAME}"), help);
    }
}

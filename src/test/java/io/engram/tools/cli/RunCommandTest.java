package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
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
}

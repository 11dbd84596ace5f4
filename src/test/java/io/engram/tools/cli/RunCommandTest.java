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
}

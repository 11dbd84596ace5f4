package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TailCommandTest {
    @Test
    void helpNamesEveryOptionAndTheLineFormat() {
        StringWriter out = new StringWriter();
        CommandLine cl = EngramCli.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("tail", "--help"));
        String help = out.toString();
        for (String s : new String[] {"--topic", "--bootstrap-servers", "--from-beginning", "--max", "--timeout", "--group", "read_committed"}) {
            assertTrue(help.contains(s), s + " in\n" + help);
        }
    }

    @Test
    void nonPositiveMaxIsAUsageErrorBeforeAnyConnection() {
        StringWriter err = new StringWriter();
        CommandLine cl = EngramCli.commandLine();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("tail", "--topic", "t", "-b", "localhost:1", "--max", "0"));
        assertTrue(err.toString().contains("--max 0 must be at least 1"), err.toString());
    }
}

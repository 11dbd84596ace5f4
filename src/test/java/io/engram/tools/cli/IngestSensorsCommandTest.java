package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class IngestSensorsCommandTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = EngramCli.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void missingFileExitsWithStatus2AndOneLineNamingTheFile(@TempDir Path dir) {
        Path missing = dir.resolve("missing.csv");
        // No broker at localhost:1: the file is checked first, so this fails fast on the file.
        Run r = run("ingest", "sensors", "--file", missing.toString(), "--topic", "t", "-b", "localhost:1");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("engram: CSV file " + missing + " does not exist"), r.err());
    }

    @Test
    void speedIsMaxOrAPositiveFactor() {
        var c = new IngestSensorsCommand.SpeedConverter();
        assertEquals(0.0, c.convert("max"));
        assertEquals(60.0, c.convert("60"));
        assertEquals(0.5, c.convert("0.5"));
        assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("0"));
        assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("fast"));
        Run r = run("ingest", "sensors", "--file", "x.csv", "--topic", "t", "-b", "localhost:1", "--speed", "fast");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'fast' is not 'max' or a positive number"), r.err());
    }

    @Test
    void streamIdDefaultsToTheFileNameWithoutExtension() {
        assertEquals("nyc_taxi", IngestSensorsCommand.defaultStreamId(Path.of("data/nyc_taxi.csv")));
        assertEquals("a.b", IngestSensorsCommand.defaultStreamId(Path.of("a.b.csv")));
        assertEquals("plain", IngestSensorsCommand.defaultStreamId(Path.of("plain")));
    }

    @Test
    void ingestAloneListsItsSubcommandsAndSensorsHelpNamesTheFormats() {
        Run parent = run("ingest");
        assertEquals(0, parent.code());
        Run help = run("ingest", "sensors", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--speed") && help.out().contains("timestamp,value"), help.out());
    }
}

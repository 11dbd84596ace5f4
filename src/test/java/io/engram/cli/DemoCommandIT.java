package io.engram.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `engram demo --seconds N` end to end: broker, pipeline, feeder, live alerts and the summary. */
class DemoCommandIT {
    @Test
    void theDemoPrintsTheBrokerLiveAlertsOnInjectedAnomaliesAndASummary() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        try (PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            code = EngramCli.commandLine().execute("demo", "--seconds", "25", "--rate", "100");
        } finally {
            System.setOut(original);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        original.println(out);
        assertEquals(0, code, out);
        assertTrue(out.matches("(?s).*Kafka broker at localhost:\\d+.*"), "prints the broker address");
        assertTrue(out.contains("ANOMALY") && out.contains("<- injected"), "alerts on injected anomalies");
        assertTrue(out.contains("engram demo summary"), out);
        Matcher detected = Pattern.compile("detected:\\s+(\\d+)").matcher(out);
        assertTrue(detected.find() && Integer.parseInt(detected.group(1)) >= 3, "detects injected anomalies");
        Matcher dead = Pattern.compile("dead letters:\\s+(\\d+)").matcher(out);
        assertTrue(dead.find());
        assertEquals(3, Integer.parseInt(dead.group(1)), "the three bad records went to the dead-letter topic");
        Matcher sent = Pattern.compile("readings sent:\\s+(\\d+)").matcher(out);
        Matcher processed = Pattern.compile("readings processed:\\s+(\\d+)").matcher(out);
        assertTrue(sent.find() && processed.find());
        assertTrue(Long.parseLong(processed.group(1)) > 0.9 * Long.parseLong(sent.group(1)), "the pipeline keeps up");
    }
}

package io.engram.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * `engram demo --seconds N` end to end: broker, the three pipelines, feeders, live alerts, activity
 * changes, video anomaly scores and the summary. It checks behaviour (what is printed, that each
 * pipeline processed its input, that the three bad records were dead-lettered, that counts are
 * consistent); throughput and accuracy are figures for `engram bench` and docs/benchmarks.md, never
 * floors in a test.
 */
class DemoCommandIT {
    static long number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertTrue(m.find(), "the summary has " + regex + ":\n" + out);
        return Long.parseLong(m.group(1));
    }

    @Test
    void theDemoRunsEveryPipelineAndPrintsTheBrokerLiveAlertsActivityChangesAndASummary() {
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
        assertTrue(out.matches("(?s).*metrics at http://127\\.0\\.0\\.1:\\d+/metrics \\(also /health, /ready, /streams/\\{id}\\).*"),
                "serves metrics, probes and state queries on loopback only");
        assertTrue(out.contains("engram demo summary"), out);

        // Sensors: alerts name the injected anomaly they belong to (the simulator injects after warm-up).
        assertTrue(out.contains("ANOMALY") && out.contains("<- injected"), "alerts on injected anomalies");
        long sent = number(out, "readings sent:\\s+(\\d+)");
        long processed = number(out, "readings processed:\\s+(\\d+)");
        assertTrue(processed > 0 && processed <= sent + 3, "readings were stepped, never more than were sent (+ 3 bad ones)");
        long injected = number(out, "injected anomalies:\\s+(\\d+)");
        long detected = number(out, "detected:\\s+(\\d+)");
        assertTrue(detected <= injected);
        assertEquals(3, number(out, "dead letters:\\s+(\\d+)"), "the three bad records went to the dead-letter topic");

        // Video activity: changes are printed live with the clip's true motion, predictions are scored.
        assertTrue(out.matches("(?s).*ACTIVITY cam-a .*->.*\\(true motion: [a-z]+\\).*"), "prints activity changes of cam-a");
        assertTrue(out.matches("(?s).*ACTIVITY cam-b .*"), "prints activity changes of cam-b");
        long frames = number(out, "video frames sent:\\s+(\\d+)");
        long framesDone = number(out, "video frames processed:\\s+(\\d+)");
        assertTrue(framesDone > 0 && framesDone <= frames, "frames were stepped, never more than were sent");
        Matcher acc = Pattern.compile("activity accuracy:\\s+([0-9.]+)% of (\\d+) frames").matcher(out);
        assertTrue(acc.find() && Long.parseLong(acc.group(2)) > 0, "predictions were scored against the clips' true motion");

        // Video anomaly: the third pipeline scored the same cameras' frames; each alert it printed names a camera.
        long scored = number(out, "video anomaly frames scored:\\s+(\\d+)");
        assertTrue(scored > 0 && scored <= frames, "every camera's frames are scored once at most");
        long vAlerts = number(out, "video anomaly alerts:\\s+(\\d+)");
        Matcher lines = Pattern.compile("VIDEO ANOMALY (cam-[ab]) ").matcher(out);
        int printed = 0;
        while (lines.find()) {
            printed++;
        }
        assertEquals(vAlerts, printed, "every video anomaly alert was printed, once");
    }
}

package io.engram.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `engram demo --seconds N` end to end: broker, both pipelines, feeders, live alerts, activity changes and the summary. */
class DemoCommandIT {
    @Test
    void theDemoPrintsTheBrokerLiveAlertsActivityChangesAndASummary() {
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

        // Video: the sample cameras' activity changes are printed live, and the GRU gets the clips' motions right.
        assertTrue(out.matches("(?s).*ACTIVITY cam-a .*->.*\\(true motion: [a-z]+\\).*"), "prints activity changes of cam-a");
        assertTrue(out.matches("(?s).*ACTIVITY cam-b .*"), "prints activity changes of cam-b");
        Matcher frames = Pattern.compile("video frames sent:\\s+(\\d+)").matcher(out);
        Matcher framesDone = Pattern.compile("video frames processed:\\s+(\\d+)").matcher(out);
        assertTrue(frames.find() && framesDone.find(), out);
        assertTrue(Long.parseLong(frames.group(1)) >= 100, "both cameras stream at 10 frames/s");
        assertTrue(Long.parseLong(framesDone.group(1)) >= 0.8 * Long.parseLong(frames.group(1)), "the video pipeline keeps up");
        Matcher acc = Pattern.compile("activity accuracy:\\s+([0-9.]+)% of (\\d+) frames").matcher(out);
        assertTrue(acc.find(), out);
        assertTrue(Integer.parseInt(acc.group(2)) >= 50, "predictions were scored against the clips' true motion");
        assertTrue(Double.parseDouble(acc.group(1)) >= 75.0, "the activity model recognises the sample clips' motions (chance: 14%)");
    }
}

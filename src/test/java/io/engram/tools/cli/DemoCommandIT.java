package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.Map;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * `engram demo --seconds N` end to end: broker, the four pipelines, feeders, live alerts, activity
 * changes, video anomaly scores, people's activity changes and the summary. It checks behaviour (what is printed, that each
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

    /**
     * Waits for the demo's "metrics at http://127.0.0.1:PORT" line and for /ready, then asks /health,
     * /ready, /metrics and /streams/{id}; checks that the port answers on loopback only.
     */
    static Map<String, HttpResponse<String>> askWhileRunning(ByteArrayOutputStream buf) throws Exception {
        Pattern at = Pattern.compile("metrics at http://127\\.0\\.0\\.1:(\\d+)/metrics");
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
        int port = -1;
        while (port < 0 && System.nanoTime() < deadline) {
            Matcher m = at.matcher(buf.toString(StandardCharsets.UTF_8));
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            } else {
                Thread.sleep(100);
            }
        }
        assertTrue(port > 0, "the demo printed its metrics address:\n" + buf.toString(StandardCharsets.UTF_8));
        Map<String, HttpResponse<String>> out = new java.util.LinkedHashMap<>();
        // /ready turns 200 once all three pipelines run; /streams/cam-a once the camera's first frame is stepped.
        for (String path : java.util.List.of("/ready", "/streams/cam-a", "/health", "/metrics", "/streams/no-such-stream")) {
            HttpResponse<String> r;
            do {
                r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
                // cam-a is in two pipelines; the first that holds it answers, video-activity once it has stepped the camera.
                boolean camera = !path.equals("/streams/cam-a") || r.body().contains("\"pipeline\":\"video-activity\"");
                if (r.statusCode() == 200 && camera || path.endsWith("no-such-stream") && r.statusCode() == 404) {
                    break;
                }
                Thread.sleep(200);
            } while (System.nanoTime() < deadline);
            out.put(path, r);
        }
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    try (Socket ignored = new Socket(a, port)) {
                        throw new AssertionError("the demo's HTTP port answered on " + a + ": it must listen on 127.0.0.1 only");
                    } catch (java.io.IOException refused) {
                        // not listening there
                    }
                }
            }
        }
        return out;
    }

    @Test
    void theDemoRunsEveryPipelineAndPrintsTheBrokerLiveAlertsActivityChangesAndASummary() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        Map<String, HttpResponse<String>> served;
        try (PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            // The demo in its own thread; meanwhile this one asks its HTTP port what an operator would.
            java.util.concurrent.FutureTask<Integer> demo = new java.util.concurrent.FutureTask<>(
                    () -> EngramCli.commandLine().execute("demo", "--seconds", "25", "--rate", "100"));
            new Thread(demo, "demo-under-test").start();
            served = askWhileRunning(buf);
            code = demo.get();
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            System.setOut(original);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(200, served.get("/health").statusCode(), served.get("/health").body());
        assertEquals(200, served.get("/ready").statusCode(), served.get("/ready").body());
        assertEquals(200, served.get("/metrics").statusCode());
        assertTrue(served.get("/metrics").body().contains("engram_records_processed_total"));
        HttpResponse<String> camera = served.get("/streams/cam-a");
        assertEquals(200, camera.statusCode(), camera.body());
        assertTrue(camera.body().contains("\"pipeline\":\"video-activity\"") && camera.body().contains("\"activity\""), camera.body());
        assertEquals(404, served.get("/streams/no-such-stream").statusCode());
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
        // Fixed-lag refinement (the shipped refine.lag): the refined labels are scored beside the live ones.
        Matcher side = Pattern.compile("live vs refined:\\s+frames 0-3 after a change ([0-9.]+)% vs ([0-9.]+)% \\((\\d+) vs (\\d+) frames\\)")
                .matcher(out);
        assertTrue(side.find(), "the summary shows the live and the refined accuracy side by side:\n" + out);
        assertTrue(Long.parseLong(side.group(4)) > 0, "refined predictions were scored");

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

        // People: the real clip (ingest/samples/people) through the person activity pipeline; each person's
        // activity changes printed as they come, keyed camera/track, and counted in the summary.
        long peopleSent = number(out, "people frames sent:\\s+(\\d+)");
        long posed = number(out, "people frames posed:\\s+(\\d+)");
        assertTrue(posed > 0 && posed <= peopleSent, "frames of the clip were posed, never more than were sent");
        Matcher seen = Pattern.compile("people seen:\\s+(\\d+) with an activity \\(tracks\\), (\\d+) activity changes, (\\d+) falls")
                .matcher(out);
        assertTrue(seen.find(), out);
        Matcher personLines = Pattern.compile("PERSON hall/[0-9]+ +frame +[0-9]+ +\\S+ +-> +(stand|walk|run|wave|sit_squat|fall_lying|other) ")
                .matcher(out);
        int personPrinted = 0;
        while (personLines.find()) {
            personPrinted++;
        }
        assertTrue(Long.parseLong(seen.group(1)) > 0, "people were seen in the clip: " + seen.group());
        assertEquals(Long.parseLong(seen.group(2)), personPrinted, "every activity change was printed, once");
    }
}

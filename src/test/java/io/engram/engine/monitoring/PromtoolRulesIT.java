package io.engram.engine.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The alert rules' unit tests ({@code monitoring/alerts.test.yml}) with promtool, which comes with
 * Debian's prometheus package (.ci/run installs it): each alert fires on the series that should fire
 * it and stays silent on the others. Also {@code promtool check rules}.
 */
class PromtoolRulesIT {
    static String promtool() {
        File beside = new File(new File(PrometheusScrapeIT.prometheusBinary()).getParentFile(), "promtool");
        if (beside.canExecute()) {
            return beside.getPath();
        }
        throw new AssertionError("promtool is not installed beside prometheus: run `apt-get install prometheus` (as .ci/run does)");
    }

    static String run(int expected, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(promtool()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(expected, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
        return out;
    }

    @Test
    void everyAlertFiresOnItsSeriesAndStaysSilentOtherwise() throws Exception {
        String out = run(0, "test", "rules", "monitoring/alerts.test.yml");
        assertTrue(out.contains("SUCCESS"), out);
        // Every alert of the file has a test.
        String rules = java.nio.file.Files.readString(java.nio.file.Path.of("monitoring/alerts.yml"));
        String tests = java.nio.file.Files.readString(java.nio.file.Path.of("monitoring/alerts.test.yml"));
        var m = java.util.regex.Pattern.compile("- alert: (\\w+)").matcher(rules);
        int alerts = 0;
        while (m.find()) {
            alerts++;
            assertTrue(tests.contains("alertname: " + m.group(1)), m.group(1) + " has a promtool test");
        }
        assertEquals(9, alerts, "alerts in monitoring/alerts.yml");
    }

    @Test
    void theRulesCheckAndTheConfigChecks() throws Exception {
        assertTrue(run(0, "check", "rules", "monitoring/alerts.yml").contains("SUCCESS"));
        // One configuration per set-up: this machine, and docker/compose.yaml's two instances.
        for (String config : java.util.List.of("monitoring/prometheus.yml", "monitoring/prometheus-compose.yml")) {
            assertTrue(run(0, "check", "config", config).contains("SUCCESS"), config);
        }
    }
}

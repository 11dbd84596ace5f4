package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Start-up errors through the real command line ({@code EngramCli}, as {@code ./engram} runs it):
 * each prints one line on stderr, with no stack trace, naming the file or setting that is wrong and
 * the fix, and exits with status 2. Broken files are made in a temporary directory from copies of the
 * shipped ones; no broker is needed (the unreachable one is a closed port).
 */
class StartupErrorsTest {
    static final Path SENSOR_PIPELINE = Path.of("topology/sensor-anomaly.yaml");
    static final Path VIDEO_PIPELINE = Path.of("topology/video-activity.yaml");
    static final Path SENSOR_MODEL = Path.of("models/sensor-forecaster");

    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
        /** The one line on stderr, after checking that there is exactly one, and no stack trace. */
        String line() {
            List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), "one line on stderr, no stack trace:\n" + err);
            assertTrue(lines.get(0).startsWith("engram: "), lines.get(0));
            return lines.get(0);
        }
    }

    static Result engram(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = EngramCli.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** {@code engram run} with a pipeline file and a broker that is never reached for a local problem. */
    Result run(Path pipeline) {
        return run(pipeline, "localhost:" + closedPort());
    }

    Result run(Path pipeline, String bootstrap, String... more) {
        String[] base = {"run", "--config", pipeline.toString(), "--bootstrap-servers", bootstrap, "--metrics-port", "0",
            "--state-dir", dir.resolve("state").toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, args, base.length, more.length);
        return engram(args);
    }

    /** Asserts status 2 and one line that contains every part (case-insensitively) and a fix. */
    static String assertClearError(Result r, String... parts) {
        String line = r.line();
        assertEquals(2, r.code(), line);
        for (String p : parts) {
            assertTrue(line.toLowerCase(Locale.ROOT).contains(p.toLowerCase(Locale.ROOT)), "'" + p + "' in: " + line);
        }
        assertTrue(line.toLowerCase(Locale.ROOT).contains("fix"), "names the fix: " + line);
        System.out.println(line);
        return line;
    }

    // ---- models

    /** A copy of the sensor model's manifest (and, if {@code withOnnx}, its ONNX file) and a pipeline that uses it. */
    Path sensorPipelineWithModelCopy(boolean withOnnx) throws IOException {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.copy(SENSOR_MODEL.resolve("sensor-gru.yaml"), models.resolve("sensor-gru.yaml"));
        if (withOnnx) {
            Files.copy(SENSOR_MODEL.resolve("sensor-gru.onnx"), models.resolve("sensor-gru.onnx"));
        }
        return pipeline(text(SENSOR_PIPELINE).replace("../models/sensor-forecaster/sensor-gru.yaml", models.resolve("sensor-gru.yaml").toString()));
    }

    @Test
    void aMissingModelFileNamesTheFileTheManifestAndTheFix() throws Exception {
        Path p = sensorPipelineWithModelCopy(false);
        String line = assertClearError(run(p), dir.resolve("models/sensor-gru.onnx").toString(), "does not exist", "sensor-gru.yaml");
        assertTrue(line.contains("Fix: correct 'file:'"), line);
    }

    @Test
    void aCorruptModelFileNamesTheFileAndTheFix() throws Exception {
        Path p = sensorPipelineWithModelCopy(true);
        byte[] garbage = new byte[4096];
        new java.util.Random(1).nextBytes(garbage);
        Files.write(dir.resolve("models/sensor-gru.onnx"), garbage);
        assertClearError(run(p), dir.resolve("models/sensor-gru.onnx").toString(), "could not be loaded", "re-export");
    }

    @Test
    void aTruncatedModelFileNamesTheFileAndTheFix() throws Exception {
        Path p = sensorPipelineWithModelCopy(true);
        Path onnx = dir.resolve("models/sensor-gru.onnx");
        byte[] b = Files.readAllBytes(onnx);
        Files.write(onnx, java.util.Arrays.copyOf(b, b.length / 2));
        assertClearError(run(p), onnx.toString(), "could not be loaded", "re-export");
    }

    @Test
    void aManifestWithABadFieldNamesTheManifestTheFieldAndTheFix() throws Exception {
        Path p = sensorPipelineWithModelCopy(true);
        Path manifest = dir.resolve("models/sensor-gru.yaml");
        Files.writeString(manifest, text(manifest).replace("input:  {name: x, size: 1}", "input:  {name: x, size: -3}"));
        assertClearError(run(p), manifest.toString(), "input.size", "positive integer", "fix the manifest");
    }

    @Test
    void aManifestThatIsNotYamlNamesTheManifestAndTheFix() throws Exception {
        Path p = sensorPipelineWithModelCopy(true);
        Path manifest = dir.resolve("models/sensor-gru.yaml");
        Files.writeString(manifest, text(manifest).replace("state:", "state: [unclosed\nstate:"));
        assertClearError(run(p), manifest.toString(), "not valid YAML", "(line ", "fix the syntax");
    }

    @Test
    void aManifestThatDoesNotMatchItsModelNamesBothAndTheFix() throws Exception {
        Path p = sensorPipelineWithModelCopy(true);
        Path manifest = dir.resolve("models/sensor-gru.yaml");
        Files.writeString(manifest, text(manifest).replace("{input: h, output: h_out, size: 64}", "{input: h, output: h_out, size: 32}"));
        assertClearError(run(p), manifest.toString(), "does not match", "h", "fix the manifest");
    }

    @Test
    void aVideoPipelineWithAMissingEncoderManifestNamesItAndTheFix() throws Exception {
        Path p = pipeline(text(VIDEO_PIPELINE).replace("manifest: ../models/activity/frame-encoder.yaml",
                "manifest: " + dir.resolve("nowhere/frame-encoder.yaml")).replace("manifest: ../models/activity/activity-gru.yaml",
                "manifest: " + Path.of("models/activity/activity-gru.yaml").toAbsolutePath()));
        assertClearError(run(p), dir.resolve("nowhere/frame-encoder.yaml").toString(), "not found", "encoder.manifest");
    }

    // ---- pipeline files

    @Test
    void aMissingPipelineFileNamesItAndTheFix() {
        assertClearError(run(dir.resolve("no-such.yaml")), dir.resolve("no-such.yaml").toString(), "not found", "--config");
    }

    @Test
    void aPipelineYamlSyntaxErrorNamesTheFileAndTheFix() throws Exception {
        Path p = pipeline(text(SENSOR_PIPELINE).replace("topics:\n", "topics:\n  input: [sensor-readings\n"));
        assertClearError(run(p), p.toString(), "not valid YAML", "expected ',' or ']'", "(line ", "fix the syntax");
    }

    @Test
    void anUnknownKeyNamesTheKeyTheKnownOnesAndTheFix() throws Exception {
        Path p = pipeline(text(SENSOR_PIPELINE).replace("  threshold: 0.5", "  treshold: 0.5"));
        assertClearError(run(p), p.toString(), "'scoring.treshold' is not a known key", "threshold", "fix that key");
    }

    @Test
    void anExperimentsBadChannelOrSetKeyNamesItAndTheFix() {
        String data = dir.resolve("nab").toString();
        String out = dir.resolve("out").toString();
        assertClearError(engram("nab", "--data", data, "--out", out, "--without", "seasonl"), "--without", "'seasonl'", "seasonal");
        assertClearError(engram("anomaly-suite", "--work", out, "--without", "level,stuk"), "--without", "'stuk'");
        assertClearError(engram("nab", "--data", data, "--out", out, "--set", "scoring.threshold.x=1"), "--set scoring.threshold.x",
                "not a section");
        assertClearError(engram("nab", "--data", data, "--out", out, "--set", "scoring.seasonal.bins=500"), "scoring.seasonal.bins");
        // A good variant gets as far as the data folder, which is missing here.
        assertClearError(engram("nab", "--data", data, "--out", out, "--set", "scoring.shape.novel_weight=2", "--without", "stuck"),
                "NAB data folder not found", data);
    }

    @Test
    void aWrongTypeNamesTheFullKeyTheExpectedTypeAndTheFix() throws Exception {
        Path p = pipeline(text(SENSOR_PIPELINE).replace("  partitions: 4", "  partitions: four"));
        assertClearError(run(p), p.toString(), "'topics.partitions' must be an integer in [1, 10000]", "fix that key");
        Path v = pipeline(text(VIDEO_PIPELINE).replace("max_frame_bytes: 1000000", "max_frame_bytes: 1MB"));
        assertClearError(run(v), v.toString(), "'encoder.max_frame_bytes' must be an integer", "fix that key");
    }

    @Test
    void aMissingRequiredKeyNamesTheFullKeyAndTheFix() throws Exception {
        Path p = pipeline(text(SENSOR_PIPELINE).replace("model:\n  manifest: ../models/sensor-forecaster/sensor-gru.yaml\n", ""));
        assertClearError(run(p), p.toString(), "'model.manifest' is required", "fix that key");
        Path n = pipeline(text(SENSOR_PIPELINE).replace("name: sensor-anomaly\n", ""));
        assertClearError(run(n), n.toString(), "'name' is required");
    }

    @Test
    void aDuplicateKeyNamesTheFileTheFullKeyAndTheFix() throws Exception {
        Path p = pipeline(text(SENSOR_PIPELINE).replace("  threshold: 0.5", "  threshold: 0.5\n  threshold: 0.9"));
        assertClearError(run(p), p.toString(), "'scoring.threshold' is given twice", "(the second at line ", "keep one 'scoring.threshold'");
        Path s = pipeline(text(SENSOR_PIPELINE) + "\nprocessing:\n  threads: 2\n");
        assertClearError(run(s), s.toString(), "'processing' is given twice", "keep one 'processing'");
        Path k = pipeline(text(SENSOR_PIPELINE) + "\nkafka:\n  security.protocol: SASL_SSL\n  security.protocol: PLAINTEXT\n");
        assertClearError(run(k), k.toString(), "'kafka.security.protocol' is given twice");
    }

    @Test
    void aDuplicateKeyInTheClientSettingsFileNamesTheFileTheKeyAndTheFix() throws Exception {
        Path f = dir.resolve("client.properties");
        Files.writeString(f, "security.protocol=SASL_SSL\nclient.id=a\nsasl.mechanism=PLAIN\nclient.id=b\n");
        assertClearError(run(SENSOR_PIPELINE, "localhost:" + closedPort(), "--command-config", f.toString()), f.toString(),
                "'client.id' twice", "keep one line");
    }

    @Test
    void anApplicationServerInTheFileThatIsNotHostAndPortNamesItTheFileAndTheFix() throws Exception {
        Path p = pipeline(text(SENSOR_PIPELINE) + "\nkafka:\n  application.server: engram-1\n");
        Result r = engram("run", "--config", p.toString(), "--bootstrap-servers", "localhost:" + closedPort(),
                "--metrics-port", String.valueOf(closedPort()), "--state-dir", dir.resolve("state").toString());
        assertClearError(r, "application.server 'engram-1'", "kafka: section of " + p, "HOST:PORT");
    }

    @Test
    void anErrorThatQuotesAUrlHidesItsUserInfo() {
        Result r = run(SENSOR_PIPELINE, "SASL_SSL://alice:s3cret@broker-1:9093");
        String line = assertClearError(r, "--bootstrap-servers", "SASL_SSL://***@broker-1:9093");
        assertTrue(!r.err().contains("s3cret"), line);
    }

    @Test
    void anEmptyPipelineFileNamesItAndTheFix() throws Exception {
        Path p = pipeline("");
        assertClearError(run(p), p.toString(), "empty", "start from a file in topology/");
    }

    // ---- the broker and the machine

    @Test
    void anUnreachableBrokerFailsAtItsBoundedWaitNamingTheAddressAndTheFix() {
        int port = closedPort();
        Result r = run(SENSOR_PIPELINE, "localhost:" + port);
        // The command returned on its own, and through the bounded wait of the reachability check
        // (a timeout), not through Kafka's clients retrying for ever: fast by construction, with no
        // clock in the test.
        assertClearError(r, "localhost:" + port, "--bootstrap-servers", "./engram broker", "TimeoutException");
    }

    @Test
    void aMalformedOrUnresolvableBootstrapAddressNamesItAndTheFix() {
        assertClearError(run(SENSOR_PIPELINE, "no port here"), "'no port here'", "invalid url", "HOST:PORT");
        assertClearError(run(SENSOR_PIPELINE, "no-such-host.invalid:9092"), "'no-such-host.invalid:9092'", "no resolvable", "HOST:PORT");
    }

    @Test
    void aMetricsPortInUseNamesThePortAndTheFix() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            Result r = engram("run", "--config", SENSOR_PIPELINE.toString(), "--bootstrap-servers", "localhost:" + closedPort(),
                    "--metrics-port", Integer.toString(taken.getLocalPort()), "--state-dir", dir.resolve("state").toString());
            assertClearError(r, "port " + taken.getLocalPort(), "in use", "--metrics-port");
        }
    }

    // ---- ingest

    @Test
    void aCsvWhoseRecordsWouldBeOverKafkasLimitIsRefusedBeforeAnythingIsSent() throws Exception {
        Path csv = dir.resolve("wide.csv");
        StringBuilder row = new StringBuilder("2026-01-01T00:00:00Z");
        for (int i = 0; i < 100_000; i++) {
            row.append(",123456.789").append(i % 10);
        }
        Files.writeString(csv, "timestamp" + ",v".repeat(100_000) + "\n" + row + "\n");
        Result r = engram("ingest", "sensors", "--file", csv.toString(), "--topic", "t", "-b", "localhost:" + closedPort(), "--no-progress");
        assertClearError(r, csv.toString(), "line 2", "bytes", "1,000,000");
    }

    @Test
    void aStreamIdOverTheKeyLimitIsRefusedBeforeAnythingIsSent() throws Exception {
        Path csv = dir.resolve("ok.csv");
        Files.writeString(csv, "timestamp,value\n2026-01-01T00:00:00Z,1.5\n");
        Result r = engram("ingest", "sensors", "--file", csv.toString(), "--stream", "s".repeat(5000), "--topic", "t",
                "-b", "localhost:" + closedPort(), "--no-progress");
        assertClearError(r, "5000 bytes", "4096 bytes", "--stream");
    }

    @Test
    void aSourceNamingAnUnsetVariableNamesItAndTheFixWithoutTheUrlsOtherParts() {
        Result r = engram("ingest", "video", "--source", "rtsp://admin:${ENGRAM_TEST_UNSET_CAM_PASSWORD}@cam/stream", "--camera", "door",
                "--topic", "t", "-b", "localhost:" + closedPort(), "--no-progress");
        assertClearError(r, "--source", "ENGRAM_TEST_UNSET_CAM_PASSWORD", "not set", "export ENGRAM_TEST_UNSET_CAM_PASSWORD");
    }

    // ---- helpers

    Path pipeline(String yaml) throws IOException {
        Path p = Files.createTempFile(dir, "pipeline-", ".yaml");
        Files.writeString(p, yaml);
        return p;
    }

    static String text(Path p) throws IOException {
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    /** A local port that nothing listens on. */
    static int closedPort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

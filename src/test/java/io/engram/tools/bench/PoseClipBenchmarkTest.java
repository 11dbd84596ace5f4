package io.engram.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which clips {@code engram bench pose} runs: empty files with BIISC names in a temporary directory. */
class PoseClipBenchmarkTest {
    @TempDir
    Path dir;

    @Test
    void picksClipsBySideAndSpreadsALimitOverTheSortedList() throws Exception {
        for (String s : List.of("S001", "S002")) {
            for (String a : List.of("CALL", "WAVE")) {
                for (String side : List.of("FCE", "LFT", "RGT")) {
                    Files.createFile(dir.resolve(s + "_M_" + a + "_STD_" + side + ".avi"));
                }
            }
        }
        Files.createFile(dir.resolve("README.md"));
        assertEquals(12, PoseClipBenchmark.clips(dir, null, 0).size());
        List<Path> left = PoseClipBenchmark.clips(dir, "LFT", 0);
        assertEquals(4, left.size());
        left.forEach(p -> assertEquals("LFT", PoseClipScores.Clip.parse(p.getFileName().toString()).side()));
        List<Path> four = PoseClipBenchmark.clips(dir, null, 4);
        assertEquals(List.of("S001_M_CALL_STD_FCE.avi", "S001_M_WAVE_STD_FCE.avi", "S002_M_CALL_STD_FCE.avi", "S002_M_WAVE_STD_FCE.avi"),
                four.stream().map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void f1OfThePositiveClass() {
        assertEquals(2.0 * 6 / (12 + 3 + 4), PoseClipBenchmark.f1(new BinaryConfusion("wave", "other", 6, 4, 3, 50)), 1e-12);
        assertEquals(0.0, PoseClipBenchmark.f1(new BinaryConfusion("wave", "other", 0, 0, 0, 5)));
    }

    @Test
    void keypointDumpRowSplitsTheKeyAtTheLastSlash() throws Exception {
        float[] kp = new float[51];
        kp[2] = 0.5f;
        var row = PoseClipBenchmark.keypointRow("site/cam-1/7", 1234L,
                new io.engram.engine.pipeline.video.FeatureRecord("movenet-multipose-lightning@1.0.0", 42L, kp), 480 / 290.0);
        assertEquals("kp", row.get("type"));
        assertEquals("site/cam-1", row.get("camera"));
        assertEquals(7L, row.get("track"));
        assertEquals(42L, row.get("seq"));
        assertEquals(1234L, row.get("ts"));
        assertEquals(480 / 290.0, (double) row.get("aspect"), 0.0);
        String line = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(row);
        assertEquals(true, line.startsWith("{\"type\":\"kp\",\"camera\":\"site/cam-1\",\"track\":7,\"seq\":42,\"ts\":1234,\"kp\":[0.0,0.0,0.5,"), line);
    }
}

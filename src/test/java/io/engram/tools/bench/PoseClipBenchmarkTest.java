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
}

package io.engram.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelManifestTest {
    static final Path GRU = Path.of("models/sensor-forecaster/sensor-gru.yaml");

    @TempDir
    Path dir;

    @Test
    void theShippedManifestsDescribeGruAndLstmStatePairs() {
        ModelManifest gru = ModelManifest.load(GRU);
        assertEquals(1, gru.state().size());
        assertEquals("h", gru.state().get(0).input());
        assertEquals("h_out", gru.state().get(0).output());
        assertTrue(gru.preprocessing().standardize());
        ModelManifest lstm = ModelManifest.load(Path.of("models/sensor-forecaster/sensor-lstm.yaml"));
        assertEquals(2, lstm.state().size(), "LSTM has h and c");
        assertEquals(2 * lstm.state().get(0).size(), lstm.stateFloats());
    }

    private Path copyWith(String from, String to) throws Exception {
        String text = Files.readString(GRU).replace(from, to);
        Files.copy(GRU.resolveSibling("sensor-gru.onnx"), dir.resolve("sensor-gru.onnx"));
        Path m = dir.resolve("m.yaml");
        Files.writeString(m, text);
        return m;
    }

    @Test
    void aMissingModelFileIsNamedWithTheFix() throws Exception {
        Path m = copyWith("file: sensor-gru.onnx", "file: gone.onnx");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelManifest.load(m));
        assertTrue(e.getMessage().contains("gone.onnx") && e.getMessage().contains("Fix"), e.getMessage());
    }

    @Test
    void aCorruptModelFileIsACleanConfigError() throws Exception {
        Path m = copyWith("xx-never-xx", "");
        Files.write(dir.resolve("sensor-gru.onnx"), new byte[] {1, 2, 3, 4, 5});
        ConfigException e = assertThrows(ConfigException.class, () -> StepSession.load(ModelManifest.load(m)));
        assertTrue(e.getMessage().contains("sensor-gru.onnx") && e.getMessage().contains("could not be loaded"), e.getMessage());
    }

    @Test
    void aManifestThatDoesNotMatchTheGraphIsRefused() throws Exception {
        Path m = copyWith("output: h_out", "output: hidden_out");
        ConfigException e = assertThrows(ConfigException.class, () -> StepSession.load(ModelManifest.load(m)));
        assertTrue(e.getMessage().contains("hidden_out"), e.getMessage());
    }

    @Test
    void aKeyGivenTwiceIsRefusedWithItsName() throws Exception {
        Path m = copyWith("file: sensor-gru.onnx", "file: sensor-gru.onnx\nfile: other.onnx");
        ConfigException e = assertThrows(ConfigException.class, () -> ModelManifest.load(m));
        assertTrue(e.getMessage().contains("'file' is given twice") && e.getMessage().contains(m.toString()), e.getMessage());
    }
}

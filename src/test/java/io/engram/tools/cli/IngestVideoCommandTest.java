package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --source} takes {@code ${NAME}} from the environment, so that a camera's password stays out of argv. */
class IngestVideoCommandTest {
    static final Map<String, String> ENV = Map.of("CAM_PASSWORD", "pa$$:w@rd", "CAM_HOST", "10.0.0.7");

    @Test
    void aSourceTakesEnvironmentVariables() {
        assertEquals("rtsp://admin:pa$$:w@rd@10.0.0.7/stream1",
                IngestVideoCommand.expandSource("rtsp://admin:${CAM_PASSWORD}@${CAM_HOST}/stream1", ENV::get));
        assertEquals("clip.mp4", IngestVideoCommand.expandSource("clip.mp4", ENV::get));
        assertEquals("/dev/video0", IngestVideoCommand.expandSource("/dev/video0", ENV::get));
    }

    @Test
    void anUnsetVariableIsNamedWithTheFix() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> IngestVideoCommand.expandSource("rtsp://admin:${NOPE}@cam/stream", ENV::get));
        assertTrue(e.getMessage().contains("--source") && e.getMessage().contains("NOPE") && e.getMessage().contains("export NOPE"),
                e.getMessage());
        assertFalse(e.getMessage().contains("admin"), "the URL is not quoted: " + e.getMessage());
    }

    @Test
    void theHelpShowsTheVariableLiterallyNeverItsValue() {
        String help = new CommandLine(new IngestVideoCommand()).getUsageMessage();
        assertTrue(help.contains("${CAM_PASSWORD}") && help.contains("${NAME}"), help);
    }
}

package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerCommandTest {
    @Test
    void takenPortIsAConfigExceptionWithTheFix() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
            ConfigException e = assertThrows(ConfigException.class, () -> BrokerCommand.start(taken.getLocalPort(), null));
            assertTrue(e.getMessage().contains("port " + taken.getLocalPort() + " is already in use"), e.getMessage());
            assertTrue(e.getMessage().contains("--port"), e.getMessage());
        }
    }

    @Test
    void dataDirThatIsAFileIsAConfigException(@TempDir Path dir) throws Exception {
        Path file = Files.createFile(dir.resolve("f"));
        ConfigException e = assertThrows(ConfigException.class, () -> BrokerCommand.start(0, file));
        assertTrue(e.getMessage().contains("is a file"), e.getMessage());
    }

    @Test
    void helpDescribesPortAndDataDir() {
        StringWriter out = new StringWriter();
        var cl = EngramCli.commandLine();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("broker", "--help"));
        String help = out.toString();
        assertTrue(help.contains("--port") && help.contains("--data-dir") && help.contains("Ctrl-C"), help);
    }
}

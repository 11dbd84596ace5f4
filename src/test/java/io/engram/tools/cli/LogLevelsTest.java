package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** ENGRAM_LOG_LEVEL and ENGRAM_KAFKA_LOG_LEVEL become slf4j-simple's system properties. */
class LogLevelsTest {
    static final List<String> KEYS = List.of("org.slf4j.simpleLogger.log.io.engram", "org.slf4j.simpleLogger.log.org.apache.kafka",
            "org.slf4j.simpleLogger.log.kafka");

    @AfterEach
    void clear() {
        KEYS.forEach(System::clearProperty);
    }

    @Test
    void theEnvironmentSetsEngramsAndKafkasLevels() {
        EngramCli.logLevelsFromEnvironment(Map.of("ENGRAM_LOG_LEVEL", " DEBUG ", "ENGRAM_KAFKA_LOG_LEVEL", "info"));
        assertEquals("debug", System.getProperty(KEYS.get(0)));
        assertEquals("info", System.getProperty(KEYS.get(1)));
        assertEquals("info", System.getProperty(KEYS.get(2)));
    }

    @Test
    void withoutThemTheShippedLevelsStand() {
        EngramCli.logLevelsFromEnvironment(Map.of("ENGRAM_LOG_LEVEL", " "));
        KEYS.forEach(k -> assertNull(System.getProperty(k), k));
    }
}

package io.engram.engine.kafka;

import io.engram.engine.config.PipelineSpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.runtime.Pipelines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client settings files, ${NAME} from the environment, secrets hidden, and the pipeline's kafka: section. */
class KafkaPropertiesTest {
    @TempDir
    Path dir;

    static final Map<String, String> ENV = Map.of("KAFKA_PASSWORD", "s3cret", "KAFKA_USER", "alice");

    @Test
    void aFileTakesEnvironmentVariables() throws Exception {
        Path f = dir.resolve("client.properties");
        Files.writeString(f, "security.protocol=SASL_SSL\nsasl.jaas.config=PlainLoginModule required username=\"${KAFKA_USER}\" "
                + "password=\"${KAFKA_PASSWORD}\";\n");
        Map<String, String> p = KafkaProperties.load(f, ENV::get);
        assertEquals("SASL_SSL", p.get("security.protocol"));
        assertEquals("PlainLoginModule required username=\"alice\" password=\"s3cret\";", p.get("sasl.jaas.config"));
    }

    @Test
    void anUnsetVariableAndAMissingFileAreNamedWithTheFix() {
        ConfigException e = assertThrows(ConfigException.class, () -> KafkaProperties.substitute("${NOPE}", ENV::get, "f: k"));
        assertTrue(e.getMessage().contains("NOPE") && e.getMessage().contains("f: k") && e.getMessage().contains("export"), e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> KafkaProperties.load(dir.resolve("none.properties"), ENV::get));
        assertTrue(missing.getMessage().contains("none.properties") && missing.getMessage().contains("--command-config"), missing.getMessage());
    }

    @Test
    void secretsAreMasked() {
        Map<String, String> m = KafkaProperties.masked(Map.of("sasl.jaas.config", "x", "ssl.truststore.password", "x", "ssl.key.password",
                "x", "ssl.keystore.key", "x", "security.protocol", "SASL_SSL", "ssl.truststore.location", "/t.p12"));
        assertEquals(Map.of("sasl.jaas.config", KafkaProperties.MASK, "ssl.truststore.password", KafkaProperties.MASK, "ssl.key.password",
                KafkaProperties.MASK, "ssl.keystore.key", KafkaProperties.MASK, "security.protocol", "SASL_SSL", "ssl.truststore.location",
                "/t.p12"), m);
    }

    @Test
    void thePipelineFilesKafkaSectionIsReadFlatWithTheEnvironment() throws Exception {
        Path f = dir.resolve("p.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nkafka:\n  security.protocol: SASL_SSL\n  request.timeout.ms: 20000\n"
                + "  sasl.jaas.config: 'u=\"${PATH}\"'\n");
        PipelineSpec s = Pipelines.load(f);
        assertEquals("SASL_SSL", s.kafkaProperties().get("security.protocol"));
        assertEquals("20000", s.kafkaProperties().get("request.timeout.ms"));
        assertEquals("u=\"" + System.getenv("PATH") + "\"", s.kafkaProperties().get("sasl.jaas.config"));
        assertEquals(Map.of(), Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).kafkaProperties());
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nkafka:\n  sasl: {mechanism: PLAIN}\n");
        ConfigException nested = assertThrows(ConfigException.class, () -> Pipelines.load(f));
        assertTrue(nested.getMessage().contains("kafka.sasl") && nested.getMessage().contains("flat"), nested.getMessage());
    }
}

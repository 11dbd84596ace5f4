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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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
    void aKeyGivenTwiceInAFileIsAnErrorNamingIt() throws Exception {
        Path f = dir.resolve("twice.properties");
        Files.writeString(f, "sasl.mechanism=PLAIN\nssl.truststore.password=a\nclient.id=x\nssl.truststore.password=b\n");
        ConfigException e = assertThrows(ConfigException.class, () -> KafkaProperties.load(f, ENV::get));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'ssl.truststore.password' twice")
                && e.getMessage().contains("Fix"), e.getMessage());
        assertTrue(!e.getMessage().contains("=a") && !e.getMessage().contains("=b"), "no value quoted: " + e.getMessage());
    }

    @Test
    void secretsAreMasked() {
        Map<String, String> m = KafkaProperties.masked(Map.of("sasl.jaas.config", "x", "ssl.truststore.password", "x", "ssl.key.password",
                "x", "ssl.keystore.key", "x", "security.protocol", "SASL_SSL", "ssl.truststore.location", "/t.p12"));
        assertEquals(Map.of("sasl.jaas.config", KafkaProperties.MASK, "ssl.truststore.password", KafkaProperties.MASK, "ssl.key.password",
                KafkaProperties.MASK, "ssl.keystore.key", KafkaProperties.MASK, "security.protocol", "SASL_SSL", "ssl.truststore.location",
                "/t.p12"), m);
    }

    /**
     * The one masking rule, key by key: every key that carries a credential is hidden, whatever its
     * prefix; a URL's user info is hidden in any value; ordinary keys are shown as they are.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # key                                                  | value                                              | printed
            sasl.jaas.config                                       | PlainLoginModule required username="u" password="p"; | [hidden]
            producer.sasl.jaas.config                              | x                                                  | [hidden]
            ssl.key.password                                       | p                                                  | [hidden]
            ssl.keystore.password                                  | p                                                  | [hidden]
            ssl.truststore.password                                | p                                                  | [hidden]
            ssl.keystore.key                                       | -----BEGIN PRIVATE KEY-----                        | [hidden]
            basic.auth.user.info                                   | alice:s3cret                                       | [hidden]
            schema.registry.basic.auth.user.info                   | alice:s3cret                                       | [hidden]
            bearer.auth.token                                      | t0ken                                              | [hidden]
            sasl.oauthbearer.client.credentials.client.secret      | s3cret                                             | [hidden]
            sasl.oauthbearer.client.credentials.client.id          | engram                                             | [hidden]
            sasl.oauthbearer.assertion.private.key.passphrase      | p                                                  | [hidden]
            sasl.oauthbearer.token.endpoint.url                    | https://idp/token                                  | [hidden]
            sasl.client.secret                                     | s3cret                                             | [hidden]
            SSL.KEY.PASSWORD                                       | p                                                  | [hidden]
            schema.registry.api.key                                | k                                                  | [hidden]
            custom.login                                           | ScramLoginModule required username=u password=p;   | [hidden]
            schema.registry.url                                    | http://u:p@registry:8081                           | http://***@registry:8081
            schema.registry.url                                    | http://a:8081,https://u:p@ss@b:8081/x              | http://a:8081,https://***@b:8081/x
            listeners                                              | SASL_SSL://alice:s3cret@broker-1:9093              | SASL_SSL://***@broker-1:9093
            security.protocol                                      | SASL_SSL                                           | SASL_SSL
            sasl.mechanism                                         | SCRAM-SHA-512                                      | SCRAM-SHA-512
            ssl.truststore.location                                | /etc/engram/truststore.p12                         | /etc/engram/truststore.p12
            ssl.truststore.type                                    | PKCS12                                             | PKCS12
            key.serializer                                         | org.apache.kafka.common.serialization.Serializer  | org.apache.kafka.common.serialization.Serializer
            client.id                                              | engram-1                                           | engram-1
            application.server                                     | host-1:9464                                        | host-1:9464
            schema.registry.url                                    | http://registry:8081                               | http://registry:8081
            """)
    void everyCredentialIsMaskedAndOrdinaryKeysAreShown(String key, String value, String printed) {
        assertEquals(printed, KafkaProperties.mask(key, value));
        assertEquals(Map.of(key, printed), KafkaProperties.masked(Map.of(key, value)));
    }

    @Test
    void urlCredentialsAreRedactedInAnyText() {
        assertEquals("cannot open rtsp://***@cam/stream: refused", KafkaProperties.redactUrls("cannot open rtsp://admin:pw@cam/stream: refused"));
        assertEquals("rtsp://cam/s and /dev/video0", KafkaProperties.redactUrls("rtsp://cam/s and /dev/video0"));
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

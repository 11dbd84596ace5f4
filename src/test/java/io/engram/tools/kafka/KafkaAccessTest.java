package io.engram.tools.kafka;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.ConfigException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class KafkaAccessTest {
    @Test
    void unreachableBrokerIsAConfigExceptionNamingTheAddressAndTheFix() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        String bootstrap = "localhost:" + port;
        ConfigException e = assertThrows(ConfigException.class,
                () -> KafkaAccess.describeTopic(bootstrap, "t", Duration.ofSeconds(2)));
        assertTrue(e.getMessage().contains("cannot reach Kafka at " + bootstrap), e.getMessage());
        assertTrue(e.getMessage().contains("--bootstrap-servers"), e.getMessage());
    }

    @Test
    void malformedBootstrapIsAConfigException() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> KafkaAccess.topicExists("not a host", "t", Duration.ofSeconds(2)));
        assertTrue(e.getMessage().contains("'not a host'"), e.getMessage());
    }
}

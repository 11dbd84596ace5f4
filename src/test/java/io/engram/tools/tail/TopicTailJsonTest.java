package io.engram.tools.tail;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class TopicTailJsonTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static ConsumerRecord<byte[], byte[]> rec(byte[] key, byte[] value, RecordHeaders headers) {
        return new ConsumerRecord<>("t", 3, 42L, 1_700_000_000_123L, TimestampType.CREATE_TIME, -1, -1, key, value, headers, Optional.empty());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void jsonValueIsEmbeddedWithAllFieldsInOrder() throws Exception {
        RecordHeaders h = new RecordHeaders();
        h.add("engram.source", utf8("f.csv:2"));
        String line = TopicTail.toJson(rec(utf8("s1"), utf8("{\"ts\":1,\"values\":[1.5]}"), h));
        assertEquals("{\"topic\":\"t\",\"partition\":3,\"offset\":42,\"key\":\"s1\",\"timestamp\":1700000000123,"
                + "\"headers\":{\"engram.source\":\"f.csv:2\"},\"value\":{\"ts\":1,\"values\":[1.5]}}", line);
    }

    @Test
    void nonJsonTextValueIsAStringAndNullKeyIsNull() throws Exception {
        JsonNode n = M.readTree(TopicTail.toJson(rec(null, utf8("hello {world"), new RecordHeaders())));
        assertEquals("hello {world", n.get("value").asText());
        assertEquals(true, n.get("key").isNull());
        assertEquals(0, n.get("headers").size());
    }

    @Test
    void binaryValueAndKeyAreBase64UnderTheirOwnNames() throws Exception {
        byte[] bin = {(byte) 0xff, (byte) 0xfe, 0, 1};
        JsonNode n = M.readTree(TopicTail.toJson(rec(bin, bin, new RecordHeaders())));
        assertEquals(Base64.getEncoder().encodeToString(bin), n.get("value_base64").asText());
        assertEquals(Base64.getEncoder().encodeToString(bin), n.get("key_base64").asText());
        assertEquals(false, n.has("value"));
    }

    @Test
    void nullValueTombstoneIsNullAndRepeatedHeaderBecomesAnArray() throws Exception {
        RecordHeaders h = new RecordHeaders();
        h.add("a", utf8("1"));
        h.add("a", utf8("2"));
        h.add("b", null);
        JsonNode n = M.readTree(TopicTail.toJson(rec(utf8("k"), null, h)));
        assertEquals(true, n.get("value").isNull());
        assertEquals("[\"1\",\"2\"]", n.get("headers").get("a").toString());
        assertEquals(true, n.get("headers").get("b").isNull());
    }

    @Test
    void jsonFollowedByGarbageIsNotEmbedded() throws Exception {
        JsonNode n = M.readTree(TopicTail.toJson(rec(null, utf8("{\"a\":1} trailing"), new RecordHeaders())));
        assertEquals("{\"a\":1} trailing", n.get("value").asText());
    }
}

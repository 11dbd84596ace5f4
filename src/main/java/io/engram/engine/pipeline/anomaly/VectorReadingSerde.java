package io.engram.engine.pipeline.anomaly;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * JSON serde of {@link VectorReading}: {@code {"ts": <epoch ms or ISO-8601>, "values": [numbers]}},
 * or {@code "value": number} for one channel, and optionally {@code "names": [strings]}, one per value. Strict: null in, null out; any malformed record is a
 * {@link SerializationException} whose cause is a {@link BadInputException} naming the reason, so
 * that the deserialization handler can dead-letter it. ISO-8601 times without a zone are read as UTC.
 */
public final class VectorReadingSerde implements Serde<VectorReading>, Serializer<VectorReading>, Deserializer<VectorReading> {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    @Override
    public byte[] serialize(String topic, VectorReading r) {
        if (r == null) {
            return null;
        }
        ObjectNode n = MAPPER.createObjectNode();
        if (r.ts() != null) {
            n.put("ts", r.ts());
        }
        var arr = n.putArray("values");
        for (double v : r.values()) {
            if (!Double.isFinite(v)) {
                throw new SerializationException("sensor value " + v + " is not finite");
            }
            arr.add(v);
        }
        if (r.names() != null) {
            var names = n.putArray("names");
            r.names().forEach(names::add);
        }
        try {
            return MAPPER.writeValueAsBytes(n);
        } catch (JsonProcessingException e) {
            throw new SerializationException(e);
        }
    }

    @Override
    public VectorReading deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        try {
            return parse(data);
        } catch (BadInputException e) {
            throw new SerializationException(e.getMessage(), e);
        }
    }

    /** Parses one reading; a malformed one is a {@link BadInputException} with its reason. */
    public static VectorReading parse(byte[] data) {
        JsonNode root;
        try {
            root = MAPPER.readTree(data);
        } catch (IOException e) {
            throw new BadInputException(Reason.NOT_JSON, "value is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new BadInputException(Reason.NOT_JSON, "value is not a JSON object");
        }
        Long ts = null;
        JsonNode t = root.get("ts");
        if (t != null && !t.isNull()) {
            ts = parseTime(t);
        }
        JsonNode vs = root.get("values");
        double[] values;
        if (vs != null && !vs.isNull()) {
            if (!vs.isArray() || vs.isEmpty()) {
                throw new BadInputException(Reason.BAD_FIELD, "'values' must be a non-empty array of numbers");
            }
            values = new double[vs.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = number(vs.get(i), "values[" + i + "]");
            }
        } else {
            JsonNode v = root.get("value");
            if (v == null || v.isNull()) {
                throw new BadInputException(Reason.MISSING_FIELD, "neither 'values' nor 'value' is present");
            }
            values = new double[] {number(v, "value")};
        }
        return new VectorReading(ts, values, names(root.get("names"), values.length));
    }

    /** The optional {@code "names"}: one string per value, or null when absent. */
    private static java.util.List<String> names(JsonNode ns, int values) {
        if (ns == null || ns.isNull()) {
            return null;
        }
        if (!ns.isArray() || ns.size() != values) {
            throw new BadInputException(Reason.BAD_FIELD, "'names' must be an array of " + values + " strings, one per value");
        }
        java.util.List<String> out = new java.util.ArrayList<>(values);
        for (JsonNode n : ns) {
            if (!n.isTextual()) {
                throw new BadInputException(Reason.BAD_FIELD, "'names' must hold strings, one per value");
            }
            out.add(n.asText());
        }
        return out;
    }

    private static double number(JsonNode n, String where) {
        if (n == null || !n.isNumber()) {
            throw new BadInputException(Reason.BAD_FIELD, "'" + where + "' is not a number");
        }
        double d = n.asDouble();
        if (!Double.isFinite(d)) {
            throw new BadInputException(Reason.NON_FINITE_VALUE, "'" + where + "' is not finite");
        }
        // The model computes in float32, and the stream's statistics square deviations in float64: a
        // value beyond float32's range (3.4e38) would make them infinite and the stream's forecasts
        // NaN or infinite for good.
        if (Math.abs(d) > Float.MAX_VALUE) {
            throw new BadInputException(Reason.NON_FINITE_VALUE, "'" + where + "' is " + d + ", beyond float32's range (|x| <= 3.4e38)");
        }
        return d;
    }

    /**
     * Epoch milliseconds, or an ISO-8601 instant / offset time / local time (read as UTC), from 1970
     * on: Kafka refuses a record with a negative timestamp, and the event time is the output's.
     */
    public static long parseTime(JsonNode t) {
        if (t.isIntegralNumber()) {
            // asLong() would wrap a number beyond 64 bits around to an arbitrary time.
            if (!t.canConvertToLong() || t.asLong() < 0) {
                throw new BadInputException(Reason.BAD_FIELD, "'ts' " + t.asText() + " is not an epoch millisecond time from 1970 on");
            }
            return t.asLong();
        }
        if (t.isTextual()) {
            return parseTime(t.asText());
        }
        throw new BadInputException(Reason.BAD_FIELD, "'ts' must be epoch milliseconds or an ISO-8601 string");
    }

    public static long parseTime(String s) {
        long t;
        try {
            t = parseIsoTime(s);
        } catch (ArithmeticException e) {
            throw new BadInputException(Reason.BAD_FIELD, "'ts' \"" + s.trim() + "\" is out of range");
        }
        if (t < 0) {
            throw new BadInputException(Reason.BAD_FIELD, "'ts' \"" + s.trim() + "\" is before 1970");
        }
        return t;
    }

    private static long parseIsoTime(String s) {
        String text = s.trim();
        try {
            return Instant.parse(text).toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // fall through to the other accepted forms
        }
        try {
            return OffsetDateTime.parse(text).toInstant().toEpochMilli();
        } catch (DateTimeParseException ignored) {
            // fall through
        }
        try {
            return LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new BadInputException(Reason.BAD_FIELD, "'ts' \"" + text + "\" is not epoch ms or ISO-8601");
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public Serializer<VectorReading> serializer() {
        return this;
    }

    @Override
    public Deserializer<VectorReading> deserializer() {
        return this;
    }

    @Override
    public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}

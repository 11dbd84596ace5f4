package io.engram.engine.pipeline.anomaly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class VectorReadingSerdeTest {
    private final VectorReadingSerde serde = new VectorReadingSerde();

    private VectorReading parse(String json) {
        return serde.deserialize("t", json.getBytes(StandardCharsets.UTF_8));
    }

    private Reason reasonOf(String json) {
        SerializationException e = assertThrows(SerializationException.class, () -> parse(json), json);
        return assertInstanceOf(BadInputException.class, e.getCause()).reason();
    }

    @Test
    void readsValuesArrayAndEpochMillis() {
        VectorReading r = parse("{\"ts\": 1700000000000, \"values\": [1.5, -2, 3e2]}");
        assertEquals(1_700_000_000_000L, r.ts());
        assertArrayEquals(new double[] {1.5, -2, 300}, r.values());
    }

    @Test
    void readsSingleValueAndIsoTimesWithAndWithoutZone() {
        assertArrayEquals(new double[] {4.25}, parse("{\"ts\": \"2015-07-10T14:24:00Z\", \"value\": 4.25}").values());
        assertEquals(1436538240000L, parse("{\"ts\": \"2015-07-10T14:24:00Z\", \"value\": 1}").ts());
        assertEquals(1436538240000L, parse("{\"ts\": \"2015-07-10 14:24:00\", \"value\": 1}").ts(), "no zone = UTC");
        assertEquals(1436538240000L, parse("{\"ts\": \"2015-07-10T16:24:00+02:00\", \"value\": 1}").ts());
        assertNull(parse("{\"value\": 1}").ts(), "no ts: the record timestamp is used");
    }

    @Test
    void roundTripsThroughTheSerializer() {
        VectorReading r = new VectorReading(5L, new double[] {1, 2});
        VectorReading back = serde.deserialize("t", serde.serialize("t", r));
        assertEquals(5L, back.ts());
        assertArrayEquals(r.values(), back.values());
        assertNull(serde.serialize("t", null));
        assertNull(serde.deserialize("t", null));
    }

    @Test
    void namesAreOptionalOnePerValueAndRoundTrip() {
        assertNull(parse("{\"values\": [1, 2]}").names());
        VectorReading r = parse("{\"values\": [1, 2], \"names\": [\"Pressure\", \"Flow, m3/h\"]}");
        assertEquals(java.util.List.of("Pressure", "Flow, m3/h"), r.names());
        assertEquals("Flow, m3/h", r.name(1));
        assertEquals("1", new VectorReading(null, new double[] {1, 2}).name(1), "without names a component is its index");
        assertEquals(r.names(), serde.deserialize("t", serde.serialize("t", r)).names());
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"values\": [1, 2], \"names\": [\"a\"]}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"values\": [1, 2], \"names\": [\"a\", 2]}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"value\": 1, \"names\": \"a\"}"));
    }

    @Test
    void eachKindOfBadValueHasItsReason() {
        assertEquals(Reason.NOT_JSON, reasonOf("not json"));
        assertEquals(Reason.NOT_JSON, reasonOf("[1, 2]"));
        assertEquals(Reason.NOT_JSON, reasonOf("{\"value\": NaN}"));
        assertEquals(Reason.NOT_JSON, reasonOf("{\"value\": 1} trailing"));
        assertEquals(Reason.MISSING_FIELD, reasonOf("{\"ts\": 1}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"values\": [1, \"x\"]}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"values\": []}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"ts\": \"yesterday\", \"value\": 1}"));
        assertEquals(Reason.NON_FINITE_VALUE, reasonOf("{\"value\": 1e999}"));
    }

    @Test
    void valuesBeyondFloat32sRangeAreNonFiniteForTheModel() {
        // Finite doubles, but squared in the stream's statistics they overflow, and the stream's
        // forecasts would be infinite or NaN from then on.
        assertEquals(Reason.NON_FINITE_VALUE, reasonOf("{\"value\": 1e300}"));
        assertEquals(Reason.NON_FINITE_VALUE, reasonOf("{\"values\": [-3.5e38]}"));
        assertEquals(Reason.NON_FINITE_VALUE, reasonOf("{\"value\": 1" + "0".repeat(60) + "}"));
        assertArrayEquals(new double[] {3.4e38}, parse("{\"value\": 3.4e38}").values());
    }

    @Test
    void timesBefore1970OrBeyondALongAreBadFields() {
        // Kafka refuses negative timestamps (the event time is the output's), and a number beyond
        // 64 bits used to wrap around to an arbitrary time.
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"ts\": -1, \"value\": 1}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"ts\": 99999999999999999999999, \"value\": 1}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"ts\": \"1969-12-31T23:59:59Z\", \"value\": 1}"));
        assertEquals(Reason.BAD_FIELD, reasonOf("{\"ts\": \"+999999999-12-31T23:59:59Z\", \"value\": 1}"));
        assertEquals(0L, parse("{\"ts\": 0, \"value\": 1}").ts());
        assertEquals(Long.MAX_VALUE, parse("{\"ts\": 9223372036854775807, \"value\": 1}").ts());
    }
}

package io.engram.engine.pipeline.anomaly;

import io.engram.testkit.TopologyFixture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.kafka.DeadLetterHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * Bad input found by FuzzIT, in the real sensor topology: each is dead-lettered with its reason
 * before it touches the stream's state, and the stream goes on as if it had not been sent.
 */
class SensorBadInputTopologyTest {
    private static final String GRU = "models/sensor-forecaster/sensor-gru.yaml";

    private static String reason(TestRecord<byte[], byte[]> r) {
        return new String(r.headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8);
    }

    @Test
    void aReadingHoursAheadOfItsRecordTimestampIsABadFieldAndTheStreamGoesOn() throws Exception {
        // Stepped, its prediction would be refused by the broker (1 hour ahead at most by default),
        // which stops an exactly-once pipeline, and every later reading would be out-of-order.
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            f.send("s", 60_000, 1.0);
            f.sendRaw("s", "{\"ts\":" + (60_000 + 2 * 3_600_000) + ",\"values\":[2]}", 60_000);
            f.send("s", 120_000, 3.0);
            assertEquals(List.of("bad-field"), f.deadLetters.readRecordsToList().stream().map(SensorBadInputTopologyTest::reason).toList());
            assertEquals(List.of(0L, 1L), f.predictions.readValuesToList().stream().map(ForecastPrediction::step).toList());
        }
    }

    @Test
    void aValueBeyondFloat32IsDeadLetteredAndTheStreamsForecastsStayFinite() throws Exception {
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            f.send("s", 1_000, 1.0);
            f.sendRaw("s", "{\"ts\":2000,\"values\":[1e300]}", 2_000);
            f.sendRaw("s", "{\"ts\":2000,\"values\":[-1e300]}", 2_000);
            for (int i = 3; i < 10; i++) {
                f.send("s", 1_000L * i, i);
            }
            assertEquals(List.of("non-finite-value", "non-finite-value"),
                    f.deadLetters.readRecordsToList().stream().map(SensorBadInputTopologyTest::reason).toList());
            List<ForecastPrediction> out = f.predictions.readValuesToList();
            assertEquals(8, out.size());
            for (ForecastPrediction p : out) {
                assertTrue(Double.isFinite(p.nextForecast()[0]) && Double.isFinite(p.score()), "step " + p.step() + ": " + p.nextForecast()[0]);
            }
        }
    }

    @Test
    void keysThatAreNotAStreamIdAreDeadLetteredAndMakeNoStream() throws Exception {
        try (TopologyFixture f = new TopologyFixture(GRU)) {
            String good = "{\"ts\":1000,\"values\":[1]}";
            byte[] notUtf8 = {'s', '-', (byte) 0xFF};
            f.input.pipeInput(notUtf8, good.getBytes(StandardCharsets.UTF_8), 1_000);
            f.input.pipeInput(new byte[0], good.getBytes(StandardCharsets.UTF_8), 1_000);
            f.input.pipeInput(new byte[InputKeyDeserializer.MAX_KEY_BYTES + 1], good.getBytes(StandardCharsets.UTF_8), 1_000);
            RecordHeaders big = new RecordHeaders();
            big.add("h", new byte[InputKeyDeserializer.MAX_HEADER_BYTES]);
            f.input.pipeInput(new TestRecord<>("s".getBytes(StandardCharsets.UTF_8), good.getBytes(StandardCharsets.UTF_8), big, 1_000L));
            // The key and headers are checked by the source's deserializer: TopologyTestDriver calls the
            // deserialization handler but drops the dead letters it returns (FuzzIT sees them on a broker).
            List<TestRecord<byte[], byte[]>> dead = f.deadLetters.readRecordsToList();
            assertEquals(List.of("null-key"), dead.stream().map(SensorBadInputTopologyTest::reason).toList());
            assertArrayEquals(new byte[0], dead.get(0).key(), "the original (empty) key");
            assertEquals(1.0, f.metrics.deadLetterCount(Reason.BAD_KEY));
            assertEquals(2.0, f.metrics.deadLetterCount(Reason.TOO_LARGE));
            assertTrue(f.predictions.isEmpty(), "no stream was made of them");
            assertTrue(f.store().get("s-\uFFFD") == null && f.store().get("") == null);
        }
    }
}

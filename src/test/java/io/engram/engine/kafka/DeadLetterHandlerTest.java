package io.engram.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.monitoring.EngramMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dead-letter records themselves: what they copy, what they drop so that they fit, and when there is none. */
class DeadLetterHandlerTest {
    static final String DLQ = "dead";
    DeadLetterHandler handler;
    EngramMetrics metrics;

    @BeforeEach
    void configure() {
        handler = new DeadLetterHandler();
        metrics = EngramMetrics.unbound("t");
        handler.configure(Map.of(DeadLetterHandler.DEAD_LETTER_TOPIC, DLQ, DeadLetterHandler.METRICS, metrics));
    }

    /** A context as Kafka Streams gives the handlers: the source record's coordinates, headers and raw bytes. */
    static ErrorHandlerContext context(byte[] key, byte[] value, Headers headers) {
        return new ErrorHandlerContext() {
            public String topic() { return "in"; }
            public int partition() { return 3; }
            public long offset() { return 42; }
            public Headers headers() { return headers; }
            public String processorNodeId() { return "node"; }
            public TaskId taskId() { return new TaskId(0, 3); }
            public long timestamp() { return 1234; }
            public byte[] sourceRawKey() { return key; }
            public byte[] sourceRawValue() { return value; }
        };
    }

    ProducerRecord<byte[], byte[]> deserializationDeadLetter(byte[] key, byte[] value, Headers headers, Exception e) {
        ConsumerRecord<byte[], byte[]> in = new ConsumerRecord<>("in", 3, 42, 1234, TimestampType.CREATE_TIME, key == null ? -1 : key.length,
                value == null ? -1 : value.length, key, value, headers, java.util.Optional.empty());
        DeserializationExceptionHandler.Response r = handler.handleError(context(key, value, headers), in, e);
        assertEquals(1, r.deadLetterQueueRecords().size());
        return r.deadLetterQueueRecords().get(0);
    }

    static String header(ProducerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static Headers headers(String name, byte[] value) {
        RecordHeaders h = new RecordHeaders();
        h.add(name, value);
        return h;
    }

    @Test
    void aDeadLetterCopiesTheOriginalThenAddsTheErrorHeaders() {
        ProducerRecord<byte[], byte[]> d = deserializationDeadLetter("k".getBytes(), "v".getBytes(), headers("seq", "7".getBytes()),
                new BadInputException(BadInputException.Reason.BAD_KEY, "key is not valid UTF-8"));
        assertEquals(DLQ, d.topic());
        assertArrayEquals("k".getBytes(), d.key());
        assertArrayEquals("v".getBytes(), d.value());
        assertEquals(1234L, d.timestamp());
        Header[] h = d.headers().toArray();
        assertEquals("seq", h[0].key(), "original headers first");
        assertEquals("bad-key", header(d, DeadLetterHandler.H_REASON));
        assertEquals("in", header(d, DeadLetterHandler.H_TOPIC));
        assertEquals("42", header(d, DeadLetterHandler.H_OFFSET));
        assertEquals("deserialize", header(d, DeadLetterHandler.H_STAGE));
        assertNull(header(d, DeadLetterHandler.H_VALUE_DROPPED));
        assertEquals(1.0, metrics.deadLetterCount(BadInputException.Reason.BAD_KEY));
    }

    @Test
    void aDeadLetterDropsTheValueWhenKeyValueAndHeadersTogetherAreOver900000Bytes() {
        // Neither part alone is over the limit; together they would make a dead letter Kafka refuses.
        byte[] key = new byte[300_000];
        byte[] value = new byte[700_000];
        ProducerRecord<byte[], byte[]> d = deserializationDeadLetter(key, value, new RecordHeaders(),
                new BadInputException(BadInputException.Reason.TOO_LARGE, "key too long"));
        assertNull(d.value());
        assertEquals("700000", header(d, DeadLetterHandler.H_VALUE_DROPPED));
        assertArrayEquals(key, d.key(), "the key still fits");
    }

    @Test
    void aDeadLetterDropsHeadersThenTheKeyUntilItFits() {
        ProducerRecord<byte[], byte[]> d = deserializationDeadLetter(new byte[950_000], "{}".getBytes(), headers("big", new byte[95_000]),
                new BadInputException(BadInputException.Reason.TOO_LARGE, "key too long"));
        assertNull(d.value());
        assertNull(d.key());
        assertEquals("2", header(d, DeadLetterHandler.H_VALUE_DROPPED));
        assertEquals("95003", header(d, DeadLetterHandler.H_HEADERS_DROPPED));
        assertEquals("950000", header(d, DeadLetterHandler.H_KEY_DROPPED));
        assertNull(d.headers().lastHeader("big"));
        long size = 0;
        for (Header h : d.headers()) {
            size += h.key().length() + h.value().length;
        }
        assertTrue(size < 10_000, "only the error headers are left: " + size);
    }

    @Test
    void aLongMessageIsCut() {
        String message = "header seq '" + "9".repeat(500_000) + "' is not a number";
        ProducerRecord<byte[], byte[]> d = deserializationDeadLetter("k".getBytes(), "v".getBytes(), new RecordHeaders(),
                new BadInputException(BadInputException.Reason.BAD_FIELD, message));
        assertTrue(header(d, DeadLetterHandler.H_MESSAGE).length() <= DeadLetterHandler.MAX_MESSAGE_CHARS + 3);
    }

    @Test
    void anOutputRefusedForItsSizeOrTimestampIsDeadLetteredAndOtherProduceErrorsStopThePipeline() {
        ErrorHandlerContext ctx = context(null, null, headers("seq", "1".getBytes()));
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>("predictions", "k".getBytes(), "v".getBytes());
        ProductionExceptionHandler.Response tooLarge = handler.handleError(ctx, out, new RecordTooLargeException("too large"));
        assertEquals(ProductionExceptionHandler.Result.RESUME, tooLarge.result());
        assertEquals("too-large", header(tooLarge.deadLetterQueueRecords().get(0), DeadLetterHandler.H_REASON));
        ProductionExceptionHandler.Response late = handler.handleError(ctx, out, new InvalidTimestampException("out of range"));
        assertEquals(ProductionExceptionHandler.Result.RESUME, late.result());
        assertEquals("bad-field", header(late.deadLetterQueueRecords().get(0), DeadLetterHandler.H_REASON));
        assertEquals("produce", header(late.deadLetterQueueRecords().get(0), DeadLetterHandler.H_STAGE));
        assertEquals(ProductionExceptionHandler.Result.FAIL, handler.handleError(ctx, out, new AuthorizationException("no")).result());
    }

    @Test
    void aDeadLetterThatIsItselfRefusedIsNotDeadLetteredAgainButStopsThePipeline() {
        // Otherwise the dead letter of a refused dead letter is refused in turn, without end; and
        // dropped (as before issue 21) the bad record would vanish.
        ProducerRecord<byte[], byte[]> deadLetter = new ProducerRecord<>(DLQ, new byte[2_000_000], null);
        ProductionExceptionHandler.Response r = handler.handleError(context(null, null, new RecordHeaders()), deadLetter,
                new RecordTooLargeException("too large"));
        assertEquals(ProductionExceptionHandler.Result.FAIL, r.result());
        assertEquals(List.of(), r.deadLetterQueueRecords());
    }

    ProcessingExceptionHandler.Response processingError(Exception e) {
        return handler.handleError(context("k".getBytes(), "v".getBytes(), new RecordHeaders()), new Record<>("k", "v", 1234), e);
    }

    @Test
    void unexpectedProcessingErrorsAreDeadLetteredUntilMoreThanTheShareOfTheWindowFailedThenThePipelineStops() {
        ProcessingErrors errors = new ProcessingErrors(10, 0.5);
        handler.configure(Map.of(DeadLetterHandler.DEAD_LETTER_TOPIC, DLQ, DeadLetterHandler.METRICS, metrics, ProcessingErrors.CONFIG, errors));
        for (int i = 0; i < 5; i++) {
            ProcessingExceptionHandler.Response r = processingError(new IllegalStateException("model failed"));
            assertEquals(ProcessingExceptionHandler.Result.RESUME, r.result(), "failure " + (i + 1) + " of 10");
            assertEquals("processing-error", header(r.deadLetterQueueRecords().get(0), DeadLetterHandler.H_REASON));
        }
        ProcessingExceptionHandler.Response stop = processingError(new IllegalStateException("model failed"));
        assertEquals(ProcessingExceptionHandler.Result.FAIL, stop.result(), "6 of the last 6: more than half of 10");
        assertEquals(List.of(), stop.deadLetterQueueRecords(), "not dead-lettered");
        assertTrue(errors.verdict().contains("the last at in-3@42"), errors.verdict());
    }

    @Test
    void badInputInProcessingIsAlwaysDeadLetteredAndNeverStopsThePipeline() {
        ProcessingErrors errors = new ProcessingErrors(10, 0);
        handler.configure(Map.of(DeadLetterHandler.DEAD_LETTER_TOPIC, DLQ, DeadLetterHandler.METRICS, metrics, ProcessingErrors.CONFIG, errors));
        for (int i = 0; i < 1000; i++) {
            ProcessingExceptionHandler.Response r = processingError(new RuntimeException("wrapped",
                    new BadInputException(BadInputException.Reason.NOT_JSON, "not JSON")));
            assertEquals(ProcessingExceptionHandler.Result.RESUME, r.result());
            assertEquals("not-json", header(r.deadLetterQueueRecords().get(0), DeadLetterHandler.H_REASON));
        }
        assertNull(errors.verdict());
        assertEquals(ProcessingExceptionHandler.Result.FAIL, processingError(new IllegalStateException("bug")).result(),
                "share 0: the first unexpected one stops");
    }
}

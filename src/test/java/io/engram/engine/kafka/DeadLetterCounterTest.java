package io.engram.engine.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.monitoring.EngramMetrics;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** engram.dead.letters counts the dead letters written, not those the handler returned. */
class DeadLetterCounterTest {
    final EngramMetrics metrics = EngramMetrics.unbound("t");
    final DeadLetterCounter.Counts counts = new DeadLetterCounter.Counts(DeadLetterHandlerTest.DLQ, metrics);

    ProducerRecord<byte[], byte[]> deadLetter() {
        DeadLetterHandler handler = new DeadLetterHandler();
        handler.configure(Map.of(DeadLetterHandler.DEAD_LETTER_TOPIC, DeadLetterHandlerTest.DLQ, DeadLetterHandler.METRICS, metrics,
                DeadLetterCounter.CONFIG, counts));
        ConsumerRecord<byte[], byte[]> in = new ConsumerRecord<>("in", 3, 42, "k".getBytes(), "v".getBytes());
        return handler.handleError(DeadLetterHandlerTest.context("k".getBytes(), "v".getBytes(), new RecordHeaders()), in,
                new BadInputException(Reason.NOT_JSON, "not JSON")).deadLetterQueueRecords().get(0);
    }

    static RecordMetadata written(String topic) {
        return new RecordMetadata(new TopicPartition(topic, 0), 7, 0, 1234, 1, 1);
    }

    @Test
    void aDeadLetterCountsOnceTheBrokerAcknowledgedItNeverWhenRefused() {
        DeadLetterCounter interceptor = new DeadLetterCounter();
        interceptor.configure(Map.of(DeadLetterCounter.CONFIG, counts));
        ProducerRecord<byte[], byte[]> d = deadLetter();
        assertEquals(0.0, metrics.deadLetterCount(Reason.NOT_JSON), "returned by the handler, not yet written");
        interceptor.onAcknowledgement(written(DeadLetterHandlerTest.DLQ), new RecordTooLargeException("refused"), d.headers());
        assertEquals(0.0, metrics.deadLetterCount(Reason.NOT_JSON), "refused by the broker: not written");
        interceptor.onAcknowledgement(written(DeadLetterHandlerTest.DLQ), null, d.headers());
        assertEquals(1.0, metrics.deadLetterCount(Reason.NOT_JSON), "written");
        interceptor.onAcknowledgement(written("predictions"), null, d.headers());
        assertEquals(1.0, metrics.deadLetterCount(Reason.NOT_JSON), "a record of another topic is no dead letter");
        interceptor.close();
    }

    @Test
    void withoutAProducerTheHandlerCountsTheDeadLettersItReturns() {
        // A TopologyTestDriver writes what the handler returns, through no producer.
        deadLetter();
        assertEquals(1.0, metrics.deadLetterCount(Reason.NOT_JSON));
    }
}

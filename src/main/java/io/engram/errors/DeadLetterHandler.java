package io.engram.errors;

import io.engram.monitoring.EngramMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams' deserialization, processing and production exception handler for Engram: a record
 * that cannot be processed is copied, with its original key, value and headers, to the pipeline's
 * dead-letter topic with headers naming the reason, counted in {@code engram.dead.letters}, and
 * processing resumes. The dead-letter record is written in the same transaction as the task's
 * other output. Kafka Streams creates and configures one instance per task; it gets the topic from
 * {@link #DEAD_LETTER_TOPIC} and the metrics from {@link #METRICS} in the streams config.
 */
public final class DeadLetterHandler implements DeserializationExceptionHandler, ProcessingExceptionHandler, ProductionExceptionHandler {
    public static final String DEAD_LETTER_TOPIC = "engram.dead.letter.topic";
    public static final String METRICS = "engram.metrics";

    /** Header names on every dead-letter record. */
    public static final String H_REASON = "engram.error.reason";
    public static final String H_MESSAGE = "engram.error.message";
    public static final String H_EXCEPTION = "engram.error.exception";
    public static final String H_TOPIC = "engram.error.topic";
    public static final String H_PARTITION = "engram.error.partition";
    public static final String H_OFFSET = "engram.error.offset";
    public static final String H_STAGE = "engram.error.stage";

    public static final String H_VALUE_DROPPED = "engram.error.value.dropped.bytes";
    /**
     * A dead letter must fit the producer's request limit (1 MB by default) with its headers: a
     * value above this is not copied, and {@link #H_VALUE_DROPPED} says how large it was.
     */
    static final int MAX_COPIED_VALUE = 900_000;

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

    private String topic;
    private EngramMetrics metrics;

    @Override
    public void configure(Map<String, ?> configs) {
        Object t = configs.get(DEAD_LETTER_TOPIC);
        if (!(t instanceof String s) || s.isBlank()) {
            throw new ConfigException("streams config lacks " + DEAD_LETTER_TOPIC + " (set by Engram's pipeline runner)");
        }
        topic = s;
        Object m = configs.get(METRICS);
        metrics = m instanceof EngramMetrics em ? em : EngramMetrics.unbound("unknown");
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return DeserializationExceptionHandler.Response.resume(
                List.of(deadLetter(context, record.key(), record.value(), record.headers(), exception, "deserialize")));
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        return ProcessingExceptionHandler.Response.resume(List.of(deadLetter(
                context, context.sourceRawKey(), context.sourceRawValue(), context.headers(), exception, "process")));
    }

    @Override
    public ProductionExceptionHandler.Response handleError(
            ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof RecordTooLargeException) {
            return ProductionExceptionHandler.Response.resume(List.of(deadLetter(
                    context, context.sourceRawKey(), context.sourceRawValue(), context.headers(), exception, "produce")));
        }
        return ProductionExceptionHandler.Response.fail();
    }

    @Override
    public ProductionExceptionHandler.Response handleSerializationError(
            ErrorHandlerContext context, ProducerRecord record, Exception exception, SerializationExceptionOrigin origin) {
        return ProductionExceptionHandler.Response.resume(List.of(deadLetter(
                context, context.sourceRawKey(), context.sourceRawValue(), context.headers(), exception, "serialize")));
    }

    private ProducerRecord<byte[], byte[]> deadLetter(
            ErrorHandlerContext ctx, byte[] key, byte[] value, Headers original, Exception e, String stage) {
        BadInputException bad = find(e);
        BadInputException.Reason reason = bad != null ? bad.reason()
                : e instanceof RecordTooLargeException ? BadInputException.Reason.TOO_LARGE
                : BadInputException.Reason.PROCESSING_ERROR;
        String message = bad != null ? bad.getMessage() : String.valueOf(e.getMessage());
        metrics.deadLetter(reason);
        if (bad == null) {
            // Not a known bad-input case: log it (once per record) since it may be an Engram bug.
            LOG.warn("record {}-{}@{} sent to {}: {}", ctx.topic(), ctx.partition(), ctx.offset(), topic, e.toString());
        }
        Headers h = new RecordHeaders();
        if (original != null) {
            original.forEach(h::add);
        }
        h.add(H_REASON, utf8(reason.code()));
        h.add(H_MESSAGE, utf8(message));
        h.add(H_EXCEPTION, utf8((bad != null ? bad : e).getClass().getName()));
        h.add(H_TOPIC, utf8(ctx.topic()));
        h.add(H_PARTITION, utf8(Integer.toString(ctx.partition())));
        h.add(H_OFFSET, utf8(Long.toString(ctx.offset())));
        h.add(H_STAGE, utf8(stage));
        if (value != null && value.length > MAX_COPIED_VALUE) {
            h.add(H_VALUE_DROPPED, utf8(Integer.toString(value.length)));
            value = null;
        }
        return new ProducerRecord<>(topic, null, ctx.timestamp() >= 0 ? ctx.timestamp() : null, key, value, h);
    }

    private static BadInputException find(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadInputException b) {
                return b;
            }
        }
        return null;
    }

    private static byte[] utf8(String s) {
        return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    }
}

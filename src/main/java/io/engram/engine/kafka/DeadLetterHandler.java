package io.engram.engine.kafka;

import io.engram.engine.monitoring.PipelineMeters;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.ConfigException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
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
 * dead-letter topic with headers naming the reason, counted in {@code engram.dead.letters} once
 * written ({@link DeadLetterCounter}), and processing resumes. The dead-letter record is written in the same transaction as the task's
 * other output. Kafka Streams creates and configures one instance per task; it gets the topic from
 * {@link #DEAD_LETTER_TOPIC}, the metrics from {@link #METRICS} and the pipeline's
 * {@link ProcessingErrors} from {@link ProcessingErrors#CONFIG} in the streams config.
 *
 * <p>Two faults stop the pipeline instead: an unexpected processing exception (not a
 * {@link BadInputException}) once more than the configured share of the last records failed so
 * ({@link ProcessingErrors}: a failing model would otherwise turn all input into dead letters), and
 * a dead letter that the broker refuses (it would otherwise vanish).
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
    public static final String H_KEY_DROPPED = "engram.error.key.dropped.bytes";
    public static final String H_HEADERS_DROPPED = "engram.error.headers.dropped.bytes";
    /**
     * A dead letter must fit the producer's request limit (1 MB by default) with its own headers: of
     * the original key, value and headers, which together may be up to that limit, at most this many
     * bytes are copied. The value is dropped first, then the original headers, then the key, each
     * noted in {@link #H_VALUE_DROPPED}, {@link #H_HEADERS_DROPPED}, {@link #H_KEY_DROPPED} with its
     * size. (A dead letter over the limit would itself be refused as too large, and its dead letter
     * too, until the stream thread died.)
     */
    static final int MAX_COPIED_VALUE = 900_000;
    /** {@link #H_MESSAGE} is cut to this many characters: messages may quote the input (a bad header, say). */
    static final int MAX_MESSAGE_CHARS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

    private String topic;
    private DeadLetterCounter.Counts counts;
    private ProcessingErrors errors;

    @Override
    public void configure(Map<String, ?> configs) {
        Object t = configs.get(DEAD_LETTER_TOPIC);
        if (!(t instanceof String s) || s.isBlank()) {
            throw new ConfigException("streams config lacks " + DEAD_LETTER_TOPIC + " (set by Engram's pipeline runner)");
        }
        topic = s;
        Object m = configs.get(METRICS);
        PipelineMeters metrics = m instanceof PipelineMeters pm ? pm : PipelineMeters.NONE;
        Object c = configs.get(DeadLetterCounter.CONFIG);
        counts = c instanceof DeadLetterCounter.Counts dc ? dc : new DeadLetterCounter.Counts(topic, metrics);
        Object e = configs.get(ProcessingErrors.CONFIG);
        errors = e instanceof ProcessingErrors pe ? pe : ProcessingErrors.NONE;
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(
            ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return DeserializationExceptionHandler.Response.resume(
                List.of(deadLetter(context, record.key(), record.value(), record.headers(), exception, "deserialize")));
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (find(exception) == null && errors.failed(context.topic() + "-" + context.partition() + "@" + context.offset())) {
            // Not the input's fault, and not one record's: stop rather than dead-letter all input. Not
            // dead-lettered itself; under exactly-once, neither are those of its open transaction.
            LOG.error("pipeline stops: {}", errors.verdict(), exception);
            return ProcessingExceptionHandler.Response.fail();
        }
        return ProcessingExceptionHandler.Response.resume(List.of(deadLetter(
                context, context.sourceRawKey(), context.sourceRawValue(), context.headers(), exception, "process")));
    }

    @Override
    public ProductionExceptionHandler.Response handleError(
            ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (topic.equals(record.topic())) {
            // A dead letter itself was refused: a dead letter of it would be refused again, forever,
            // and dropped it would vanish. Stop: the record is processed again after a restart,
            // once the dead-letter topic takes it (its max.message.bytes, its existence, the ACLs).
            LOG.error("dead letter for {}-{}@{} refused by the broker: the pipeline stops: {}", context.topic(), context.partition(),
                    context.offset(), exception.toString());
            return ProductionExceptionHandler.Response.fail();
        }
        // Refusals of this one record's content (a size limit, or the broker's timestamp limit: an event
        // time more than log.message.timestamp.after.max.ms, 1 hour by default, ahead of its clock)
        // dead-letter the input record; anything else (e.g. no topic, no authorisation) stops the
        // pipeline. Under exactly-once only the producer's own refusals (max.request.size, checked
        // before the record joins the transaction) end as dead letters: a refusal by the broker has
        // already failed the transaction, the dead letter cannot be written in it, and the pipeline
        // stops (docs/operating-state.md, "When the pipeline stops").
        // Kafka Streams has released the input's raw key and value by now: the dead letter has its headers only.
        if (exception instanceof RecordTooLargeException || exception instanceof InvalidTimestampException) {
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
                : e instanceof InvalidTimestampException ? BadInputException.Reason.BAD_FIELD
                : BadInputException.Reason.PROCESSING_ERROR;
        String message = bad != null ? bad.getMessage() : String.valueOf(e.getMessage());
        if (message.length() > MAX_MESSAGE_CHARS) {
            message = message.substring(0, MAX_MESSAGE_CHARS) + "...";
        }
        counts.returned(reason);
        if (bad == null) {
            // Not a known bad-input case: log it (once per record) since it may be an Engram bug.
            LOG.warn("record {}-{}@{} sent to {}: {}", ctx.topic(), ctx.partition(), ctx.offset(), topic, e.toString());
        }
        // Copy the original's parts while they fit (see MAX_COPIED_VALUE); note the size of each dropped one.
        Headers dropped = new RecordHeaders();
        long headerBytes = headerBytes(original);
        long size = length(key) + length(value) + headerBytes;
        if (value != null && size > MAX_COPIED_VALUE) {
            dropped.add(H_VALUE_DROPPED, utf8(Integer.toString(value.length)));
            size -= value.length;
            value = null;
        }
        boolean copyHeaders = original != null;
        if (size > MAX_COPIED_VALUE && headerBytes > 0) {
            dropped.add(H_HEADERS_DROPPED, utf8(Long.toString(headerBytes)));
            size -= headerBytes;
            copyHeaders = false;
        }
        if (size > MAX_COPIED_VALUE) {
            dropped.add(H_KEY_DROPPED, utf8(Integer.toString(key.length)));
            key = null;
        }
        Headers h = new RecordHeaders();
        if (copyHeaders) {
            original.forEach(h::add);
        }
        h.add(H_REASON, utf8(reason.code()));
        h.add(H_MESSAGE, utf8(message));
        h.add(H_EXCEPTION, utf8((bad != null ? bad : e).getClass().getName()));
        h.add(H_TOPIC, utf8(ctx.topic()));
        h.add(H_PARTITION, utf8(Integer.toString(ctx.partition())));
        h.add(H_OFFSET, utf8(Long.toString(ctx.offset())));
        h.add(H_STAGE, utf8(stage));
        dropped.forEach(h::add);
        return new ProducerRecord<>(topic, null, ctx.timestamp() >= 0 ? ctx.timestamp() : null, key, value, h);
    }

    private static long length(byte[] b) {
        return b == null ? 0 : b.length;
    }

    /** Header names (UTF-8) plus values, in bytes. */
    public static long headerBytes(Headers headers) {
        long n = 0;
        if (headers != null) {
            for (Header x : headers) {
                n += utf8(x.key()).length + length(x.value());
            }
        }
        return n;
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

package io.engram.engine.kafka;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.monitoring.PipelineMeters;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Counts dead letters once written: an interceptor of Kafka Streams' producers that counts each
 * record of the dead-letter topic that the broker acknowledged, in {@code engram.dead.letters} with
 * the reason of its {@link DeadLetterHandler#H_REASON} header. A dead letter the broker refuses is
 * not counted (and stops the pipeline: {@link DeadLetterHandler}). Under exactly-once, a dead
 * letter is acknowledged when written in its transaction: one whose transaction then aborts
 * (the pipeline stops) is counted, and counted again when processed anew after the restart.
 *
 * <p>The pipeline's {@link Counts}, in the producer's config under {@link #CONFIG}, is shared with
 * its {@link DeadLetterHandler}s; where no producer counts (a TopologyTestDriver has none), the
 * handler counts the dead letters it returns.
 */
public final class DeadLetterCounter implements ProducerInterceptor<byte[], byte[]> {
    /** The config key of a pipeline's {@link Counts}: in the streams config (the handlers) and producer-prefixed (this). */
    public static final String CONFIG = "engram.dead.letter.counts";

    /** One pipeline's dead-letter topic and meters, and whether its producers count. Thread-safe. */
    public static final class Counts {
        private final String topic;
        private final PipelineMeters meters;
        private volatile boolean byProducer;

        public Counts(String topic, PipelineMeters meters) {
            this.topic = topic;
            this.meters = meters;
        }

        /** A dead letter a handler returned: counted here only where no producer counts its writes. */
        void returned(BadInputException.Reason reason) {
            if (!byProducer) {
                meters.deadLetter(reason);
            }
        }

        /** A record the broker acknowledged, or refused ({@code exception} not null). */
        void acknowledged(String topic, Exception exception, Headers headers) {
            if (exception != null || !this.topic.equals(topic) || headers == null) {
                return;
            }
            Header h = headers.lastHeader(DeadLetterHandler.H_REASON);
            if (h == null) {
                return;
            }
            String code = new String(h.value(), StandardCharsets.UTF_8);
            for (BadInputException.Reason r : BadInputException.Reason.values()) {
                if (r.code().equals(code)) {
                    meters.deadLetter(r);
                    return;
                }
            }
        }
    }

    private Counts counts;

    @Override
    public void configure(Map<String, ?> configs) {
        if (configs.get(CONFIG) instanceof Counts c) {
            counts = c;
            c.byProducer = true;
        }
    }

    @Override
    public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        // Kafka calls the form with headers.
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception, Headers headers) {
        if (counts != null && metadata != null) {
            counts.acknowledged(metadata.topic(), exception, headers);
        }
    }

    @Override
    public void close() {}
}

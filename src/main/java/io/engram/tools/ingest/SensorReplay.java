package io.engram.tools.ingest;

import io.engram.tools.kafka.KafkaClients;

import io.engram.engine.pipeline.anomaly.VectorReading;
import io.engram.engine.pipeline.anomaly.VectorReadingSerde;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Replays sensor rows into a Kafka topic, the logic behind {@code engram ingest sensors}. Each row
 * becomes one record: key = the stream id (UTF-8), value = the reading's JSON
 * {@code {"ts": epochMs, "values": [...]}}, record timestamp = {@code ts}, and a header
 * {@value #SOURCE_HEADER} = {@code file:line}, which the pipeline carries onto predictions and
 * alerts, so that an alert can be traced back to its CSV line.
 *
 * <p>Stateless: the caller owns the producer (see {@link #producer}) and closes it.
 */
public final class SensorReplay {
    /** Header naming the row a record came from, {@code file.csv:line}. */
    public static final String SOURCE_HEADER = "engram.source";

    private static final VectorReadingSerde SERDE = new VectorReadingSerde();
    /** Longest single sleep while pacing, so that a stop request or a progress redraw is never late. */
    private static final long MAX_SLEEP_MS = 100;

    private SensorReplay() {}

    /**
     * What a replay did.
     *
     * @param sent records acknowledged by the broker
     * @param elapsed wall time from the first send to the final flush
     * @param stopped true when {@code keepGoing} turned false before the last row
     */
    public record Summary(long sent, Duration elapsed, boolean stopped) {}

    /**
     * A producer for replays: idempotent with {@code acks=all}, so that ordinary retries neither
     * duplicate nor reorder a stream's readings (the pipeline steps its recurrent state once per record,
     * so a duplicate is a wrong step, not just a repeated line; a broker outage can still, rarely, double
     * a batch in flight: {@link io.engram.tools.kafka.KafkaClients#producer(String)});
     * {@code linger.ms=5} to batch fast replays.
     * The caller closes it.
     */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        return producer(bootstrap, java.util.Map.of());
    }

    /** As {@link #producer(String)}, with the user's client properties (security settings) added. */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap, java.util.Map<String, String> client) {
        return KafkaClients.ingestProducer(bootstrap, "engram-ingest", java.util.Map.of(), client);
    }

    /** The record for one row. */
    public static ProducerRecord<byte[], byte[]> record(String topic, String streamId, String source, SensorCsv.Row row) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(SOURCE_HEADER, (source + ":" + row.line()).getBytes(StandardCharsets.UTF_8));
        byte[] value = SERDE.serialize(topic, new VectorReading(row.ts(), row.values()));
        return new ProducerRecord<>(topic, null, row.ts(), streamId.getBytes(StandardCharsets.UTF_8), value, headers);
    }

    /**
     * Sends {@code rows} in order and flushes.
     *
     * @param source the file name, for the {@value #SOURCE_HEADER} header
     * @param speed 0 (or less) for as fast as possible; else N times the recorded speed: before each
     *     row, waits until {@code (ts - firstTs) / N} has passed since the start. Times that go back
     *     (NAB repeats some) do not wait.
     * @param progress called with the number of rows handed to the producer so far (may be every row)
     * @param keepGoing checked before each row and while pacing; false stops the replay early
     * @throws IllegalStateException when the broker rejects a record (after the producer's own retries)
     */
    public static Summary send(List<SensorCsv.Row> rows, String streamId, String source, String topic,
            Producer<byte[], byte[]> producer, double speed, LongConsumer progress, BooleanSupplier keepGoing) {
        AtomicLong acked = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long start = System.nanoTime();
        long firstTs = rows.isEmpty() ? 0 : rows.get(0).ts();
        long maxTs = firstTs;
        long handed = 0;
        boolean stopped = false;
        for (SensorCsv.Row row : rows) {
            if (failure.get() != null) {
                break;
            }
            if (speed > 0) {
                // Pace against the start rather than the previous row: sleeps' overshoot does not add up.
                maxTs = Math.max(maxTs, row.ts());
                long dueNanos = start + (long) ((maxTs - firstTs) * 1_000_000.0 / speed);
                final long handedSoFar = handed;
                // Progress keeps redrawing during long waits, so that the rate shown decays honestly.
                if (!Pacing.sleepUntil(dueNanos, keepGoing, MAX_SLEEP_MS, () -> progress.accept(handedSoFar))) {
                    stopped = true;
                    break;
                }
            }
            if (!keepGoing.getAsBoolean()) {
                stopped = true;
                break;
            }
            producer.send(record(topic, streamId, source, row), (md, e) -> {
                if (e == null) {
                    acked.incrementAndGet();
                } else {
                    failure.compareAndSet(null, e);
                }
            });
            handed++;
            progress.accept(handed);
        }
        producer.flush();
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("sending to topic '" + topic + "' failed after " + acked.get() + " records: " + e.getMessage(), e);
        }
        return new Summary(acked.get(), Duration.ofNanos(System.nanoTime() - start), stopped);
    }
}

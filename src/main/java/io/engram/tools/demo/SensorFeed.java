package io.engram.tools.demo;

import io.engram.tools.ingest.Pacing;
import io.engram.tools.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The demo's sensor input: every stream of a {@link SensorSimulator}, one 5-minute reading per stream
 * a step, {@code rate} steps a second, after three bad records that show the dead-letter path.
 *
 * <p><b>Lifecycle.</b> {@link #run} is the body of one feeder thread: it opens its producer, sends
 * until {@code keepGoing} turns false (or the thread is interrupted), flushes and closes the
 * producer. {@link #stepsSent()} is read once that thread has been joined.
 */
public final class SensorFeed implements Runnable {
    private static final long INTERVAL_MS = 300_000;
    private static final long START_MS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    /** Longest single sleep while pacing, so that a stop is never late. */
    private static final long MAX_SLEEP_MS = 50;

    private final String bootstrap;
    private final String topic;
    private final SensorSimulator sim;
    private final int rate;
    private final BooleanSupplier keepGoing;
    private final long[] stepsSent;

    /** @param rate steps (a reading of every stream) per second */
    public SensorFeed(String bootstrap, String topic, SensorSimulator sim, int rate, BooleanSupplier keepGoing) {
        this.bootstrap = bootstrap;
        this.topic = topic;
        this.sim = sim;
        this.rate = rate;
        this.keepGoing = keepGoing;
        this.stepsSent = new long[sim.streams()];
    }

    /** Readings sent per stream, by stream index. */
    public long[] stepsSent() {
        return stepsSent;
    }

    @Override
    public void run() {
        Map<String, Object> settings = Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 5);
        try (KafkaProducer<String, byte[]> producer = KafkaClients.keyedProducer(bootstrap, settings)) {
            sendBadRecords(producer);
            long step = 0;
            long start = System.nanoTime();
            while (keepGoing.getAsBoolean()) {
                sendStep(producer, step);
                step++;
                long due = start + step * 1_000_000_000L / Math.max(1, rate);
                if (!Pacing.sleepUntil(due, keepGoing, MAX_SLEEP_MS, () -> { }) && Thread.currentThread().isInterrupted()) {
                    return;
                }
            }
            producer.flush();
        }
    }

    /** A few bad records first, to show the dead-letter path: they never stop the pipeline. */
    private void sendBadRecords(KafkaProducer<String, byte[]> producer) {
        producer.send(new ProducerRecord<>(topic, "demo-bad-input", "this is not JSON".getBytes(StandardCharsets.UTF_8)));
        producer.send(new ProducerRecord<>(topic, "demo-bad-input", "{\"ts\": 1, \"values\": [1.0, 2.0]}".getBytes(StandardCharsets.UTF_8)));
        producer.send(new ProducerRecord<>(topic, null, "{\"ts\": 1, \"value\": 3.0}".getBytes(StandardCharsets.UTF_8)));
    }

    private void sendStep(KafkaProducer<String, byte[]> producer, long step) {
        long ts = START_MS + step * INTERVAL_MS;
        for (int i = 0; i < sim.streams(); i++) {
            double v = sim.next(i);
            String json = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.6f]}", ts, v);
            producer.send(new ProducerRecord<>(topic, null, ts, sim.name(i), json.getBytes(StandardCharsets.UTF_8)));
            stepsSent[i] = step + 1;
        }
    }
}

package io.engram.testkit;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.kafka.KafkaClients;
import io.engram.tools.harness.TopicReader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A fuzz run of any pipeline on a real broker with exactly-once processing: starts the pipeline in
 * this JVM, sends the records of a {@link Fuzzer} in order, then checks what holds for every
 * pipeline: Kafka Streams stays RUNNING throughout ({@link StreamsWatch}); there is exactly one
 * prediction per good record (read on past their number, once the pipeline has committed all its
 * input and no transaction is open); every bad record has exactly one dead letter with its
 * reason and original bytes, and no other dead letter exists ({@link DeadLetterCheck}); the
 * metrics count the same. Returns the predictions for the pipeline's own checks of their values.
 */
public final class FuzzRun {
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** What the pipeline wrote: every committed prediction and dead letter. */
    public record Result(List<ConsumerRecord<byte[], byte[]>> predictions, List<ConsumerRecord<byte[], byte[]>> deadLetters) {}

    private FuzzRun() {}

    /**
     * @param records the run's records, good and bad, in sending order
     * @param documented the dead-letter reasons docs/topics.md lists for the pipeline
     * @param laterStage checks the dead letter of a record that a later stage refused (see {@link DeadLetterCheck#check})
     * @param seed adds the run's seed to a failure message
     */
    public static Result run(String name, KafkaBroker broker, PipelineSpec spec, Path stateDir, List<FuzzRecord> records, Set<String> documented,
            BiConsumer<FuzzRecord, ConsumerRecord<byte[], byte[]>> laterStage, UnaryOperator<String> seed) throws Exception {
        List<FuzzRecord> good = records.stream().filter(FuzzRecord::good).toList();
        List<FuzzRecord> bad = records.stream().filter(s -> !s.good()).toList();
        System.out.printf(Locale.ROOT, "FuzzRun %s: %d good, %d bad records: %s%n", name, good.size(), bad.size(), DeadLetterCheck.byReason(bad));
        long start = System.nanoTime();
        Result result;
        try (PipelineRunner runner = PipelineRunner.start(spec, broker.bootstrap(), stateDir, new SimpleMeterRegistry())) {
            assertTrue(runner.awaitRunning(TIMEOUT), "pipeline running");
            try (StreamsWatch watch = new StreamsWatch(runner.streams(), seed)) {
                send(broker.bootstrap(), records);
                String predictions = spec.topics().name(ForecastHead.PREDICTIONS);
                String dead = spec.topics().deadLetter();
                awaitAtLeast(broker.bootstrap(), predictions, good.size(), watch);
                awaitAtLeast(broker.bootstrap(), dead, bad.size(), watch);
                Set<String> inputs = new LinkedHashSet<>();
                records.forEach(s -> inputs.add(s.topic));
                TopicReader.awaitSettled(broker.bootstrap(), TopicReader.Settle.outputs(List.of(predictions, dead))
                        .consumedBy(spec.applicationId(), inputs), TIMEOUT);
                try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(broker.bootstrap(), IsolationLevel.READ_COMMITTED)) {
                    result = new Result(TopicReader.readToEnd(c, predictions, TIMEOUT), TopicReader.readToEnd(c, dead, TIMEOUT));
                }
                watch.assertStayedRunning();
                assertEquals(good.size(), result.predictions().size(), seed.apply("predictions: one per good record, none twice"));
                DeadLetterCheck.check(bad, result.deadLetters(), runner.metrics(), documented, laterStage, seed);
                assertEquals(good.size(), runner.metrics().processedCount(), seed.apply("engram.records.processed"));
            }
        }
        System.out.printf(Locale.ROOT, "FuzzRun %s: %.1f s from pipeline start to checked%n", name, (System.nanoTime() - start) / 1e9);
        return result;
    }

    /** Sends every record in order with one idempotent producer and notes where each landed. */
    static void send(String bootstrap, List<FuzzRecord> records) throws Exception {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> p = KafkaClients.producer(bootstrap)) {
            for (FuzzRecord s : records) {
                acks.add(p.send(new ProducerRecord<>(s.topic, null, s.timestamp, s.key, s.value, new RecordHeaders(s.headers))));
            }
            p.flush();
            for (int i = 0; i < records.size(); i++) {
                RecordMetadata m = acks.get(i).get();
                records.get(i).partition = m.partition();
                records.get(i).offset = m.offset();
            }
        }
    }

    /** Waits until {@code topic} holds {@code n} committed records, failing as soon as Kafka Streams leaves RUNNING. */
    static void awaitAtLeast(String bootstrap, String topic, int n, StreamsWatch watch) {
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
            List<TopicPartition> tps = TopicReader.partitions(c, topic);
            c.assign(tps);
            c.seekToBeginning(tps);
            int count = 0;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (count < n && System.nanoTime() < deadline) {
                count += c.poll(Duration.ofMillis(200)).count();
                watch.assertStayedRunning();
            }
        }
    }
}

package io.engram.bench;

import io.engram.runtime.PipelineRunner;
import io.engram.embedded.EmbeddedKafka;
import io.engram.core.PipelineSpec;
import io.engram.runtime.Pipelines;
import io.engram.core.PipelineTopics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Throughput of the full sensor pipeline on the in-process broker, beside the same topology with
 * the model call removed, on the same broker and the same input topic in one run. The input is
 * produced once; each pass is a fresh application id (fresh state) reading it from the start, and
 * the clock runs from start-up until every record has been processed. Passes alternate
 * (baseline, model, baseline, model) so that JIT warm-up does not favour either.
 */
public final class SensorBenchmark {
    private SensorBenchmark() {}

    public record Pass(String name, long records, double seconds) {
        public double rate() {
            return records / seconds;
        }
    }

    public static java.util.List<Pass> run(PipelineSpec base, int streams, int records, int rounds) throws Exception {
        java.util.List<Pass> passes = new java.util.ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bootstrap = kafka.bootstrapServers();
            String input = base.topics().name("input");
            EmbeddedKafka.createTopics(bootstrap, base.topics().partitions(), (short) 1, input);
            produce(bootstrap, input, streams, records);
            for (int round = 0; round < rounds; round++) {
                for (boolean withModel : new boolean[] {false, true}) {
                    String name = withModel ? "model" : "no-model";
                    String suffix = "-" + name + "-" + round;
                    PipelineSpec cfg = base.withApplicationId("engram-bench" + suffix)
                            .withMetricsPort(0)
                            .withTopics(base.topics().withSuffix(suffix).with("input", input));
                    Path state = Files.createTempDirectory("engram-bench-");
                    long t0 = System.nanoTime();
                    try (PipelineRunner r = PipelineRunner.start(cfg, bootstrap, state, new SimpleMeterRegistry(), withModel)) {
                        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
                        while (r.metrics().processedCount() < records && System.nanoTime() < deadline) {
                            Thread.sleep(20);
                        }
                        double secs = (System.nanoTime() - t0) / 1e9;
                        passes.add(new Pass(name, (long) r.metrics().processedCount(), secs));
                        System.err.printf(Locale.ROOT, "  round %d %-8s %,d records in %.2f s = %,.0f records/s%n", round, name,
                                (long) r.metrics().processedCount(), secs, r.metrics().processedCount() / secs);
                    }
                }
            }
        }
        return passes;
    }

    private static void produce(String bootstrap, String topic, int streams, int records) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        SplittableRandom rnd = new SplittableRandom(7);
        long start = 1_700_000_000_000L;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                int s = i % streams;
                long ts = start + (i / streams) * 60_000L;
                double v = 10 + 3 * Math.sin(i / (double) streams / 50.0) + rnd.nextGaussian() * 0.2;
                String json = String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%.5f]}", ts, v);
                producer.send(new ProducerRecord<>(topic, null, ts, "sensor-" + s, json.getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }
}

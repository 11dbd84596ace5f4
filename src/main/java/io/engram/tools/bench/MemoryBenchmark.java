package io.engram.tools.bench;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.config.PipelineSpec;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.kafka.KafkaClients;
import io.engram.tools.harness.EngramProcess;
import io.engram.tools.harness.TopicReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;

/**
 * Resident memory of the sensor pipeline with many streams: an {@code engram run} process of its
 * own (so that the broker and the benchmark are not counted), fed {@value #READINGS} readings for
 * each of N streams on the in-process broker; once it has consumed them all, its resident set
 * ({@code VmRSS}) and peak ({@code VmHWM}) are read from {@code /proc}. The state bytes per stream are
 * the mean size of each stream's latest value in the store's changelog (the serialised state:
 * hidden state, counters, scorer memory, after {@value #READINGS} readings). A benchmark: the numbers depend on the machine, the JVM options
 * ({@link #JVM}) and {@code state.memory_mb}.
 */
public final class MemoryBenchmark {
    private MemoryBenchmark() {}

    /** Readings per stream: enough for every stream to have stepped and scored. */
    static final int READINGS = 2;

    /** The child's JVM options: a heap capped as an operator would cap it; everything else default. */
    static final List<String> JVM = List.of("-Xmx512m");

    public record Point(int streams, double rssMb, double peakRssMb, double stateBytesPerStream, double seconds) {}

    public static List<Point> run(PipelineSpec spec, List<Integer> streamCounts, Path work, PrintStream progress) throws Exception {
        Path yaml = spec.file().toAbsolutePath();
        List<Point> out = new ArrayList<>();
        for (int n : streamCounts) {
            // A broker per size: the pipeline file's own topic names, nothing left over from the size before.
            try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
                String bootstrap = kafka.bootstrapServers();
                String app = "engram-bench-memory-" + n;
                String input = spec.topics().name(AnomalyPipeline.INPUT);
                String predictions = spec.topics().name(ForecastHead.PREDICTIONS);
                String store = spec.stateStore();
                EmbeddedKafka.createTopics(bootstrap, spec.topics().partitions(), (short) 1, spec.usedTopics().toArray(String[]::new));
                SensorBenchmark.produce(bootstrap, input, n, n * READINGS); // READINGS rounds over the n streams
                Path dir = Files.createDirectories(work.resolve("memory-" + n));
                List<String> args = List.of("--application-id", app);
                long t0 = System.nanoTime();
                try (EngramProcess p = EngramProcess.start("memory-" + n, JVM, yaml, bootstrap, dir.resolve("state"), dir.resolve("run.log"),
                        Map.of(), args)) {
                    p.awaitRunning(Duration.ofMinutes(2));
                    TopicReader.awaitSettled(bootstrap, TopicReader.Settle.outputs(List.of(predictions)).consumedBy(app, List.of(input)),
                            Duration.ofMinutes(30));
                    double secs = (System.nanoTime() - t0) / 1e9;
                    double[] rss = rss(p.pid());
                    double bytes = meanLatestValueBytes(bootstrap, app + "-" + store + "-changelog");
                    Point pt = new Point(n, rss[0], rss[1], bytes, secs);
                    progress.printf(Locale.ROOT, "  %,d streams: RSS %.0f MB (peak %.0f MB), %.0f state bytes per stream, %.0f s%n", n, rss[0],
                            rss[1], bytes, secs);
                    out.add(pt);
                    p.stop();
                }
            }
        }
        return out;
    }

    /** VmRSS and VmHWM of {@code pid}, in MB. */
    static double[] rss(long pid) throws IOException {
        double rss = Double.NaN;
        double hwm = Double.NaN;
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = kb(line) / 1024.0;
            } else if (line.startsWith("VmHWM:")) {
                hwm = kb(line) / 1024.0;
            }
        }
        return new double[] {rss, hwm};
    }

    private static double kb(String line) {
        return Double.parseDouble(line.replaceAll("[^0-9]", ""));
    }

    /** Mean size of each key's latest value in {@code topic} (a changelog: each stream's state as it now is). */
    static double meanLatestValueBytes(String bootstrap, String topic) {
        // Streamed, not collected: a million streams' changelog does not fit in the heap.
        try (KafkaConsumer<byte[], byte[]> c = KafkaClients.consumer(bootstrap, IsolationLevel.READ_COMMITTED)) {
            List<org.apache.kafka.common.TopicPartition> parts = TopicReader.partitions(c, topic);
            c.assign(parts);
            c.seekToBeginning(parts);
            java.util.Map<org.apache.kafka.common.TopicPartition, Long> end = c.endOffsets(parts);
            java.util.Map<java.nio.ByteBuffer, Integer> latest = new java.util.HashMap<>();
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        latest.put(java.nio.ByteBuffer.wrap(r.key()), r.value().length);
                    } else {
                        latest.remove(java.nio.ByteBuffer.wrap(r.key()));
                    }
                }
            }
            return latest.isEmpty() ? Double.NaN : latest.values().stream().mapToInt(Integer::intValue).average().orElse(Double.NaN);
        }
    }
}

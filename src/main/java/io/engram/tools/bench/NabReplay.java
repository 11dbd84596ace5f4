package io.engram.tools.bench;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.engine.errors.ConfigException;
import io.engram.tools.ingest.SensorCsv;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Replays NAB-format CSVs through the real sensor topology on an in-process broker and writes NAB
 * result files. Each file is one stream (key {@code <category>/<name>}) starting from fresh state;
 * all files share the pipeline's one parameter set. Out-of-order readings are processed rather than
 * dropped here, so that every input row gets exactly one result row, in file order.
 *
 * <p>A file of several value columns ({@code timestamp,c1,...,cN}, all files of a run the same N) is
 * a stream of vector readings, each row one reading that carries the header's column names
 * ({@code "names"}), so that a reason names its column ({@code level:Pressure}); the pipeline then
 * takes N values a reading ({@code input.values}: a one-value model forecasts each value on its own).
 */
public final class NabReplay {
    private NabReplay() {}

    public record Report(int files, long rows, double seconds) {}

    public static Report run(PipelineSpec base, Path dataDir, Path outDir, PrintStream progress) throws Exception {
        if (!Files.isDirectory(dataDir)) {
            throw new ConfigException("NAB data folder not found: " + dataDir.toAbsolutePath()
                    + ". Fix: pass --data with a folder of <category>/<name>.csv files, e.g. ../shared/nab/data.");
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dataDir)) {
            files = walk.filter(f -> f.toString().endsWith(".csv")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new ConfigException("No .csv files under " + dataDir.toAbsolutePath() + ". Fix: point --data at NAB's data/ folder.");
        }
        Map<String, SensorCsv.Result> streams = new java.util.LinkedHashMap<>();
        long rows = 0;
        for (Path f : files) {
            String id = dataDir.relativize(f).toString().replace('\\', '/').replaceAll("\\.csv$", "");
            SensorCsv.Result r = SensorCsv.read(f);
            if (!r.problems().isEmpty()) {
                throw new ConfigException("NAB file " + f + " has rows that cannot be read: " + r.problems().get(0)
                        + ". Fix the file: NAB scoring needs one result row per input row.");
            }
            streams.put(id, r);
            rows += r.rows().size();
        }

        int values = valueColumns(streams);
        if (values > 1) {
            if (!(base.settings() instanceof io.engram.engine.pipeline.anomaly.ForecastSettings fs)) {
                throw new ConfigException("Files of " + values + " value columns need an anomaly pipeline; this one is of type "
                        + base.kind().type() + ". Fix: pass --config topology/sensor-anomaly.yaml.");
            }
            base = base.withSettings(fs.withValues(values));
        }
        PipelineSpec cfg = base.withApplicationId("engram-nab-" + UUID.randomUUID())
                .withOutOfOrder(io.engram.engine.config.OutOfOrder.PROCESS)
                .withThreads(2);
        Path stateDir = Files.createTempDirectory("engram-nab-state-");
        long t0 = System.nanoTime();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bootstrap = kafka.bootstrapServers();
            try (PipelineRunner runner = PipelineRunner.start(cfg, bootstrap, stateDir, new SimpleMeterRegistry())) {
                produce(bootstrap, cfg.topics().name(AnomalyPipeline.INPUT), streams, values > 1);
                Map<String, String[]> reasons = new HashMap<>();
                Map<String, double[]> scores = collect(bootstrap, cfg.topics().name(ForecastHead.PREDICTIONS), streams, rows, progress,
                        reasons, () -> stopped(runner), () -> inputProgress(bootstrap, cfg.topics().name(AnomalyPipeline.INPUT), cfg.applicationId())
                                + "; " + offsetsSum(bootstrap, cfg.topics().deadLetter()) + " offsets on " + cfg.topics().deadLetter());
                write(outDir, streams, scores, reasons, values > 1);
            }
        } finally {
            deleteQuietly(stateDir);
        }
        return new Report(files.size(), rows, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The number of value columns, the same in every file.
     *
     * @throws ConfigException when the files do not all have the same number of value columns
     */
    private static int valueColumns(Map<String, SensorCsv.Result> streams) {
        java.util.Set<Integer> counts = new java.util.TreeSet<>();
        streams.values().forEach(r -> counts.add(r.channels()));
        counts.remove(0);
        if (counts.size() > 1) {
            throw new ConfigException("The CSVs under --data have different numbers of value columns " + counts
                    + ". Fix: replay files of one layout per run (e.g. NAB's timestamp,value and a multivariate set apart).");
        }
        return counts.isEmpty() ? 1 : counts.iterator().next();
    }

    /** Each row as one reading; a vector reading carries its file's column names. */
    private static void produce(String bootstrap, String topic, Map<String, SensorCsv.Result> streams, boolean vectors) {
        io.engram.engine.pipeline.anomaly.VectorReadingSerde serde = new io.engram.engine.pipeline.anomaly.VectorReadingSerde();
        Map<String, Object> p = Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Exception> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        try (KafkaProducer<String, byte[]> producer = io.engram.tools.kafka.KafkaClients.keyedProducer(bootstrap, p)) {
            for (var e : streams.entrySet()) {
                List<String> names = e.getValue().valueNames();
                for (SensorCsv.Row row : e.getValue().rows()) {
                    byte[] value = !vectors
                            ? String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", row.ts(), Double.toString(row.values()[0]))
                                    .getBytes(StandardCharsets.UTF_8)
                            : serde.serialize(topic, new io.engram.engine.pipeline.anomaly.VectorReading(row.ts(), row.values(), names));
                    producer.send(new ProducerRecord<>(topic, null, row.ts(), e.getKey(), value), (meta, error) -> {
                        if (error != null) {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, error);
                        }
                    });
                }
            }
            producer.flush();
        }
        if (failed.get() > 0) {
            // A lost input row would leave its prediction missing and the collector waiting: say so now.
            throw new IllegalStateException("NAB replay: " + failed.get() + " input rows were not written to " + topic + ": "
                    + firstFailure.get(), firstFailure.get());
        }
    }

    /** Why the pipeline no longer processes (its state and failure), or null while it runs. */
    static String stopped(PipelineRunner runner) {
        org.apache.kafka.streams.KafkaStreams.State s = runner.streams().state();
        if (s.isRunningOrRebalancing() || s == org.apache.kafka.streams.KafkaStreams.State.CREATED) {
            return null;
        }
        String why = runner.failure();
        return "the pipeline is " + s + (why == null ? "" : ": " + why);
    }

    /**
     * Reads predictions until every row has one. It fails at once, with the cause, when the pipeline
     * stops on its own ({@code stopped} returns non-null), and after 3 minutes without a prediction
     * otherwise, naming the pipeline's state and how far the reader got in each partition (against
     * the committed end), so that a stall in a build log can be told from a crash.
     */
    private static Map<String, double[]> collect(String bootstrap, String topic, Map<String, SensorCsv.Result> streams, long total,
            PrintStream progress, Map<String, String[]> reasons, java.util.function.Supplier<String> stopped,
            java.util.function.Supplier<String> input) {
        Map<String, double[]> scores = new HashMap<>();
        streams.forEach((k, v) -> scores.put(k, new double[3 * v.rows().size()]));
        streams.forEach((k, v) -> reasons.put(k, new String[v.rows().size()]));
        JsonSerde<ForecastPrediction> serde = new JsonSerde<>(ForecastPrediction.class);
        Map<String, java.util.BitSet> seen = new HashMap<>();
        long got = 0;
        long lastProgress = 0;
        long idleSince = System.nanoTime();
        try (KafkaConsumer<String, byte[]> c = io.engram.tools.kafka.KafkaClients.outputReader(bootstrap,
                "engram-nab-collect-" + UUID.randomUUID(), Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000))) {
            c.subscribe(List.of(topic));
            while (got < total) {
                var batch = c.poll(Duration.ofMillis(500));
                if (batch.isEmpty()) {
                    String why = stopped.get();
                    if (why != null) {
                        throw new IllegalStateException("NAB replay: " + got + " of " + total + " predictions, and " + why);
                    }
                    if (System.nanoTime() - idleSince > Duration.ofMinutes(3).toNanos()) {
                        throw new IllegalStateException("NAB replay stalled: " + got + " of " + total
                                + " predictions after 3 idle minutes, the pipeline still running; " + input.get()
                                + "; predictions read/committed end per partition: " + positions(c));
                    }
                    continue;
                }
                idleSince = System.nanoTime();
                for (ConsumerRecord<String, byte[]> r : batch) {
                    ForecastPrediction pr = serde.deserialize(topic, r.value());
                    double[] s = scores.get(pr.stream());
                    if (s == null || pr.step() < 0 || pr.step() >= s.length / 3) {
                        throw new IllegalStateException("NAB replay: a prediction for " + pr.stream() + " step " + pr.step()
                                + " that no input row asked for");
                    }
                    // Every row is scored exactly once: a second prediction for a row would mean a step
                    // applied twice, and counting it would leave another row unscored.
                    java.util.BitSet done = seen.computeIfAbsent(pr.stream(), k -> new java.util.BitSet());
                    if (done.get((int) pr.step())) {
                        throw new IllegalStateException("NAB replay: two predictions for " + pr.stream() + " step " + pr.step());
                    }
                    done.set((int) pr.step());
                    int at = 3 * (int) pr.step();
                    s[at] = nabScore(pr);
                    s[at + 1] = pr.rawScore();
                    // The alert flag and the reasons, for the synthetic suite and whoever studies the detector.
                    s[at + 2] = pr.anomaly() ? 1 : 0;
                    reasons.get(pr.stream())[(int) pr.step()] = pr.reasons() == null ? "" : String.join("|", pr.reasons());
                    got++;
                }
                if (progress != null && got - lastProgress >= 10_000) {
                    lastProgress = got;
                    progress.printf("engram nab: %d / %d rows scored%n", got, total);
                }
            }
        }
        return scores;
    }

    /** How many input records the topic holds and how many of them the pipeline has committed as consumed. */
    static String inputProgress(String bootstrap, String topic, String group) {
        try (org.apache.kafka.clients.admin.Admin admin = io.engram.tools.kafka.KafkaClients.admin(bootstrap)) {
            long end = endOffsets(admin, topic);
            long consumed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, java.util.concurrent.TimeUnit.SECONDS)
                    .entrySet().stream().filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset()).sum();
            return "input " + topic + " holds " + end + " records, " + consumed + " consumed and committed by the pipeline";
        } catch (Exception e) {
            return "input progress unknown (" + e + ")";
        }
    }

    /** The sum of the end offsets of {@code topic}'s partitions (records, and transaction markers where written in transactions). */
    private static long endOffsets(org.apache.kafka.clients.admin.Admin admin, String topic) throws Exception {
        var parts = admin.describeTopics(List.of(topic)).allTopicNames().get(30, java.util.concurrent.TimeUnit.SECONDS).get(topic)
                .partitions().stream().map(pi -> new org.apache.kafka.common.TopicPartition(topic, pi.partition())).toList();
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new HashMap<>();
        parts.forEach(tp -> latest.put(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()));
        return admin.listOffsets(latest).all().get(30, java.util.concurrent.TimeUnit.SECONDS).values().stream()
                .mapToLong(org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
    }

    /** {@link #endOffsets} of {@code topic} as text: dead letters, which get no prediction, show in a stall's message. */
    static String offsetsSum(String bootstrap, String topic) {
        try (org.apache.kafka.clients.admin.Admin admin = io.engram.tools.kafka.KafkaClients.admin(bootstrap)) {
            return String.valueOf(endOffsets(admin, topic));
        } catch (Exception e) {
            return "unknown (" + e + ")";
        }
    }

    /** {@code partition=position/end} for each assigned partition (the end as a read_committed reader sees it). */
    private static String positions(KafkaConsumer<String, byte[]> c) {
        try {
            var ends = c.endOffsets(c.assignment(), Duration.ofSeconds(10));
            StringBuilder b = new StringBuilder();
            new java.util.TreeMap<>(ends.entrySet().stream().collect(java.util.stream.Collectors.toMap(e -> e.getKey().partition(),
                    e -> c.position(e.getKey(), Duration.ofSeconds(10)) + "/" + e.getValue()))).forEach((p, v) -> b.append(' ').append(p).append('=').append(v));
            return b.toString().trim();
        } catch (RuntimeException e) {
            return "unknown (" + e + ")";
        }
    }

    /**
     * NAB counts every flagged row outside a window as a false positive, and only the first
     * detection inside one: so a row scores its full {@code score} only where the pipeline raised
     * an alert (repeats of an incident are suppressed), and half of it elsewhere. The map is
     * monotone in the score within each group, and every alert outranks every non-alert.
     */
    public static double nabScore(ForecastPrediction p) {
        return p.anomaly() ? p.score() : 0.5 * p.score();
    }

    private static void write(Path outDir, Map<String, SensorCsv.Result> streams, Map<String, double[]> scores,
            Map<String, String[]> reasons, boolean vectors) throws IOException {
        for (var e : streams.entrySet()) {
            Path f = outDir.resolve(e.getKey() + ".csv");
            Files.createDirectories(f.getParent());
            double[] s = scores.get(e.getKey());
            String[] why = reasons.get(e.getKey());
            List<SensorCsv.Row> rows = e.getValue().rows();
            try (BufferedWriter w = Files.newBufferedWriter(f, StandardCharsets.UTF_8)) {
                // NAB's scorers read timestamp and anomaly_score and ignore other columns: raw_score
                // (the normalised forecast error), alert (0/1) and reasons are there for whoever
                // studies the detector.
                w.write(!vectors ? "timestamp,value"
                        : "timestamp," + String.join(",", e.getValue().valueNames().stream().map(NabReplay::csvField).toList()));
                w.write(",anomaly_score,raw_score,alert,reasons\n");
                for (int i = 0; i < rows.size(); i++) {
                    SensorCsv.Row row = rows.get(i);
                    w.write(row.timestampText());
                    w.write(',');
                    for (int c = 0; c < row.values().length; c++) {
                        w.write(Double.toString(row.values()[c]));
                        w.write(',');
                    }
                    w.write(String.format(Locale.ROOT, "%.8f,%.9g,%d,", s[3 * i], s[3 * i + 1], (int) s[3 * i + 2]));
                    w.write(csvField(why[i]));
                    w.write('\n');
                }
            }
        }
    }

    /** A CSV field, quoted when it holds a comma or a quote. */
    private static String csvField(String f) {
        return f.indexOf(',') < 0 && f.indexOf('"') < 0 ? f : '"' + f.replace("\"", "\"\"") + '"';
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // temp dir
        }
    }

}

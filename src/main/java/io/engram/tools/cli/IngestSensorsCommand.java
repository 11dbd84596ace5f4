package io.engram.tools.cli;

import io.engram.engine.errors.ConfigException;
import io.engram.tools.console.ProgressBar;
import io.engram.tools.console.Shutdown;
import io.engram.tools.ingest.SensorCsv;
import io.engram.tools.ingest.SensorReplay;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.tools.ingest.video.VideoReplay;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code engram ingest sensors}: replays a sensor CSV file into a topic. Wiring only: parsing is
 * {@link SensorCsv}'s and sending {@link SensorReplay}'s, which the tests call.
 */
@Command(name = "sensors", mixinStandardHelpOptions = true,
        description = {"Replay a CSV file of sensor readings into a topic.",
            "",
            "One record per row, in file order: key = the stream id,",
            "value = {\"ts\": epoch ms, \"values\": [...]}, record timestamp = ts,",
            "header engram.source = FILE:LINE.",
            "Formats: NAB's `timestamp,value` (times like 2015-07-10 14:24:00), or",
            "`timestamp,c1,c2,...` for several channels; the header line is optional.",
            "Times are epoch ms or ISO-8601, UTC when they have no zone. Bad rows",
            "(wrong column count, bad number or time) are skipped with a warning",
            "naming FILE:LINE, and counted in the summary.",
            ""},
        footer = {"", "Examples:",
            "  ./engram ingest sensors -f nyc_taxi.csv -t sensor-readings -b localhost:9092",
            "  ./engram ingest sensors -f machine.csv --stream m1 -t sensor-readings \\",
            "      -b localhost:9092 --speed 60"})
public final class IngestSensorsCommand implements Callable<Integer> {
    /** At most this many skipped-row warnings are printed; the summary counts them all. */
    static final int MAX_WARNINGS = 20;

    @Option(names = {"--file", "-f"}, required = true, paramLabel = "FILE.csv", description = "CSV file to replay.")
    Path file;

    @Option(names = "--stream", paramLabel = "ID", description = "Stream id, the record key (default: the file name without its extension).")
    String stream;

    @Option(names = {"--topic", "-t"}, required = true, paramLabel = "TOPIC", description = "Topic to write to (e.g. the pipeline's input, sensor-readings).")
    String topic;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Option(names = "--speed", paramLabel = "max|N", defaultValue = "max", converter = SpeedConverter.class,
            description = "max = as fast as possible (default); N = N times the recorded speed (--speed 60 plays an hour a minute).")
    double speed;

    @Mixin
    CreateTopicOption createTopic = new CreateTopicOption();

    @Option(names = "--no-progress", description = "Do not draw the progress bar on stderr.")
    boolean noProgress;

    @Override
    public Integer call() {
        if (kafka.printed(System.out)) {
            return 0;
        }
        // The file first: it is the likeliest mistake, and needs no broker to report.
        SensorCsv.Result csv = SensorCsv.read(file);
        String source = file.getFileName().toString();
        String streamId = stream != null ? stream : defaultStreamId(file);
        if (streamId.isBlank()) {
            throw new ConfigException("the stream id is empty; give one with --stream");
        }
        warn(System.err, csv);
        checkSizes(csv, streamId, source);

        createTopic.ensure(kafka, topic, "start the pipeline first (engram run creates its topics)", System.err);

        // Ctrl-C: stop after the current row, flush what was sent and print the summary.
        try (Shutdown shutdown = Shutdown.onCtrlC("engram-ingest-shutdown", Duration.ofSeconds(30));
                KafkaProducer<byte[], byte[]> producer = SensorReplay.producer(kafka.bootstrap(), kafka.client())) {
            int total = csv.rows().size();
            ProgressBar bar = noProgress || total == 0 ? null : new ProgressBar(System.err, total, "rows");
            SensorReplay.Summary s = SensorReplay.send(csv.rows(), streamId, source, topic, producer, speed,
                    n -> {
                        if (bar != null) {
                            bar.update(n);
                        }
                    }, shutdown::running);
            if (bar != null) {
                bar.finish(s.sent());
            }
            System.out.println(summary(s, csv, streamId, topic));
            return 0;
        }
    }

    /**
     * Refuses, before anything is sent, a stream id the pipelines would dead-letter (over
     * {@link InputKeyDeserializer#MAX_KEY_BYTES}) and rows whose records Kafka would refuse (over
     * {@link VideoReplay#MAX_RECORD_BYTES}, within Kafka's default 1 MB limit): every row has as many
     * columns, so such a file cannot be sent in part.
     */
    private void checkSizes(SensorCsv.Result csv, String streamId, String source) {
        int keyBytes = streamId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (keyBytes > InputKeyDeserializer.MAX_KEY_BYTES) {
            throw new ConfigException(String.format(Locale.ROOT, "the stream id is %d bytes; Engram's pipelines dead-letter keys over"
                    + " %d bytes. Fix: give a shorter id with --stream", keyBytes, InputKeyDeserializer.MAX_KEY_BYTES));
        }
        for (SensorCsv.Row row : csv.rows()) {
            int size = VideoReplay.recordSize(SensorReplay.record(topic, streamId, source, row));
            if (size > VideoReplay.MAX_RECORD_BYTES) {
                throw new ConfigException(String.format(Locale.ROOT, "%s line %d: its record would be %,d bytes, over Kafka's"
                        + " default limit (%,d bytes are sent at most). Fix: keep only the columns of the model's channels"
                        + " (one for the shipped model)", file, row.line(), size, VideoReplay.MAX_RECORD_BYTES));
            }
        }
    }

    /** {@code data/nyc_taxi.csv} -> {@code nyc_taxi}. */
    static String defaultStreamId(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    static void warn(PrintStream err, SensorCsv.Result csv) {
        int shown = 0;
        for (String p : csv.problems()) {
            if (shown++ == MAX_WARNINGS) {
                err.printf("engram: warning: ... and %d more skipped rows (counted in the summary)%n", csv.skipped() - MAX_WARNINGS);
                break;
            }
            err.println("engram: warning: " + p + "; row skipped");
        }
    }

    static String summary(SensorReplay.Summary s, SensorCsv.Result csv, String streamId, String topic) {
        double secs = s.elapsed().toNanos() / 1e9;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "engram: sent %d rows of stream '%s' to topic '%s' in %.1f s (%,.0f rows/s)",
                s.sent(), streamId, topic, secs, secs > 0 ? s.sent() / secs : 0.0));
        if (s.stopped()) {
            sb.append(String.format(Locale.ROOT, ", stopped early: %d of %d rows not sent", csv.rows().size() - s.sent(), csv.rows().size()));
        }
        sb.append("; skipped ").append(csv.skipped()).append(csv.skipped() == 1 ? " row" : " rows");
        if (csv.skipped() > 0) {
            sb.append(" (").append(csv.skippedSummary()).append(')');
        }
        return sb.toString();
    }

    /** {@code max} -> 0 (no pacing); a positive number -> that speed-up factor. */
    static final class SpeedConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            if (value.equalsIgnoreCase("max")) {
                return 0.0;
            }
            try {
                double d = Double.parseDouble(value);
                if (d > 0 && Double.isFinite(d)) {
                    return d;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new TypeConversionException("'" + value + "' is not 'max' or a positive number (e.g. 60 = an hour of data per minute)");
        }
    }
}

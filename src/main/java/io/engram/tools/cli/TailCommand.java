package io.engram.tools.cli;

import io.engram.engine.errors.ConfigException;
import io.engram.tools.console.Shutdown;
import io.engram.tools.kafka.KafkaAccess;
import io.engram.tools.tail.PoseDraw;
import io.engram.tools.tail.TopicTail;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code engram tail}: prints a topic's records as JSON lines. Wiring only: the consumer and the
 * JSON are {@link TopicTail}'s, which the tests call.
 */
@Command(name = "tail", mixinStandardHelpOptions = true,
        description = {"Print a topic's records as JSON lines, as they arrive.",
            "",
            "One object per record (pipe it to jq):",
            "  {\"topic\", \"partition\", \"offset\", \"key\", \"timestamp\",",
            "   \"headers\": {name: value}, \"value\"}",
            "The value is embedded as JSON when it is JSON, else a UTF-8 string",
            "(\"value_base64\" when it is binary). Reads committed records only",
            "(isolation.level=read_committed), from all partitions. Starts at the end",
            "of the topic unless --from-beginning; runs until Ctrl-C, --max or --timeout.",
            "",
            "--draw DIR (with --topic person-poses): writes each camera frame with its",
            "people drawn on it (skeleton, track id, activity label) as DIR/<camera>/<seq>.jpg,",
            "joining person-poses with the frames (--frames-topic) and the labels",
            "(--activity-topic) by camera and frame; prints one JSON line per file; --max",
            "counts frames.",
            ""},
        footer = {"", "Examples:", "  ./engram tail -t sensor-anomalies -b localhost:9092 --from-beginning \\", "      --timeout 5 | jq -c .value",
            "  ./engram tail -t person-poses --draw /tmp/people -b localhost:9092 --from-beginning --timeout 5"})
public final class TailCommand implements Callable<Integer> {
    @Option(names = {"--topic", "-t"}, required = true, paramLabel = "TOPIC", description = "Topic to read.")
    String topic;

    @Mixin
    KafkaOptions kafka = new KafkaOptions();

    @Option(names = "--from-beginning", description = "Start at the earliest records rather than at the end (with --group: when the group has no committed offsets).")
    boolean fromBeginning;

    @Option(names = "--max", paramLabel = "N", description = "Stop after N records.")
    Long max;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Stop after this many seconds without a new record (default: run until Ctrl-C).")
    Double timeoutSeconds;

    @Option(names = "--group", paramLabel = "GROUP", description = "Consumer group to read as, committing offsets so that the next tail resumes"
            + " (default: none; reads all partitions, commits nothing).")
    String group;

    @Option(names = "--draw", paramLabel = "DIR",
            description = "Draw people: --topic is a person-poses topic; write each frame with its people drawn as DIR/<camera>/<seq>.jpg.")
    Path draw;

    @Option(names = "--frames-topic", paramLabel = "TOPIC", defaultValue = "video-frames",
            description = "With --draw: the frames the poses came from (default: ${DEFAULT-VALUE}).")
    String framesTopic;

    @Option(names = "--activity-topic", paramLabel = "TOPIC", defaultValue = "person-activity",
            description = "With --draw: each person's activity per frame, drawn beside their track id; 'none' to draw without (default: ${DEFAULT-VALUE}).")
    String activityTopic;

    @Override
    public Integer call() {
        if (kafka.printed(System.out)) {
            return 0;
        }
        if (max != null && max < 1) {
            throw new ConfigException("--max " + max + " must be at least 1; leave it out to read until Ctrl-C");
        }
        if (timeoutSeconds != null && !(timeoutSeconds > 0)) {
            throw new ConfigException("--timeout " + timeoutSeconds + " must be more than 0 seconds; leave it out to read until Ctrl-C");
        }
        Duration idle = timeoutSeconds == null ? null : Duration.ofMillis((long) (timeoutSeconds * 1000));
        if (draw != null) {
            return draw(idle);
        }
        TopicTail.Options options = new TopicTail.Options(kafka.bootstrap(), topic, fromBeginning, max, idle, group, kafka.client());

        PrintStream out = System.out;
        // Ctrl-C: stop polling and let run() return, so that the consumer closes (and commits) cleanly.
        try (Shutdown shutdown = Shutdown.onCtrlC("engram-tail-shutdown", Duration.ofSeconds(10));
                TopicTail tail = TopicTail.open(options, KafkaAccess.DEFAULT_TIMEOUT)) {
            System.err.printf("engram: tailing %s (%d partition%s) on %s from the %s%s%n", topic, tail.partitions(),
                    tail.partitions() == 1 ? "" : "s", kafka.bootstrap(), fromBeginning ? "beginning" : "end",
                    max == null && idle == null ? "; Ctrl-C to stop" : "");
            tail.run(line -> {
                out.println(line);
                if (out.checkError()) {
                    shutdown.stop(); // the reader went away (e.g. `| head`): stop instead of printing into nothing
                }
            }, shutdown::running);
            out.flush();
            return 0;
        }
    }

    private int draw(Duration idle) {
        if (group != null) {
            throw new ConfigException("--draw reads the three topics from the beginning or the end; it takes no --group. Fix: leave out --group");
        }
        String activity = activityTopic.equals("none") ? null : activityTopic;
        PoseDraw.Options o = new PoseDraw.Options(kafka.bootstrap(), topic, framesTopic, activity, draw, fromBeginning, max, idle,
                kafka.client());
        PrintStream out = System.out;
        try (Shutdown shutdown = Shutdown.onCtrlC("engram-tail-shutdown", Duration.ofSeconds(10));
                PoseDraw d = PoseDraw.open(o, KafkaAccess.DEFAULT_TIMEOUT)) {
            System.err.printf("engram: drawing %s on the frames of %s%s into %s, from the %s%s%n", topic, framesTopic,
                    activity == null ? "" : " with the labels of " + activity, draw, fromBeginning ? "beginning" : "end",
                    max == null && idle == null ? "; Ctrl-C to stop" : "");
            long n = d.run(line -> {
                out.println(line);
                if (out.checkError()) {
                    shutdown.stop();
                }
            }, shutdown::running);
            out.flush();
            System.err.printf("engram: %d frames drawn into %s%n", n, draw);
            return 0;
        }
    }
}

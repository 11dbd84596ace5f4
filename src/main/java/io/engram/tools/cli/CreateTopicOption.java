package io.engram.tools.cli;

import io.engram.tools.kafka.KafkaAccess;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/**
 * {@code --create-topic} of the commands that write to a topic of the user's cluster ({@code ingest
 * sensors}, {@code ingest video}), with the check it changes. A picocli mixin, declared where the
 * option stands in the command's help.
 */
public final class CreateTopicOption {
    @Option(names = "--create-topic", description = "Create the topic (4 partitions) if it does not exist, rather than failing.")
    boolean createTopic;

    /**
     * Makes sure {@code topic} exists before anything is sent: creates it with {@code --create-topic},
     * else stops with a message that names {@code fix} (the command's own advice) and the option.
     */
    void ensure(KafkaOptions kafka, String topic, String fix, PrintStream err) {
        KafkaAccess.ensureTopic(kafka.bootstrap(), kafka.client(), topic, createTopic, fix, err);
    }
}

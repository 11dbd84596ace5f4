package io.engram.tools.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code engram ingest}: a parent for the commands that load recorded data into Kafka, one
 * subcommand per kind of data. Alone, it prints its usage.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true,
        description = {"Replay recorded data into a Kafka topic.",
            "",
            "Writes records in the format Engram's pipelines read.",
            "See `engram ingest sensors --help` for CSV sensor series and",
            "`engram ingest video --help` for video files, RTSP cameras, V4L2 devices and image directories.",
            ""},
        subcommands = {IngestSensorsCommand.class, IngestVideoCommand.class})
public final class IngestCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

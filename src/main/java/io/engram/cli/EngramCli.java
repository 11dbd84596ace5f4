package io.engram.cli;

import io.engram.errors.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code engram} command. Only wiring: every subcommand calls the same functions
 * the tests call. A {@link ConfigException} (bad file, missing model, unreachable broker) is printed
 * as one clear line and exits with status 2; other failures exit 1.
 */
@Command(
        name = "engram",
        mixinStandardHelpOptions = true,
        version = "engram 0.1.0",
        description = {
            "Real-time sequence analytics on Kafka: a stateful recurrent model (ONNX) steps once per record,",
            "its hidden state kept exactly-once in Kafka Streams state stores.",
            "",
            "Quick start:  ./engram demo --seconds 60"
        },
        subcommands = {
            DemoCommand.class,
            RunCommand.class,
            BrokerCommand.class,
            TailCommand.class,
            IngestCommand.class,
            NabCommand.class,
            AnomalySuiteCommand.class,
            BenchCommand.class,
            SoakCommand.class,
            CommandLine.HelpCommand.class
        })
public final class EngramCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new EngramCli());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            ConfigException ce = findConfig(ex);
            if (ce != null) {
                // One line, whatever the message quotes (a parser's excerpt, a native library's report).
                commandLine.getErr().println("engram: " + ce.getMessage().strip().replaceAll("\\s*\\R\\s*", " "));
                return 2;
            }
            commandLine.getErr().println("engram: " + ex);
            ex.printStackTrace(commandLine.getErr());
            return 1;
        });
        return cl;
    }

    private static ConfigException findConfig(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof ConfigException c) {
                return c;
            }
        }
        return null;
    }

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        System.exit(code);
    }
}

package io.engram.tools.cli;

import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.KafkaProperties;
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
                // A URL's user info never reaches the terminal or a log (KafkaProperties.redactUrls: the one rule).
                commandLine.getErr().println("engram: " + KafkaProperties.redactUrls(ce.getMessage().strip().replaceAll("\\s*\\R\\s*", " ")));
                return 2;
            }
            java.io.StringWriter trace = new java.io.StringWriter();
            ex.printStackTrace(new java.io.PrintWriter(trace));
            commandLine.getErr().println("engram: " + KafkaProperties.redactUrls(String.valueOf(ex)));
            commandLine.getErr().print(KafkaProperties.redactUrls(trace.toString()));
            commandLine.getErr().flush();
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
        logLevelsFromEnvironment(System.getenv());
        int code = commandLine().execute(args);
        System.exit(code);
    }

    /**
     * {@code ENGRAM_LOG_LEVEL} (Engram's own loggers) and {@code ENGRAM_KAFKA_LOG_LEVEL} (Kafka's):
     * trace, debug, info, warn, error or off, as system properties, which slf4j-simple reads before
     * its properties file. Must run before the first logger is made.
     */
    static void logLevelsFromEnvironment(java.util.Map<String, String> env) {
        String engram = env.get("ENGRAM_LOG_LEVEL");
        if (engram != null && !engram.isBlank()) {
            System.setProperty("org.slf4j.simpleLogger.log.io.engram", engram.trim().toLowerCase(java.util.Locale.ROOT));
        }
        String kafka = env.get("ENGRAM_KAFKA_LOG_LEVEL");
        if (kafka != null && !kafka.isBlank()) {
            String level = kafka.trim().toLowerCase(java.util.Locale.ROOT);
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", level);
            System.setProperty("org.slf4j.simpleLogger.log.kafka", level);
            // The loggers simplelogger.properties quiets (start-up noise) follow the chosen level too.
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka.clients.producer.internals.Sender", level);
        }
    }
}

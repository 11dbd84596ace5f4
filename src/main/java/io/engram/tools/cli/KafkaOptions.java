package io.engram.tools.cli;

import io.engram.engine.kafka.KafkaProperties;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The Kafka connection options of every command that talks to a user's cluster ({@code run},
 * {@code tail}, {@code ingest sensors}, {@code ingest video}): the bootstrap servers, and client
 * properties for every client the command makes, admin clients included, as Kafka's own tools take
 * them. A picocli mixin; {@link #client()} is what the command passes on.
 */
public final class KafkaOptions {
    @Option(names = {"--bootstrap-servers", "--bootstrap-server", "-b"}, required = true, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers, HOST:PORT[,...] (--bootstrap-server, as Kafka's tools spell it, works too).")
    String bootstrap;

    @Option(names = "--command-config", paramLabel = "FILE",
            description = {"Kafka client properties for every client this command makes, admin clients included (a Java",
                "properties file, as Kafka's tools take): security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, ...",
                "A value may name an environment variable as $${NAME}, to keep secrets out of files."})
    Path commandConfig;

    @Option(names = "-X", paramLabel = "KEY=VALUE", description = "A Kafka client property, over --command-config's; repeatable.")
    Map<String, String> extra = new LinkedHashMap<>();

    @Option(names = "--print-config", description = "Print the effective Kafka client settings (secrets hidden) and exit.")
    boolean printConfig;

    /** {@link #client()}, resolved on its first call: the file is read, and ${NAME} replaced, once a run. */
    private Map<String, String> client;

    public String bootstrap() {
        return bootstrap;
    }

    /** The client properties, read-only: the --command-config file's, then each -X over them, ${NAME} replaced. */
    public Map<String, String> client() {
        if (client == null) {
            Map<String, String> out = new LinkedHashMap<>();
            if (commandConfig != null) {
                out.putAll(KafkaProperties.load(InstallPaths.resolve(commandConfig), System::getenv));
            }
            extra.forEach((k, v) -> out.put(k.trim(), KafkaProperties.substitute(v, System::getenv, "-X " + k)));
            client = Collections.unmodifiableMap(out);
        }
        return client;
    }

    /** {@link #printed(Map, PrintStream)} of {@link #client()}: for the commands that add no settings of their own. */
    public boolean printed(PrintStream out) {
        return printed(client(), out);
    }

    /**
     * With {@code --print-config}: prints {@code settings} (the bootstrap servers and every client
     * property, secrets hidden) and returns true, so that the command stops there.
     */
    public boolean printed(Map<String, String> settings, PrintStream out) {
        if (!printConfig) {
            return false;
        }
        out.println("bootstrap.servers=" + bootstrap);
        KafkaProperties.masked(settings).forEach((k, v) -> out.println(k + "=" + v));
        return true;
    }
}

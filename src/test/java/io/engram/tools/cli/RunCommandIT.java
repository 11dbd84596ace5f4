package io.engram.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.testkit.KafkaTestClient;
import io.engram.tools.broker.EmbeddedKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code engram run} through the real command line, on an in-process broker: it starts, processes and stays up until stopped. */
class RunCommandIT {
    @TempDir
    Path stateDir;

    @Test
    void engramRunStartsThePipelineStepsReadingsAndKeepsRunningUntilStopped() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String b = kafka.bootstrapServers();
            StringWriter err = new StringWriter();
            CommandLine cl = EngramCli.commandLine();
            cl.setErr(new PrintWriter(err, true));
            AtomicInteger code = new AtomicInteger(-1);
            Thread run = new Thread(() -> code.set(cl.execute("run", "--bootstrap-servers", b, "--metrics-port", "0",
                    "--state-dir", stateDir.toString(), "--application-id", "run-it")), "engram-run-it");
            run.start();
            try {
                awaitTopic(b, "sensor-readings");
                try (KafkaProducer<byte[], byte[]> p = KafkaTestClient.producer(b)) {
                    for (int i = 0; i < 5; i++) {
                        p.send(KafkaTestClient.reading("sensor-readings", "s", 1_000L * i, i));
                    }
                }
                assertEquals(5, KafkaTestClient.readCommitted(b, "sensor-predictions", 5, Duration.ofSeconds(60)).size(),
                        "one prediction per reading; stderr: " + err);
                assertTrue(run.isAlive(), "engram run keeps running; exit " + code.get() + ", stderr: " + err);
            } finally {
                run.interrupt();
                run.join(TimeUnit.SECONDS.toMillis(60));
            }
            assertEquals(0, code.get(), "stopped cleanly; stderr: " + err);
            assertEquals("", err.toString());
        }
    }

    private static void awaitTopic(String bootstrap, String topic) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!admin.listTopics().names().get().contains(topic)) {
                assertTrue(System.nanoTime() < deadline, "engram run created " + topic);
                Thread.sleep(100);
            }
        }
    }
}

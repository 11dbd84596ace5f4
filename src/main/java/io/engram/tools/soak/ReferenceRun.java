package io.engram.tools.soak;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.kafka.KafkaClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The uninterrupted run the soak compares against: every pipeline in this JVM, on a broker of its
 * own, over the whole input at once. It sets each lane's {@link SoakLane#reference} and checks it
 * (one prediction per good record, one dead letter per bad one). Owns its broker, producer and
 * pipelines, all closed before {@link #run} returns or throws.
 */
final class ReferenceRun {
    private final List<SoakLane> lanes;
    private final Path work;
    private final SoakLog log;

    private ReferenceRun(List<SoakLane> lanes, Path work, SoakLog log) {
        this.lanes = lanes;
        this.work = work;
        this.log = log;
    }

    /** Runs the reference of every lane; their state goes under {@code work}. */
    static void run(List<SoakLane> lanes, Path work, SoakLog log) throws Exception {
        long t = System.nanoTime();
        new ReferenceRun(lanes, work, log).runOnOwnBroker();
        log.say("reference runs done in %.1f s", (System.nanoTime() - t) / 1e9);
    }

    private void runOnOwnBroker() throws Exception {
        try (EmbeddedKafka ref = EmbeddedKafka.start(0, null, true)) {
            List<PipelineRunner> runners = new ArrayList<>();
            try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(ref.bootstrapServers())) {
                for (SoakLane l : lanes) {
                    runners.add(PipelineRunner.start(l.spec.withMetricsPort(0), ref.bootstrapServers(),
                            work.resolve("reference-state"), new SimpleMeterRegistry()));
                }
                awaitRunning(runners);
                send(producer);
                for (SoakLane l : lanes) {
                    l.reference = l.settleAndRead(ref.bootstrapServers());
                    check(l);
                }
            } finally {
                runners.forEach(PipelineRunner::close);
            }
        }
    }

    private static void awaitRunning(List<PipelineRunner> runners) throws InterruptedException {
        for (PipelineRunner r : runners) {
            if (!r.awaitRunning(Soak.START)) {
                throw new IllegalStateException("reference pipeline " + r.name() + " not running after " + Soak.START);
            }
        }
    }

    /** Every lane's whole input, at once. */
    private void send(KafkaProducer<byte[], byte[]> producer) {
        for (SoakLane l : lanes) {
            for (ProducerRecord<byte[], byte[]> r : l.input.records()) {
                producer.send(r);
            }
        }
        producer.flush();
    }

    /** One prediction per good record and one dead letter per bad one, or the reference itself is wrong. */
    private void check(SoakLane l) {
        int predictions = l.reference.total(ForecastHead.PREDICTIONS);
        int dead = l.reference.total(io.engram.engine.kafka.TopicRole.DEAD_LETTER);
        int bad = l.input.bad();
        if (predictions != l.input.good() || dead != bad) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "reference run of %s: %d predictions for %d good records, %d dead letters for %d bad ones",
                    l.name(), predictions, l.input.good(), dead, bad));
        }
        log.say("reference %s: %d input records -> %s", l.name(), l.input.records().size(), l.reference.summary());
    }
}

package io.engram.testkit;

import static io.engram.testkit.CrashHarness.DRAIN;
import static io.engram.testkit.CrashHarness.FAST_FAILOVER;
import static io.engram.testkit.CrashHarness.PREDICTIONS;
import static io.engram.testkit.CrashHarness.START;
import static io.engram.testkit.CrashHarness.YOUNG_TRANSACTION_MS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import io.engram.tools.kafka.KafkaClients;
import io.engram.tools.harness.EngramProcess;
import io.engram.tools.harness.Feeder;
import io.engram.tools.harness.RunOutputs;
import io.engram.tools.harness.TopicReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;

/**
 * One scenario of a {@link CrashHarness}: its own topics, pipeline file and application id, the
 * Engram processes it starts, and the {@link Feeder} that sends it the harness's input. A scenario's
 * body starts and kills instances ({@link #start}, {@link #killInTransaction}) and ends with
 * {@link #assertSameAsReference()}. {@link #close()} kills what still runs.
 */
public final class CrashScenario implements AutoCloseable {
    private final CrashHarness h;
    final String scenario;
    final String applicationId;
    final PipelineTopics topics;
    final Path yaml;
    final Path dir;
    public final List<ProducerRecord<byte[], byte[]>> input;
    final List<String> outputTopics;
    final List<EngramProcess> processes = new ArrayList<>();
    public final Feeder feeder;
    final long t0 = System.nanoTime();

    CrashScenario(CrashHarness h, String scenario, int standbys) {
        this.h = h;
        this.scenario = scenario;
        this.applicationId = "crash-it-" + h.name + "-" + scenario;
        this.topics = h.topics(scenario);
        this.yaml = h.yaml(scenario, standbys);
        this.dir = h.work.resolve(h.name + "-" + scenario);
        this.input = h.input.records(topics);
        this.outputTopics = CrashHarness.roles(topics, this.input, false).stream().map(topics::name).toList();
        h.createTopics(topics);
        this.feeder = new Feeder(h.broker.bootstrap(), this.input, h.chunk, h.pauseMs);
    }

    public int size() {
        return input.size();
    }

    /** Good records in the whole input. */
    public int good() {
        return CrashHarness.goodIn(input, input.size());
    }

    public Path stateDir(String instance) {
        return dir.resolve("state-" + instance);
    }

    /** Starts an instance named {@code process} with state directory {@code stateDir(instance)} and its own log. */
    public EngramProcess start(String process, String instance) {
        EngramProcess p = EngramProcess.start(process, yaml, h.broker.bootstrap(), stateDir(instance), dir.resolve(process + ".log"),
                FAST_FAILOVER);
        processes.add(p);
        log("started " + process);
        return p;
    }

    /**
     * Kills {@code p} with SIGKILL once {@code committed} predictions are committed and one of
     * its transactions is open on an output topic, young enough to stay open well past the kill;
     * then proves that the kill landed inside that transaction (the coordinator still has it
     * ongoing, with the same producer and epoch, once the process is dead), so that its writes,
     * already in the output partitions, must never become visible. Input keeps flowing at the
     * feeder's pace, up to the first {@code flowUpTo} records, from the moment {@code committed}
     * predictions are there: a pipeline that has caught up with its input opens no transaction.
     */
    public void killInTransaction(EngramProcess p, int committed, int flowUpTo) throws Exception {
        awaitPredictions(committed);
        feeder.allow(flowUpTo);
        List<String> ids = Transactions.ids(applicationId, p.processId(START), h.threads);
        try (Admin admin = KafkaClients.admin(h.broker.bootstrap())) {
            Transactions.Open open = Transactions.awaitYoungOpen(admin, ids, outputTopics, YOUNG_TRANSACTION_MS, DRAIN);
            int sent = feeder.sent();
            p.kill();
            long age = open == null ? -1 : open.ageMs();
            boolean still = open != null && Transactions.stillOpen(admin, open, outputTopics);
            String what = open == null ? "no open transaction of " + ids + " seen within " + DRAIN
                    : String.format(Locale.ROOT, "%s: transaction of %s (producer %d, epoch %d) on %s, %d ms old at the kill, %s after it",
                            scenario, open.transactionalId(), open.producerId(), open.producerEpoch(), open.outputPartitions(), age,
                            still ? "still open" : "NOT open");
            h.kills.add(what);
            log("killed " + p.name() + " (SIGKILL) with " + sent + " of " + input.size() + " input records sent, "
                    + TopicReader.count(h.broker.bootstrap(), topics.name(PREDICTIONS), IsolationLevel.READ_COMMITTED)
                    + " predictions committed and "
                    + TopicReader.count(h.broker.bootstrap(), topics.name(PREDICTIONS), IsolationLevel.READ_UNCOMMITTED) + " written; "
                    + what);
            assertTrue(still, "the kill must land inside an open transaction: " + what);
        }
    }

    /**
     * Sends the first {@code n} input records as fast as the producer goes, more than Engram
     * processes in that time, so that a kill that follows lands while it is busy; the rest goes
     * at the feeder's usual pace.
     */
    public void sendBacklog(int n) throws InterruptedException {
        feeder.pace(0);
        feeder.allow(n);
        feeder.awaitSent(n, DRAIN);
        feeder.normalPace();
        log(n + " records sent");
    }

    /** Waits until at least {@code n} predictions are committed. */
    public void awaitPredictions(int n) {
        int got = TopicReader.awaitAtLeast(h.broker.bootstrap(), topics.name(PREDICTIONS), n, DRAIN);
        if (got < n) {
            throw new AssertionError(scenario + ": " + got + " committed predictions after " + DRAIN + ", expected at least " + n);
        }
    }

    /**
     * Sends the rest of the input, waits until the output topics hold as many committed records
     * as the reference's and have settled, then compares every output topic with the reference's.
     */
    public void assertSameAsReference() throws Exception {
        feeder.allow(input.size());
        feeder.awaitSent(input.size(), DRAIN);
        RunOutputs reference = h.reference(scenario);
        Map<TopicRole, Integer> min = new LinkedHashMap<>();
        reference.roles().forEach(r -> min.put(r, reference.total(r)));
        RunOutputs got = CrashHarness.awaitOutputs(h.broker.bootstrap(), applicationId, topics, input, min);
        int written = TopicReader.count(h.broker.bootstrap(), topics.name(PREDICTIONS), IsolationLevel.READ_UNCOMMITTED);
        log("output: " + got.summary() + "; " + (written - got.total(PREDICTIONS)) + " prediction records written in aborted transactions");
        assertEquals(reference.roles(), got.roles(), "output roles");
        List<String> diffs = reference.diff(got);
        if (!diffs.isEmpty()) {
            throw new AssertionError(h.name + " scenario " + scenario + ": the output differs from the uninterrupted run's ("
                    + diffs.size() + " differences; reference " + reference.summary() + ", got " + got.summary() + "):\n  "
                    + String.join("\n  ", diffs.subList(0, Math.min(20, diffs.size()))));
        }
    }

    public void log(String what) {
        System.out.printf(Locale.ROOT, "[%s %s +%.1f s] %s%n", h.name, scenario, (System.nanoTime() - t0) / 1e9, what);
    }

    String logs() {
        StringBuilder b = new StringBuilder();
        for (EngramProcess p : processes) {
            b.append("----- ").append(p.name()).append(p.alive() ? " (alive)" : " (dead)").append(" -----\n")
                    .append(p.tail(80)).append('\n');
        }
        return b.toString();
    }

    @Override
    public void close() throws InterruptedException {
        feeder.close();
        for (EngramProcess p : processes) {
            p.close();
            log(p.name() + " active tasks, assignment by assignment: " + p.assignments());
        }
    }
}

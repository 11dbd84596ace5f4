package io.engram.tools.soak;

import io.engram.tools.harness.Feeder;
import io.engram.tools.kafka.KafkaClients;
import io.engram.tools.soak.Soak.Injected;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * The run under faults: starts each lane's instances on the soak's broker, feeds every lane's
 * input at its rate, and injects faults ({@link FaultSchedule}) until it is all sent. Owns the
 * {@link OutputWatch}, closed before {@link #run} returns; the instances and feeders it starts
 * belong to their lanes, which the soak closes.
 */
final class IngestUnderFaults {
    /** How long ingest took, and the faults injected meanwhile. */
    record Result(double ingestSeconds, List<Injected> faults) {}

    private final Soak.Options o;
    private final List<SoakLane> lanes;
    private final SoakBroker broker;
    private final SoakLog log;
    private final FaultSchedule schedule;

    /** @param random the soak's seeded random, which picks the faults and their targets */
    IngestUnderFaults(Soak.Options o, List<SoakLane> lanes, SoakBroker broker, Random random, SoakLog log) {
        this.o = o;
        this.lanes = lanes;
        this.broker = broker;
        this.log = log;
        this.schedule = new FaultSchedule(o, lanes, random, new FaultInjector(o, lanes, broker, random, log));
    }

    Result run() throws Exception {
        try (OutputWatch watch = new OutputWatch(bootstrap(), lanes.stream()
                .collect(Collectors.toMap(SoakLane::predictions, l -> l.spec.topics().partitions())))) {
            startInstances();
            log.say("%d pipelines x %d instances running on %s", lanes.size(), o.instances(), bootstrap());
            long ingestStart = System.nanoTime();
            startFeeders();
            List<Injected> injected = schedule.run(watch, ingestStart);
            for (SoakLane l : lanes) {
                l.feeder.awaitSent(l.input.records().size(), Soak.SETTLE);
            }
            double ingestSeconds = (System.nanoTime() - ingestStart) / 1e9;
            log.say("all input sent");
            return new Result(ingestSeconds, injected);
        }
    }

    /** {@code instances} of each pipeline, each running. */
    private void startInstances() throws InterruptedException {
        for (SoakLane l : lanes) {
            for (int i = 0; i < o.instances(); i++) {
                l.instances.start(null, bootstrap());
            }
        }
        for (SoakLane l : lanes) {
            l.instances.awaitRunning(Soak.START);
        }
    }

    /** A feeder per lane, in chunks of a tenth of a second's input, allowed to send it all. */
    private void startFeeders() {
        for (SoakLane l : lanes) {
            double rate = l.rate(o);
            int chunk = (int) Math.max(1, Math.round(rate / 10));
            l.feeder = new Feeder(KafkaClients.producer(bootstrap()), l.input.records(), chunk, 100);
            l.feeder.allow(l.input.records().size());
        }
    }

    private String bootstrap() {
        return broker.bootstrap();
    }
}

package io.engram.tools.soak;

import io.engram.tools.harness.Feeder;
import io.engram.tools.soak.Soak.Injected;
import java.util.List;
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

    private final SoakSetup setup;

    IngestUnderFaults(SoakSetup setup) {
        this.setup = setup;
    }

    Result run() throws Exception {
        try (OutputWatch watch = new OutputWatch(bootstrap(), setup.lanes().stream()
                .collect(Collectors.toMap(SoakLane::predictions, l -> l.spec.topics().partitions())))) {
            startInstances();
            setup.log().say("%d pipelines x %d instances running on %s", setup.lanes().size(), setup.o().instances(), bootstrap());
            long ingestStart = System.nanoTime();
            startFeeders();
            List<Injected> injected = new FaultSchedule(setup, new FaultInjector(setup)).run(watch, ingestStart);
            for (SoakLane l : setup.lanes()) {
                l.feeder.awaitSentWhileProgressing(l.input.records().size(), Soak.SETTLE);
            }
            double ingestSeconds = (System.nanoTime() - ingestStart) / 1e9;
            setup.log().say("all input sent");
            return new Result(ingestSeconds, injected);
        }
    }

    /** {@code instances} of each pipeline, each running. */
    private void startInstances() throws InterruptedException {
        for (SoakLane l : setup.lanes()) {
            for (int i = 0; i < setup.o().instances(); i++) {
                l.instances.start(null, bootstrap());
            }
        }
        for (SoakLane l : setup.lanes()) {
            l.instances.awaitRunning(Soak.START);
        }
    }

    /**
     * A feeder per lane, a fifth of a second's input every 200 ms, allowed to send it all. (Each chunk
     * waits for its acknowledgements, which take longer on a cluster: the period leaves room for them.)
     */
    private void startFeeders() {
        for (SoakLane l : setup.lanes()) {
            double rate = l.rate(setup.o());
            int chunk = (int) Math.max(1, Math.round(rate / 5));
            l.feeder = new Feeder(bootstrap(), l.input.records(), chunk, 200);
            l.feeder.allow(l.input.records().size());
        }
    }

    private String bootstrap() {
        return setup.broker().bootstrap();
    }
}

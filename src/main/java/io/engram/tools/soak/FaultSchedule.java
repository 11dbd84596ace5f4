package io.engram.tools.soak;

import io.engram.tools.soak.Soak.Fault;
import io.engram.tools.soak.Soak.Injected;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * When the soak injects which fault into which pipeline: random gaps around {@code faultEvery}
 * from half a gap after ingest starts, each kind of {@code --faults} once in a random order first, then at random,
 * until 80% of the planned ingest time has passed (the first round goes on past it); each waits
 * for the previous one's recovery. None is injected once a pipeline has sent 90% of its input,
 * since recovery is measured on new output. The choices come from the soak's seeded random, shared
 * with the {@link FaultInjector} (the same seed gives the same sequence). Holds no resources.
 */
final class FaultSchedule {
    private final Duration duration;
    private final Duration faultEvery;
    private final List<SoakLane> lanes;
    private final Random random;
    private final FaultInjector injector;
    private final List<Fault> kinds;

    FaultSchedule(SoakSetup setup, FaultInjector injector) {
        this.duration = setup.o().duration();
        this.faultEvery = setup.o().faultEvery();
        this.lanes = setup.lanes();
        this.random = setup.random();
        this.injector = injector;
        this.kinds = setup.o().faults();
    }

    /** Injects faults while the lanes' feeders send, from {@code ingestStart} (a {@link System#nanoTime()}). */
    List<Injected> run(OutputWatch watch, long ingestStart) throws Exception {
        List<Injected> out = new ArrayList<>();
        long end = ingestStart + (long) (duration.toNanos() * 0.8);
        List<Fault> firstRound = new ArrayList<>(kinds);
        Collections.shuffle(firstRound, random);
        long next = ingestStart + faultEvery.toNanos() / 2;
        while (true) {
            long gap = (long) (faultEvery.toNanos() * (0.5 + random.nextDouble()));
            Fault f = !firstRound.isEmpty() ? firstRound.remove(0) : kinds.get(random.nextInt(kinds.size()));
            SoakLane lane = lanes.get(random.nextInt(lanes.size()));
            long wait = next - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000);
            }
            if (!inputLeft() || (System.nanoTime() > end && out.size() >= kinds.size())) {
                break;
            }
            out.add(injector.inject(f, lane, watch));
            next = Math.max(next + gap, System.nanoTime());
        }
        return out;
    }

    /** Whether every lane has under 90% of its input sent. */
    private boolean inputLeft() {
        return lanes.stream().allMatch(l -> l.feeder.sent() < 0.9 * l.input.records().size());
    }
}

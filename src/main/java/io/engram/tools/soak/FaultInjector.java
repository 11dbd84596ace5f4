package io.engram.tools.soak;

import io.engram.tools.harness.EngramProcess;
import io.engram.tools.soak.Soak.Fault;
import io.engram.tools.soak.Soak.Injected;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Injects one fault at a time and measures its recovery: from the fault to the moment every
 * partition of the affected pipelines' predictions topics that had output before it has new
 * committed output again ({@link OutputWatch}), given up after {@link Soak#RECOVERY_LIMIT}. The
 * instances it starts belong to their lanes, the broker it restarts to the soak; it holds nothing
 * of its own.
 */
final class FaultInjector {
    private final SoakSetup setup;

    FaultInjector(SoakSetup setup) {
        this.setup = setup;
    }

    /** Injects {@code f} (into {@code lane}, unless it hits the broker) and waits for the recovery. */
    Injected inject(Fault f, SoakLane lane, OutputWatch watch) throws Exception {
        double at = setup.log().seconds();
        List<SoakLane> affected = f.broker ? setup.lanes() : List.of(lane);
        Map<String, Set<Integer>> expect = new LinkedHashMap<>();
        affected.forEach(l -> expect.put(l.predictions(), watch.partitionsWithOutput(l.predictions())));
        long start = System.nanoTime();
        List<EngramProcess> fresh = new ArrayList<>();
        String target = switch (f) {
            case KILL, RESTART, LOST_STATE -> replaceInstance(f, lane, fresh);
            case BROKER_RESTART -> setup.broker().restart(setup.o().brokerDown(), setup.random());
            case JOIN -> join(lane, fresh);
            // A broker killed: recovery counts from the kill, while it is still down.
            case INPUT_LEADER_KILL -> cluster().killLeader(List.of(lane.inputTopic), setup.o().brokerDown(), setup.random(), watch::mark);
            case CHANGELOG_LEADER_KILL -> cluster().killLeader(changelogs(lane), setup.o().brokerDown(), setup.random(), watch::mark);
            case BROKER_REPLACED -> cluster().replace(setup.random(), watch::mark);
            case ROLLING_RESTART -> cluster().rollingRestart(Soak.RECOVERY_LIMIT);
        };
        if (!f.killsBroker()) {
            watch.mark(); // the fault is done: output from now on is new
        }
        setup.log().say("fault %s: %s", f.id(), target);
        for (EngramProcess p : fresh) {
            p.awaitRunning(Soak.START);
        }
        long recovered = watch.awaitOutputSinceMark(expect, Soak.RECOVERY_LIMIT);
        double recovery = recovered >= 0 ? (recovered - start) / 1e9 : -1;
        setup.log().say("  %s", recovery >= 0 ? String.format(Locale.ROOT, "recovered in %.1f s", recovery)
                : "NOT recovered in " + Soak.RECOVERY_LIMIT);
        double inSync = Double.NaN;
        if (f.broker && setup.broker() instanceof ClusterSoakBroker c) {
            // The next fault must not find a partition still short of a replica (see ClusterSoakBroker).
            double waited = c.awaitInSync(Soak.RECOVERY_LIMIT);
            inSync = waited < 0 ? -1 : (System.nanoTime() - start) / 1e9;
            setup.log().say("  %s", inSync >= 0 ? String.format(Locale.ROOT, "replicas in sync %.1f s after the fault", inSync)
                    : "replicas NOT in sync in " + Soak.RECOVERY_LIMIT);
        }
        return new Injected(f, target, at, recovery, inSync);
    }

    private ClusterSoakBroker cluster() {
        if (setup.broker() instanceof ClusterSoakBroker c) {
            return c;
        }
        throw new IllegalStateException("a cluster fault on one broker: Soak.Options allows none");
    }

    /** The lane's changelog topics; Kafka Streams creates them, so they exist once its instances run. */
    private List<String> changelogs(SoakLane lane) {
        List<String> names = cluster().changelogs(lane.applicationId);
        if (names.isEmpty()) {
            throw new IllegalStateException(lane.name() + " has no changelog topic yet");
        }
        return names;
    }

    /** Kill -9 or graceful stop of an instance (its state deleted for {@link Fault#LOST_STATE}), restarted on its state directory. */
    private String replaceInstance(Fault f, SoakLane lane, List<EngramProcess> fresh) throws InterruptedException {
        EngramProcess victim = lane.instances.pick(setup.random());
        Path dir = victim.stateDir();
        if (f == Fault.RESTART) {
            victim.stop();
        } else {
            victim.kill();
        }
        lane.instances.remove(victim);
        if (f == Fault.LOST_STATE) {
            Soak.deleteRecursively(dir);
        }
        fresh.add(lane.instances.start(dir, setup.broker().bootstrap()));
        return victim.name();
    }

    /** A new instance joins; at {@code instances + 2} live, the oldest extra one leaves first. */
    private String join(SoakLane lane, List<EngramProcess> fresh) throws InterruptedException {
        String target = "";
        if (lane.instances.count() >= setup.o().instances() + 2) {
            EngramProcess leaving = lane.instances.removeAt(setup.o().instances());
            leaving.stop();
            target = leaving.name() + " leaves, ";
        }
        EngramProcess joining = lane.instances.start(null, setup.broker().bootstrap());
        fresh.add(joining);
        return target + joining.name() + " joins";
    }
}

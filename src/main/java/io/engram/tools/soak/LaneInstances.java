package io.engram.tools.soak;

import io.engram.tools.harness.EngramProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The {@code engram run} child processes of one pipeline in the soak: starts them (named for the
 * pipeline, {@code -a}, {@code -b}, ... in start order), with the soak's fast failover and
 * standbys, and keeps the live ones in start order. Owns the live processes; {@link #close()}
 * stops them all. A process taken out with {@link #remove} or {@link #removeAt} is the caller's to stop.
 */
final class LaneInstances implements AutoCloseable {
    private final String pipeline;
    private final Path yaml;
    private final String applicationId;
    private final Path work;
    private final int standbys;
    private final List<EngramProcess> live = new ArrayList<>();
    private int started;

    LaneInstances(String pipeline, Path yaml, String applicationId, Path work, int standbys) {
        this.pipeline = pipeline;
        this.yaml = yaml;
        this.applicationId = applicationId;
        this.work = work;
        this.standbys = standbys;
    }

    /** Starts a new instance on a new state directory, or on {@code stateDir} (a restart). */
    EngramProcess start(Path stateDir, String bootstrap) {
        String id = pipeline + "-" + (char) ('a' + started++);
        Path dir = stateDir != null ? stateDir : work.resolve("state").resolve(id);
        Map<String, String> props = new LinkedHashMap<>(Soak.FAST_FAILOVER);
        props.put("num.standby.replicas", String.valueOf(standbys));
        EngramProcess p = EngramProcess.start(id, yaml, bootstrap, dir, work.resolve("logs").resolve(id + ".log"), props,
                List.of("--application-id", applicationId));
        live.add(p);
        return p;
    }

    /** Waits until every live instance runs. */
    void awaitRunning(Duration timeout) throws InterruptedException {
        for (EngramProcess p : live) {
            p.awaitRunning(timeout);
        }
    }

    int count() {
        return live.size();
    }

    /** A live instance, chosen with {@code random}. */
    EngramProcess pick(Random random) {
        return live.get(random.nextInt(live.size()));
    }

    /** Takes {@code p} out of the live ones (it was stopped or killed). */
    void remove(EngramProcess p) {
        live.remove(p);
    }

    /** Takes the live instance at {@code index} (in start order) out of the live ones, and returns it. */
    EngramProcess removeAt(int index) {
        return live.remove(index);
    }

    /** Stops every live instance. */
    @Override
    public void close() {
        for (EngramProcess p : live) {
            try {
                p.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

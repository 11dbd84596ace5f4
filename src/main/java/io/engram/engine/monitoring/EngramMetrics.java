package io.engram.engine.monitoring;

import io.engram.engine.state.StateEvent;
import io.engram.engine.errors.BadInputException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.EnumMap;
import java.util.Map;

/**
 * Engram's own meters for one pipeline, registered once in {@link #bindTo}. Names are dotted
 * lowercase with base units; tags are bounded (pipeline name, a fixed reason code) and never carry a
 * stream, sensor or camera id. Thread-safe: Micrometer meters are.
 */
public final class EngramMetrics implements MeterBinder, PipelineMeters {
    private final String pipeline;
    private Counter processed;
    private Counter anomalies;
    private Timer step;
    private Timer encode;
    private Timer latency;
    private Counter activityChanges;
    private Counter falls;
    private final Map<BadInputException.Reason, Counter> deadLetters = new EnumMap<>(BadInputException.Reason.class);
    private final Map<String, Counter> resets = new java.util.HashMap<>();
    private Counter expired;
    private final Map<String, Counter> wipes = new java.util.HashMap<>();

    public EngramMetrics(String pipeline) {
        this.pipeline = pipeline;
    }

    /** A metrics instance bound to a throw-away registry, for tests and tools that do not export. */
    public static EngramMetrics unbound(String pipeline) {
        EngramMetrics m = new EngramMetrics(pipeline);
        m.bindTo(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        return m;
    }

    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        processed = Counter.builder("engram.records.processed")
                .description("Input records stepped through the recurrent model")
                .tag("pipeline", pipeline).register(registry);
        anomalies = Counter.builder("engram.anomalies")
                .description("Anomaly alerts emitted (after repeat suppression)")
                .tag("pipeline", pipeline).register(registry);
        // Buckets (_bucket series) so that p99 can be computed and alerted on across instances.
        step = Timer.builder("engram.model.step")
                .description("Time of one recurrent model step (ONNX Runtime)")
                .serviceLevelObjectives(ms(0.005), ms(0.01), ms(0.025), ms(0.05), ms(0.1), ms(0.25), ms(0.5), ms(1), ms(2.5), ms(5), ms(10),
                        ms(25), ms(50), ms(100))
                .tag("pipeline", pipeline).register(registry);
        latency = Timer.builder("engram.output.latency")
                .description("From a record's event time to its outputs (wall clock at the step): how far behind real time the pipeline is")
                .serviceLevelObjectives(ms(10), ms(25), ms(50), ms(100), ms(250), ms(500), ms(1000), ms(2500), ms(5000), ms(10_000),
                        ms(30_000), ms(60_000), ms(300_000), ms(3_600_000))
                .tag("pipeline", pipeline).register(registry);
        activityChanges = Counter.builder("engram.activity.changes")
                .description("Activity events: a camera's or a person's top label changed")
                .tag("pipeline", pipeline).register(registry);
        falls = Counter.builder("engram.falls")
                .description("Falls announced on the person activity pipeline's falls topic")
                .tag("pipeline", pipeline).register(registry);
        encode = Timer.builder("engram.frame.encode")
                .description("Time to decode, preprocess and encode one frame with the CNN")
                .serviceLevelObjectives(ms(0.1), ms(0.25), ms(0.5), ms(1), ms(2.5), ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(1000))
                .tag("pipeline", pipeline).register(registry);
        for (String reason : java.util.List.of(StateEvent.GAP, StateEvent.CONTROL,
                StateEvent.MODEL_CHANGED)) {
            resets.put(reason, Counter.builder("engram.state.resets")
                    .description("Streams whose state was reset (announced on the state-events topic), by reason")
                    .tag("pipeline", pipeline).tag("reason", reason).register(registry));
        }
        expired = Counter.builder("engram.state.expired")
                .description("Idle streams whose state was deleted (state.idle_ttl_ms)")
                .tag("pipeline", pipeline).register(registry);
        for (String reason : java.util.List.of("unknown-origin", "cluster-changed", "topic-recreated", "topic-missing")) {
            wipes.put(reason, Counter.builder("engram.state.wipes")
                    .description("Start-ups that wiped the local state: built on another cluster or from recreated or deleted topics, by reason")
                    .tag("pipeline", pipeline).tag("reason", reason).register(registry));
        }
        for (BadInputException.Reason r : BadInputException.Reason.values()) {
            deadLetters.put(r, Counter.builder("engram.dead.letters")
                    .description("Records written to the dead-letter topic (acknowledged by the broker), by reason")
                    .tag("pipeline", pipeline).tag("reason", r.code()).register(registry));
        }
    }

    public String pipeline() {
        return pipeline;
    }

    @Override
    public void stepped(long stepNanos) {
        processed.increment();
        if (stepNanos >= 0) {
            step.record(stepNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void outputLatency(long millis) {
        latency.record(Math.max(0, millis), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private static java.time.Duration ms(double millis) {
        return java.time.Duration.ofNanos((long) (millis * 1_000_000));
    }

    @Override
    public void frameEncoded(long nanos) {
        encode.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    @Override
    public void anomaly() {
        anomalies.increment();
    }

    @Override
    public void activityChange() {
        activityChanges.increment();
    }

    @Override
    public void fall() {
        falls.increment();
    }

    @Override
    public void deadLetter(BadInputException.Reason reason) {
        deadLetters.get(reason).increment();
    }

    public double deadLetterCount(BadInputException.Reason reason) {
        return deadLetters.get(reason).count();
    }

    /** Counts a state reset; {@code reason} is one of the {@link io.engram.engine.state.StateEvent} reset reasons. */
    @Override
    public void stateReset(String reason) {
        resets.get(reason).increment();
    }

    public double stateResetCount(String reason) {
        return resets.get(reason).count();
    }

    @Override
    public void stateExpired() {
        expired.increment();
    }

    public double stateExpiredCount() {
        return expired.count();
    }

    /** Counts a wipe of the local state at start-up; {@code reason} is one of the runtime's StateOrigin reasons. */
    public void stateWiped(String reason) {
        wipes.get(reason).increment();
    }

    public double stateWipedCount(String reason) {
        return wipes.get(reason).count();
    }

    /** Frames through the CNN stage so far (0 for pipelines without one). */
    public double encodedCount() {
        return encode == null ? 0 : encode.count();
    }

    public double processedCount() {
        return processed.count();
    }

    /** Mean time of the frame stage per frame so far (decode, CNN or pose model, tracking), in ms; NaN before the first. */
    public double encodeMeanMillis() {
        return encode == null || encode.count() == 0 ? Double.NaN : encode.mean(java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Mean time of one model step (one stream's record) so far, in ms; NaN before the first. */
    public double stepMeanMillis() {
        return step.count() == 0 ? Double.NaN : step.mean(java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}

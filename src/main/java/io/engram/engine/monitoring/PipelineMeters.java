package io.engram.engine.monitoring;

import io.engram.engine.errors.BadInputException;

/**
 * What the core reports as it works: the counters and timers of one pipeline. The core and the
 * heads call this interface; the Micrometer binder ({@code io.engram.engine.monitoring.EngramMetrics})
 * implements it, so that nothing below the binder imports it. Implementations are thread-safe.
 */
public interface PipelineMeters {
    /** A record was stepped through the model; {@code stepNanos} is the model call's time, or -1 if there was none (baseline). */
    void stepped(long stepNanos);

    /** A record was sent to the dead-letter topic. */
    void deadLetter(BadInputException.Reason reason);

    /** A stream's state was reset; {@code reason} is one of {@link StateEvent}'s reset reasons. */
    void stateReset(String reason);

    /** An idle stream's state was deleted. */
    void stateExpired();

    /** The forecaster head emitted an anomaly alert. */
    void anomaly();

    /** The activity head announced an activity change. */
    void activityChange();

    /** A fall was announced (the person activity pipeline's falls topic). */
    default void fall() {}

    /** A frame was decoded, preprocessed and encoded in {@code nanos}. */
    void frameEncoded(long nanos);

    /** A record's outputs were produced {@code millis} after its event time (wall clock at the step). */
    default void outputLatency(long millis) {}

    /** Reports nothing: for tools and tests that do not measure. */
    PipelineMeters NONE = new PipelineMeters() {
        @Override
        public void stepped(long stepNanos) {}

        @Override
        public void deadLetter(BadInputException.Reason reason) {}

        @Override
        public void stateReset(String reason) {}

        @Override
        public void stateExpired() {}

        @Override
        public void anomaly() {}

        @Override
        public void activityChange() {}

        @Override
        public void frameEncoded(long nanos) {}
    };
}

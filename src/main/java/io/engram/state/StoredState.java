package io.engram.state;

/** What {@link StateLifecycle} needs to know of a stream's stored state, whatever the pipeline. */
public interface StoredState {
    /** Records stepped so far. */
    long steps();

    /** Event time of the last record stepped. */
    long lastEventTime();

    String modelId();

    String modelVersion();
}

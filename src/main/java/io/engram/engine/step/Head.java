package io.engram.engine.step;

import io.engram.engine.state.StreamState;

import io.engram.engine.model.ModelManifest;
import org.apache.kafka.streams.processor.api.Record;

/**
 * What a pipeline adds to the {@link StepProcessor}: how to decode its input records, how to turn
 * one into the model's input, and how to turn the model's output and the head's own per-stream
 * fields (its payload {@code P}) into output records. Everything else (key, control and value
 * checks, load, model compatibility, event-time order, the state lifecycle, the model step, store,
 * emit, metrics) is the core's and written once.
 *
 * <p>The core calls, per data record: {@link #decode}, {@link #eventTime}, then (state loaded or
 * fresh) {@link #input}, the model step, then {@link #output}. A head throws
 * {@link io.engram.engine.errors.BadInputException} from {@code decode} for a bad record; it must not
 * throw after {@code decode}, so that a refused record leaves the state untouched.
 *
 * <p>Its payload codec and output roles are its {@link HeadType}'s, known before any head is made.
 *
 * <p>One instance per task, made by its {@link HeadType}, used on the task's thread only: a
 * head may keep scratch buffers and carry values from {@code input} to {@code output} in fields.
 *
 * @param <I> the decoded input
 * @param <P> the per-stream payload
 */
public interface Head<I, P> {
    /**
     * A control command carried in the value rather than in the {@value StateLifecycle#CONTROL_HEADER}
     * header (for producers that cannot set headers), or null for data. Must not throw.
     */
    default String controlInValue(byte[] value) {
        return null;
    }

    /** Decodes a data record with a non-null key and value; throws BadInputException when it is bad. */
    I decode(String key, Record<String, byte[]> record);

    /** The event time of a decoded input: the time the stream's order, gaps and outputs use. */
    long eventTime(I input, Record<String, byte[]> record);

    /** The payload of a new stream for {@code model}. */
    P freshPayload(ModelManifest model);

    /** Whether a stored payload fits {@code model} (e.g. as many channels as its input); if not, the stream is reset. */
    boolean fits(P payload, ModelManifest model);

    /**
     * Fills the model's input {@code x} for {@code in}; may update the payload (preprocessing
     * statistics). {@code s.steps()} does not count this record yet.
     */
    void input(I in, StreamState<P> s, float[] x);

    /**
     * After the model step ({@code y} is the model's output, all zeros in the model-less baseline;
     * {@code s.steps()} counts this record, which was step number {@code step}, at {@code eventTime}): updates the
     * payload and adds this record's outputs to {@code out}.
     */
    void output(String key, I in, long eventTime, StreamState<P> s, float[] y, long step, Outputs out);

    /**
     * Releases what this head owns (e.g. native buffers), when its task closes. Kafka Streams may
     * initialise the same processor again afterwards (a task revived after a broker restart), so a
     * head must work after {@code close()}, making anew what it released.
     */
    default void close() {}
}

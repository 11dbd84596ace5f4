package io.engram.engine.step;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.state.PayloadCodec;
import java.util.List;
import java.util.function.Supplier;

/**
 * What {@link StepTopology} needs to know of a pipeline's {@link Head} before any task runs: its
 * payload's codec (for the state store's serde), the output roles it writes (one sink each), and
 * how to make one head per task. Having them here lets the topology be wired without making a head
 * (a head may own native buffers). Immutable; {@link #newHead()} is called once per task, and the
 * head it returns belongs to that task's {@link StepProcessor}.
 *
 * @param <I> the head's decoded input
 * @param <P> the head's per-stream payload
 */
public interface HeadType<I, P> {
    /** The payload's binary layout, written behind the common state header. */
    PayloadCodec<P> codec();

    /** Output roles the heads write, besides the core's own (dead letters, state events). */
    List<TopicRole> outputRoles();

    /** A new head for one task; the caller owns it and closes it with the task. */
    Head<I, P> newHead();

    /** A head type of {@code codec} and {@code outputRoles} whose heads {@code heads} makes. */
    static <I, P> HeadType<I, P> of(PayloadCodec<P> codec, List<TopicRole> outputRoles, Supplier<? extends Head<I, P>> heads) {
        List<TopicRole> roles = List.copyOf(outputRoles);
        return new HeadType<>() {
            @Override
            public PayloadCodec<P> codec() {
                return codec;
            }

            @Override
            public List<TopicRole> outputRoles() {
                return roles;
            }

            @Override
            public Head<I, P> newHead() {
                return heads.get();
            }
        };
    }
}

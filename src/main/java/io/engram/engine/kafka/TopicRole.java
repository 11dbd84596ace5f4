package io.engram.engine.kafka;

/**
 * What a topic is for in a pipeline ({@code input}, {@code predictions}, {@code dead_letter}, ...):
 * the key of the pipeline YAML's {@code topics:} section that names it. Every pipeline has
 * {@link #DEAD_LETTER} and {@link #STATE_EVENTS}; a pipeline kind declares its own roles as
 * constants (its input topics), and a head the roles of its outputs. Immutable; equal by key.
 *
 * @param key the YAML key, exactly as a pipeline file writes it
 */
public record TopicRole(String key) {
    /** The dead-letter topic, which every pipeline has. */
    public static final TopicRole DEAD_LETTER = new TopicRole("dead_letter");
    /** The state-events topic (resets, expiries, wipes), which every pipeline has. */
    public static final TopicRole STATE_EVENTS = new TopicRole("state_events");

    public TopicRole {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("a topic role needs a key");
        }
    }

    /** The YAML key, so that messages that name a role read as before. */
    @Override
    public String toString() {
        return key;
    }
}

package io.engram.engine.kafka;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * A topic with the serdes of its keys and values, so that the two travel together (in the manner
 * of the Confluent examples' {@code Schemas.Topic<K, V>}). Immutable.
 */
public record TopicSpec<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    public TopicSpec {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a topic needs a name");
        }
    }

    /** A topic keyed by stream (or camera) id: UTF-8 string keys. */
    public static <V> TopicSpec<String, V> keyed(String name, Serde<V> values) {
        return new TopicSpec<>(name, Serdes.String(), values);
    }

    /** A pipeline output of JSON records, keyed by stream id. */
    public static TopicSpec<String, Object> json(String name) {
        return keyed(name, new JsonSerde<>(Object.class));
    }
}

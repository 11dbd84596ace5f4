package io.engram.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Samples an in-process Kafka Streams instance's state every 10 ms, to prove that it stays RUNNING
 * throughout (a state listener can only be set before start, and the runner starts it). Owns a
 * daemon thread, stopped by {@link #close()}.
 */
public final class StreamsWatch implements AutoCloseable {
    private final KafkaStreams streams;
    private final UnaryOperator<String> message;
    private final List<String> changes = Collections.synchronizedList(new ArrayList<>());
    private final Thread thread;
    private volatile boolean stop;

    /** @param message adds context (e.g. a fuzz run's seed) to a failure message */
    public StreamsWatch(KafkaStreams streams, UnaryOperator<String> message) {
        this.streams = streams;
        this.message = message;
        this.thread = new Thread(() -> {
            while (!stop) {
                KafkaStreams.State s = streams.state();
                if (s != KafkaStreams.State.RUNNING && (changes.isEmpty() || !changes.get(changes.size() - 1).endsWith(s.name()))) {
                    changes.add(Instant.now() + " " + s.name());
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "streams-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Fails if Kafka Streams or any of its threads has left RUNNING since the watch began. */
    public void assertStayedRunning() {
        assertEquals(List.of(), changes, message.apply("Kafka Streams left RUNNING"));
        streams.metadataForLocalThreads().forEach(t -> assertEquals("RUNNING", t.threadState(), message.apply("stream thread " + t.threadName())));
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join();
    }
}

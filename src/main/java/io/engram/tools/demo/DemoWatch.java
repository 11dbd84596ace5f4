package io.engram.tools.demo;

import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.tools.kafka.KafkaClients;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * The demo's one reader of the pipelines' output: subscribes to the sensor alerts and, when they
 * run, the video and person pipelines' topics, and hands each record to the watch that prints it
 * ({@link SensorAlerts}, {@link ActivityWatch}, {@link VideoAnomalyWatch}, {@link PeopleDemo}). {@link #run} owns its
 * consumer from start to end, on the calling thread, which then owns the watches too.
 *
 * @param alertTopic the sensor pipeline's alerts
 * @param activity null without video
 * @param videoAnomaly null without the video anomaly pipeline
 * @param people null without the person activity pipeline
 */
public record DemoWatch(String bootstrap, String alertTopic, SensorAlerts alerts, ActivityWatch activity, VideoAnomalyWatch videoAnomaly,
        PeopleDemo people) {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");
    private static final JsonSerde<ForecastPrediction> SERDE = new JsonSerde<>(ForecastPrediction.class);

    /** The wall-clock time at the start of each printed line. */
    static String clock() {
        return LocalTime.now().format(CLOCK);
    }

    /** Reads and prints until {@code keepGoing} turns false or {@code deadline} ({@link System#nanoTime}) passes. */
    public void run(BooleanSupplier keepGoing, long deadline) {
        try (KafkaConsumer<String, byte[]> consumer = KafkaClients.outputReader(bootstrap, "engram-demo-watch", Map.of())) {
            consumer.subscribe(topics());
            while (keepGoing.getAsBoolean() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    dispatch(r);
                }
            }
        }
    }

    private List<String> topics() {
        List<String> topics = new ArrayList<>(List.of(alertTopic));
        if (activity != null) {
            topics.addAll(activity.topics());
        }
        if (videoAnomaly != null) {
            topics.add(videoAnomaly.topic());
        }
        if (people != null) {
            topics.addAll(people.topics());
        }
        return topics;
    }

    private void dispatch(ConsumerRecord<String, byte[]> r) {
        if (people != null && people.topics().contains(r.topic())) {
            people.onRecord(r.topic(), r.value());
        } else if (videoAnomaly != null && r.topic().equals(videoAnomaly.topic())) {
            videoAnomaly.onAlert(SERDE.deserialize(alertTopic, r.value()));
        } else if (activity != null && !r.topic().equals(alertTopic)) {
            activity.onRecord(r.topic(), r.value());
        } else {
            alerts.onAlert(SERDE.deserialize(alertTopic, r.value()));
        }
    }
}

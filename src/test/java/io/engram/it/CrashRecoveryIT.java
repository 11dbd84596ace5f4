package io.engram.it;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import static io.engram.testkit.CrashHarness.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import io.engram.tools.harness.RunOutputs;
import io.engram.testkit.CrashHarness;
import io.engram.testkit.CrashScenarios;
import io.engram.testkit.KafkaBroker;
import io.engram.testkit.PipelineYaml;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash and failover equivalence of the sensor pipeline ({@code topology/sensor-anomaly.yaml}): after
 * kill -9, a failover to a standby and a new instance joining, a lost state directory, or a broker
 * outage, every output topic (predictions, anomalies, dead letters, state events), read with
 * read_committed, equals an uninterrupted run's per key, byte for byte. The machinery is
 * {@link CrashHarness}; this class gives the pipeline, its input and what its reference run must be.
 */
class CrashRecoveryIT extends CrashScenarios {
    static final int STREAMS = 24;
    static final int STEPS = 110;
    static final long T0 = 1_700_000_000_000L;
    static final JsonSerde<ForecastPrediction> PREDICTION = new JsonSerde<>(ForecastPrediction.class);

    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    static Path work;

    static CrashHarness crash;

    /**
     * The shipped pipeline with a short warm-up (so that a short input alerts) and a one-hour gap
     * limit; the uninterrupted reference run, checked to be right itself.
     */
    @BeforeAll
    static void runReference() throws Exception {
        PipelineYaml yaml = PipelineYaml.of("topology/sensor-anomaly.yaml").set("scoring.warmup_steps", 30)
                .set("state.max_gap_ms", 3_600_000).set("processing.commit_interval_ms", 100);
        crash = new CrashHarness("sensor", kafka, work, yaml, CrashRecoveryIT::input);
        checkReference(crash.reference());
    }

    @AfterAll
    static void report() {
        report("sensor", crash);
    }

    @Override
    protected CrashHarness crash() {
        return crash;
    }

    /**
     * The reference is itself right: every stream stepped once per reading, in order (0, 1, 2, ...;
     * a stream with a gap longer than {@code state.max_gap_ms} starts again at 0 after it), every
     * bad record dead-lettered once with its reason, the gaps announced, and some alerts.
     */
    static void checkReference(RunOutputs ref) {
        Map<String, List<RunOutputs.Rec>> preds = ref.role(ForecastHead.PREDICTIONS);
        assertEquals(STREAMS, preds.size(), "streams with predictions");
        preds.forEach((key, recs) -> {
            assertEquals(STEPS, recs.size(), key);
            boolean gap = key.equals(key(GAP_STREAMS[0])) || key.equals(key(GAP_STREAMS[1]));
            for (int i = 0; i < recs.size(); i++) {
                long step = PREDICTION.deserialize("t", recs.get(i).value()).step();
                boolean restarted = gap && i >= GAP_AT && step == i - GAP_AT;
                assertTrue(step == i || restarted, key + " reading " + i + " has step " + step);
            }
        });
        List<String> reasons = ref.role(TopicRole.DEAD_LETTER).values().stream().flatMap(List::stream)
                .map(RunOutputs.Rec::reason).sorted().toList();
        assertEquals(List.of("missing-field", "not-json", "not-json", "null-key", "null-value", "out-of-order", "out-of-order",
                "wrong-value-count"), reasons, "dead letters of the reference run");
        assertEquals(List.of(key(GAP_STREAMS[0]), key(GAP_STREAMS[1])), List.copyOf(ref.role(TopicRole.STATE_EVENTS).keySet()),
                "one gap reset announced per gap stream");
        assertEquals(2, ref.total(TopicRole.STATE_EVENTS), "state events");
        assertTrue(ref.total(ForecastHead.ANOMALIES) > 0, "the input makes some alerts, so that they are compared too");
    }

    // ---------------------------------------------------------------------------------------------
    // Input

    /**
     * The input, the same for every run: {@link #STREAMS} streams of {@link #STEPS} readings each
     * (one a minute, noisy sines at different levels and periods; spikes and a level shift that the
     * scorer alerts on; two streams with a two-hour gap), interleaved across streams, with 8 bad
     * records in between. Keyed records go to their key's partition (the default partitioner);
     * the one record without a key names its partition, so that the input topics are identical.
     */
    static List<ProducerRecord<byte[], byte[]>> input(PipelineTopics topics) {
        String topic = topics.name(AnomalyPipeline.INPUT);
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        SplittableRandom[] rnd = new SplittableRandom[STREAMS];
        for (int s = 0; s < STREAMS; s++) {
            rnd[s] = new SplittableRandom(1000 + s);
        }
        for (int i = 0; i < STEPS; i++) {
            for (int s = 0; s < STREAMS; s++) {
                double v = 5 * (s % 5) + 2 + Math.sin(2 * Math.PI * i / (15 + s)) + 0.1 * rnd[s].nextGaussian();
                if (s % 6 == 1 && i == 70) {
                    v += 12; // spike
                }
                if (s == 13 && i >= 85) {
                    v += 6; // level shift
                }
                out.add(reading(topic, key(s), ts(s, i), v));
            }
            switch (i) {
                case 10 -> out.add(bad(raw(topic, key(3), ts(3, i), "{oops")));
                case 25 -> out.add(bad(new ProducerRecord<>(topic, 2, ts(4, i), null, json(ts(4, i), 1.5)))); // no key
                case 40 -> out.add(bad(raw(topic, key(8), ts(8, i), String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[1.0,2.0]}", ts(8, i)))));
                case 50 -> out.add(bad(reading(topic, key(2), ts(2, i) - 1_800_000, 3.0))); // older than the last: out-of-order
                case 65 -> out.add(bad(raw(topic, key(9), ts(9, i), String.format(Locale.ROOT, "{\"ts\":%d}", ts(9, i)))));
                case 80 -> out.add(bad(new ProducerRecord<>(topic, (Integer) null, (Long) ts(5, i), bytes(key(5)), (byte[]) null))); // tombstone
                case 95 -> out.add(bad(raw(topic, key(20), ts(20, i), "[1,2")));
                case 100 -> out.add(bad(reading(topic, key(15), ts(15, i) - 600_000, 7.0)));
                default -> { }
            }
        }
        return out;
    }

    static String key(int s) {
        return String.format(Locale.ROOT, "s-%02d", s);
    }

    /** Streams whose readings pause for two hours before reading {@link #GAP_AT} (the pipeline's max_gap_ms is one hour). */
    static final int[] GAP_STREAMS = {7, 19};
    static final int GAP_AT = 60;

    /** Event time of stream {@code s}'s reading {@code i}, one a minute, with the gaps above. */
    static long ts(int s, int i) {
        long gap = (s == GAP_STREAMS[0] || s == GAP_STREAMS[1]) && i >= GAP_AT ? 2 * 3_600_000L : 0;
        return T0 + 1_000L * s + 60_000L * i + gap;
    }

    static ProducerRecord<byte[], byte[]> reading(String topic, String key, long ts, double v) {
        return new ProducerRecord<>(topic, null, ts, bytes(key), json(ts, v));
    }

    static ProducerRecord<byte[], byte[]> raw(String topic, String key, long ts, String value) {
        return new ProducerRecord<>(topic, null, ts, bytes(key), bytes(value));
    }

    static byte[] json(long ts, double v) {
        return bytes(String.format(Locale.ROOT, "{\"ts\":%d,\"values\":[%s]}", ts, Double.toString(v)));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}

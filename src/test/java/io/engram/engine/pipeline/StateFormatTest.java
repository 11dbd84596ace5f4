package io.engram.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.state.PayloadCodec;
import io.engram.engine.state.StateEvent;
import io.engram.engine.state.StateSerde;
import io.engram.engine.state.StreamState;
import io.engram.engine.pipeline.activity.ActivityCodec;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.pipeline.activity.ActivityState;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.ForecastCodec;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.ForecastState;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import io.engram.engine.pipeline.pose.PoseCodec;
import io.engram.engine.pipeline.pose.PoseHead;
import io.engram.engine.pipeline.pose.PoseState;
import io.engram.engine.pipeline.pose.Travel;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.refine.RefineSettings;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FrameStage;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The one state format: every head's state round-trips through {@link StateSerde}, bad bytes are
 * {@link SerializationException}s, and states written by the releases before it (the sensor
 * pipeline's format 1, the classifier's formats 1 and 2; the person pipeline's payload version 2)
 * still restore. The old states are fixed bytes in {@code src/test/resources/state-fixtures/},
 * written by that release's own serdes (commit 69e7752; the person's payload version 2 and a camera's
 * refinement window at 729611f, before the refinement was shared; each generator is kept beside its
 * fixture), with the outputs that release gave after restoring them: the upgraded pipeline must give
 * the same outputs, byte for byte.
 */
class StateFormatTest {
    static final Path FIXTURES = Path.of("src/test/resources/state-fixtures");
    static final String SENSOR_1_0_0 = FIXTURES.resolve("sensor-1.0.0/sensor-anomaly.yaml").toString();

    /** The records with their trailing {@code "reasons"} field, if any, cut off. */
    static List<String> withoutReasons(List<String> json) {
        List<String> out = new ArrayList<>();
        for (String j : json) {
            int at = j.indexOf(",\"reasons\":");
            out.add(at < 0 ? j : j.substring(0, at) + "}");
        }
        return out;
    }
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode fixture(String name) throws Exception {
        return JSON.readTree(FIXTURES.resolve(name).toFile());
    }

    static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void aSensorStateOfFormat1RestoresAndTheStreamGoesOnExactlyAsBeforeTheUpgrade() throws Exception {
        JsonNode f = fixture("sensor-state-v1.json");
        byte[] old = HexFormat.of().parseHex(f.get("state_hex").asText());
        assertEquals(1, old[0], "written in the sensor pipeline's own format 1");
        StreamState<ForecastState> s = new StateSerde<>(new ForecastCodec()).deserialize("t", old);
        assertEquals("sensor-forecaster-gru", s.modelId());
        assertEquals(340, s.steps());
        assertEquals(64, s.hidden().length);
        assertEquals(1, s.payload().channels());
        // That release's pipeline, model and scorer settings (state-fixtures/sensor-1.0.0): today's
        // default model is another one (2.0.0, state_compat gru-h64-v2), to which a 1.0.0 state would
        // not carry over but reset, as the lifecycle tests show.
        try (PipelineDriver pd = new PipelineDriver(SENSOR_1_0_0)) {
            pd.<ForecastState>store().put(f.get("key").asText(), s);
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            TestOutputTopic<String, String> preds = pd.output(ForecastHead.PREDICTIONS);
            TestOutputTopic<String, String> anomalies = pd.output(ForecastHead.ANOMALIES);
            byte[] key = f.get("key").asText().getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < f.get("next_values").size(); i++) {
                in.pipeInput(key, f.get("next_values").get(i).asText().getBytes(StandardCharsets.UTF_8),
                        f.get("next_timestamps").get(i).asLong());
            }
            // Records at the threshold now also say why ("reasons", added after that release); every
            // other byte is the old release's.
            List<String> got = preds.readValuesToList();
            assertEquals(strings(f.get("predictions")), withoutReasons(got), "the same predictions as the old release, byte for byte");
            List<String> alerts = anomalies.readValuesToList();
            assertEquals(strings(f.get("anomalies")), withoutReasons(alerts));
            assertTrue(alerts.get(0).endsWith(",\"reasons\":[\"forecast\"]}"), alerts.get(0));
            assertEquals(1, f.get("anomalies").size(), "the fixture's continuation holds an alert: the scorer's state came through");
            assertTrue(pd.deadLetters().isEmpty());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aClassifierStateOfAnOldFormatRestoresAndTheCameraGoesOnExactlyAsBeforeTheUpgrade(int version) throws Exception {
        JsonNode f = fixture("activity-state-v" + version + ".json");
        byte[] old = HexFormat.of().parseHex(f.get("state_hex").asText());
        assertEquals(version, old[0]);
        StreamState<ActivityState> s = new StateSerde<>(new ActivityCodec()).deserialize("t", old);
        assertEquals("activity-gru", s.modelId());
        assertEquals(f.get("first_frame").asLong(), s.steps());
        assertEquals(96 + 128, s.hidden().length);
        JsonNode clip = JSON.readTree(Path.of(f.get("clip").asText()).toFile());
        FeatureRecordSerde fs = new FeatureRecordSerde();
        try (PipelineDriver pd = PipelineDriver.stepFed(f.get("pipeline").asText())) {
            pd.<ActivityState>store().put(f.get("key").asText(), s);
            TestInputTopic<byte[], byte[]> in = pd.stepInput();
            TestOutputTopic<String, String> preds = pd.output(ActivityHead.PREDICTIONS);
            TestOutputTopic<String, String> events = pd.output(ActivityHead.EVENTS);
            byte[] key = f.get("key").asText().getBytes(StandardCharsets.UTF_8);
            for (int i = f.get("first_frame").asInt(); i < clip.get("frames").asInt(); i++) {
                float[] v = new float[128];
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) clip.get("features").get(i).get(j).asDouble();
                }
                in.pipeInput(key, fs.serialize("t", new FeatureRecord("frame-encoder-cnn@1.0.0", i, v)),
                        f.get("timestamp_base").asLong() + f.get("timestamp_step").asLong() * i);
            }
            assertEquals(strings(f.get("predictions")), preds.readValuesToList(), "the same predictions as the old release, byte for byte");
            assertEquals(strings(f.get("events")), events.readValuesToList());
            assertTrue(pd.deadLetters().isEmpty());
        }
    }

    /**
     * A camera's state with a full refinement window, written before the refinement was shared between
     * the pipelines (activity-state-payload2-window.json, by WindowFixtureGen.java.txt at commit 729611f):
     * read and written again, the same bytes; restored, the camera goes on with the same live and refined
     * outputs, byte for byte, and ends in the same state bytes as that release.
     */
    @Test
    void aCameraStateWithARefinementWindowKeepsItsBytesAndItsOutputs() throws Exception {
        JsonNode f = fixture("activity-state-payload2-window.json");
        byte[] old = HexFormat.of().parseHex(f.get("state_hex").asText());
        StateSerde<ActivityState> serde = new StateSerde<>(new ActivityCodec());
        StreamState<ActivityState> s = serde.deserialize("t", old);
        assertEquals(f.get("lag").asInt() + 1, s.payload().window().filled());
        assertArrayEquals(old, serde.serialize("t", s), "ActivityCodec writes the window's bytes as before");
        var v = Pipelines.load(Path.of(f.get("pipeline").asText()));
        var settings = v.settings(VideoActivityPipeline.INSTANCE);
        v = v.withSettings(settings.withLayout(FrameStage.Layout.FUSED, true)
                .withRefine(new RefineSettings(settings.refine().manifest(), f.get("lag").asInt())));
        String key = f.get("key").asText();
        try (PipelineDriver pd = new PipelineDriver(v)) {
            pd.<ActivityState>store().put(key, s);
            TestInputTopic<String, byte[]> frames = pd.driver.createInputTopic(pd.spec.topics().name(
                    VideoActivityPipeline.FRAMES), new StringSerializer(),
                    new ByteArraySerializer());
            Path clip = Path.of(f.get("clip").asText());
            for (int i = f.get("first_frame").asInt(); i < f.get("last_frame").asInt(); i++) {
                RecordHeaders h = new RecordHeaders();
                h.add("content-type", "image/png".getBytes(StandardCharsets.UTF_8));
                h.add("seq", Long.toString(i).getBytes(StandardCharsets.UTF_8));
                frames.pipeInput(new TestRecord<>(key, Files.readAllBytes(
                        clip.resolve(String.format("frame-%05d.png", i))), h, f.get("timestamp_base").asLong() + f.get("timestamp_step").asLong() * i));
            }
            assertEquals(strings(f.get("predictions")), pd.output(ActivityHead.PREDICTIONS).readValuesToList());
            assertEquals(strings(f.get("events")), pd.output(ActivityHead.EVENTS).readValuesToList());
            assertEquals(strings(f.get("refined")), pd.output(ActivityHead.REFINED).readValuesToList());
            assertEquals(strings(f.get("refined_events")), pd.output(ActivityHead.REFINED_EVENTS).readValuesToList());
            assertEquals(f.get("state_hex_after").asText(), HexFormat.of().formatHex(serde.serialize("t", pd.<ActivityState>store().get(key))));
        }
    }

    /**
     * A person's state written before the person refiner (PoseCodec payload version 2, pose-state-v2.json,
     * by PoseFixtureGen.java.txt) restores mid-sequence: the live predictions, events and falls go on as
     * that release's, byte for byte; the person has no window yet, so refinement starts one and the first
     * refined record is the restored person's next frame, L frames later. The state is then written as
     * payload version 4. (The travel gate, which came later, is off here: that release had none.)
     */
    @Test
    void aPersonStateOfPayloadVersion2RestoresAndThePersonGoesOnAsBeforeTheRefiner() throws Exception {
        JsonNode f = fixture("pose-state-v2.json");
        byte[] old = HexFormat.of().parseHex(f.get("state_hex").asText());
        StateSerde<PoseState> serde = new StateSerde<>(new PoseCodec());
        StreamState<PoseState> s = serde.deserialize("t", old);
        int first = f.get("first_frame").asInt();
        assertEquals(first, s.steps());
        assertTrue(!s.payload().window().present(), "payload version 2 has no window");
        int n = golden(f).get("kp").size();
        Map<String, String> overrides = overrides(f);
        overrides.put("travel.min_speed", "0"); // that release had no travel gate
        String key = f.get("key").asText();
        try (PipelineDriver pd = PipelineDriver.stepFed(Pipelines.load(Path.of(f.get("pipeline").asText()),
                overrides))) {
            int lag = pd.spec.settings(PoseActivityPipeline.INSTANCE).refine().lag();
            pd.<PoseState>store().put(key, s);
            feedGolden(pd, f);
            assertEquals(strings(f.get("predictions")), pd.output(PoseHead.PREDICTIONS).readValuesToList(),
                    "the same predictions as the release before, byte for byte");
            assertEquals(strings(f.get("events")), pd.output(PoseHead.EVENTS).readValuesToList());
            assertEquals(strings(f.get("falls")), pd.output(PoseHead.FALLS).readValuesToList());
            assertEquals(1, f.get("falls").size(), "the continuation holds a fall: the fall rule's state came through");
            List<String> refined = pd.output(PoseHead.REFINED).readValuesToList();
            assertEquals(n - first - lag, refined.size());
            assertEquals(first, JSON.readTree(refined.get(0)).get("frame_seq").asLong(), "the window starts at the restored person's next frame");
            byte[] now = serde.serialize("t", pd.<PoseState>store().get(key));
            assertEquals(4, now[now.length - new PoseCodec().size(pd.<PoseState>store().get(key).payload())], "written as payload version 4");
            assertTrue(pd.deadLetters().isEmpty());
        }
    }

    /**
     * A person's state written before the travel gate (PoseCodec payload version 3, keypoint-gru
     * 1.2.0 with a full refinement window: pose-state-v3.json, by PoseFixtureGen3.java.txt) restores
     * mid-sequence. With the gate off, every output (live, events, falls, refined, refined events)
     * goes on as that release's, byte for byte, and the final state is that release's, read back from
     * payload version 4.
     */
    @Test
    void aPersonStateOfPayloadVersion3RestoresAndGoesOnByteForByteWithTravelOff() throws Exception {
        JsonNode f = fixture("pose-state-v3.json");
        StateSerde<PoseState> serde = new StateSerde<>(new PoseCodec());
        StreamState<PoseState> s = serde.deserialize("t", HexFormat.of().parseHex(f.get("state_hex").asText()));
        assertTrue(s.payload().window().present(), "payload version 3 has the window");
        Map<String, String> overrides = overrides(f);
        overrides.put("travel.min_speed", "0");
        String key = f.get("key").asText();
        try (PipelineDriver pd = PipelineDriver.stepFed(Pipelines.load(Path.of(f.get("pipeline").asText()), overrides))) {
            pd.<PoseState>store().put(key, s);
            feedGolden(pd, f);
            assertEquals(strings(f.get("predictions")), pd.output(PoseHead.PREDICTIONS).readValuesToList(),
                    "the same predictions as the release before, byte for byte");
            assertEquals(strings(f.get("events")), pd.output(PoseHead.EVENTS).readValuesToList());
            assertEquals(strings(f.get("falls")), pd.output(PoseHead.FALLS).readValuesToList());
            assertEquals(strings(f.get("refined")), pd.output(PoseHead.REFINED).readValuesToList(), "the window came through");
            assertEquals(strings(f.get("refined_events")), pd.output(PoseHead.REFINED_EVENTS).readValuesToList());
            StreamState<PoseState> after = pd.<PoseState>store().get(key);
            byte[] now = serde.serialize("t", after);
            assertEquals(4, now[now.length - new PoseCodec().size(after.payload())], "written as payload version 4");
            assertEquals(serde.deserialize("t", HexFormat.of().parseHex(f.get("state_hex_after").asText())).payload(), after.payload());
            assertTrue(pd.deadLetters().isEmpty());
        }
    }

    /**
     * The same version 3 state under the shipped file (travel on): the person goes on from their
     * state (steps continue, the window still refines) and their travel measure starts at the next
     * frame: until it is measured, the live records are the release before's, byte for byte.
     */
    @Test
    void aPersonStateOfPayloadVersion3GoesOnAndStartsItsTravelMeasure() throws Exception {
        JsonNode f = fixture("pose-state-v3.json");
        StateSerde<PoseState> serde = new StateSerde<>(new PoseCodec());
        StreamState<PoseState> s = serde.deserialize("t", HexFormat.of().parseHex(f.get("state_hex").asText()));
        String key = f.get("key").asText();
        try (PipelineDriver pd = PipelineDriver.stepFed(Pipelines.load(Path.of(f.get("pipeline").asText()), overrides(f)))) {
            assertTrue(pd.spec.settings(PoseActivityPipeline.INSTANCE).travel().on(), "the shipped file has travel on");
            pd.<PoseState>store().put(key, s);
            feedGolden(pd, f);
            List<String> preds = pd.output(PoseHead.PREDICTIONS).readValuesToList();
            assertEquals(f.get("predictions").size(), preds.size());
            // the first sighting starts the measure; each later frame is one observation, trusted from the third
            int measured = Travel.MIN_OBSERVATIONS;
            assertEquals(strings(f.get("predictions")).subList(0, measured), preds.subList(0, measured));
            assertTrue(!JSON.readTree(preds.get(measured - 1)).has("speed"));
            assertTrue(JSON.readTree(preds.get(measured)).has("speed"), "measured from the 4th frame after the restore");
            assertEquals(f.get("first_frame").asLong(), JSON.readTree(preds.get(0)).get("step").asLong(), "the person's steps go on");
            assertEquals(f.get("refined").size(), pd.output(PoseHead.REFINED).readValuesToList().size(), "the window came through");
            assertEquals(Travel.MIN_OBSERVATIONS, pd.<PoseState>store().get(key).payload().travel().observations());
        }
    }

    private static Map<String, String> overrides(JsonNode f) {
        Map<String, String> overrides = new TreeMap<>();
        f.get("overrides").fields().forEachRemaining(e -> overrides.put(e.getKey(), e.getValue().asText()));
        return overrides;
    }

    /** The fixture's golden sequence. */
    private static JsonNode golden(JsonNode f) throws Exception {
        for (JsonNode q : JSON.readTree(Path.of(f.get("golden").asText()).toFile()).get("sequences")) {
            if (q.get("name").asText().equals(f.get("sequence").asText())) {
                return q;
            }
        }
        throw new AssertionError("no sequence " + f.get("sequence") + " in " + f.get("golden"));
    }

    /** Feeds the fixture's golden sequence from its first frame on, as its generator did. */
    private static void feedGolden(PipelineDriver pd, JsonNode f) throws Exception {
        JsonNode seq = golden(f);
        FeatureRecordSerde fs = new FeatureRecordSerde();
        String key = f.get("key").asText();
        TestInputTopic<byte[], byte[]> in = pd.stepInput();
        for (int i = f.get("first_frame").asInt(); i < seq.get("kp").size(); i++) {
            float[] v = new float[51];
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) seq.get("kp").get(i).get(j).asDouble();
            }
            in.pipeInput(key.getBytes(StandardCharsets.UTF_8), fs.serialize("t", new FeatureRecord("movenet-multipose-lightning@1.0.0", i, v)),
                    f.get("timestamp_base").asLong() + f.get("timestamp_step").asLong() * i);
        }
    }

    /**
     * The same person's state under today's model: keypoint-gru 1.2.0 was trained afresh and
     * declares a state_compat of its own, so 1.1.0's hidden state is not carried into other
     * weights. The person starts again at step 0, and the reset is announced as model-changed.
     */
    @Test
    void aPersonStateOfTheModelBeforeIsResetAndAnnouncedUnderTodaysModel() throws Exception {
        JsonNode f = fixture("pose-state-v2.json");
        StreamState<PoseState> s = new StateSerde<>(new PoseCodec()).deserialize("t", HexFormat.of().parseHex(f.get("state_hex").asText()));
        String key = f.get("key").asText();
        try (PipelineDriver pd = PipelineDriver.stepFed(Pipelines.load(Path.of(f.get("pipeline").asText())))) {
            assertNotEquals(s.stateCompat(), pd.manifest.stateCompat(), "today's model declares another state_compat");
            pd.<PoseState>store().put(key, s);
            pd.stepInput().pipeInput(key.getBytes(StandardCharsets.UTF_8), new FeatureRecordSerde().serialize("t",
                    new FeatureRecord("movenet-multipose-lightning@1.0.0", 30, new float[51])), 1_700_000_003_000L);
            List<String> preds = pd.output(PoseHead.PREDICTIONS).readValuesToList();
            assertEquals(1, preds.size());
            assertEquals(0, JSON.readTree(preds.get(0)).get("step").asLong(), "the person starts afresh");
            List<String> events = pd.stateEvents().readValuesToList();
            assertEquals(1, events.size());
            assertEquals(StateEvent.MODEL_CHANGED, JSON.readTree(events.get(0)).get("reason").asText());
        }
    }

    static StreamState<ForecastState> forecastState() throws Exception {
        JsonNode f = fixture("sensor-state-v1.json");
        return new StateSerde<>(new ForecastCodec()).deserialize("t", HexFormat.of().parseHex(f.get("state_hex").asText()));
    }

    static <P> void roundTrips(PayloadCodec<P> codec, StreamState<P> s) {
        StateSerde<P> serde = new StateSerde<>(codec);
        byte[] bytes = serde.serialize("t", s);
        assertEquals(StateSerde.FORMAT_VERSION, bytes[0], "first byte is the format version");
        StreamState<P> back = serde.deserialize("t", bytes);
        assertEquals(s.modelId(), back.modelId());
        assertEquals(s.modelVersion(), back.modelVersion());
        assertEquals(s.stateCompat(), back.stateCompat());
        assertEquals(s.steps(), back.steps());
        assertEquals(s.lastEventTime(), back.lastEventTime());
        assertArrayEquals(s.hidden(), back.hidden());
        assertEquals(s.payload(), back.payload());
        assertArrayEquals(bytes, serde.serialize("t", back), "re-serialised: the same bytes");
    }

    @Test
    void everyHeadsStateRoundTripsInTheCommonFormat() throws Exception {
        roundTrips(new ForecastCodec(), forecastState());
        JsonNode f = fixture("activity-state-v2.json");
        roundTrips(new ActivityCodec(), new StateSerde<>(new ActivityCodec()).deserialize("t", HexFormat.of().parseHex(f.get("state_hex").asText())));
    }

    @Test
    void badBytesAreSerializationExceptionsAndNullIsNull() throws Exception {
        StateSerde<ForecastState> serde = new StateSerde<>(new ForecastCodec());
        assertNull(serde.serialize("t", null));
        assertNull(serde.deserialize("t", null));
        byte[] bytes = serde.serialize("t", forecastState());
        byte[] v99 = bytes.clone();
        v99[0] = 99;
        SerializationException e = assertThrows(SerializationException.class, () -> serde.deserialize("t", v99));
        assertTrue(e.getMessage().contains("version 99"), e.getMessage());
        for (int cut : new int[] {1, 5, 40, bytes.length / 2, bytes.length - 1}) {
            byte[] truncated = Arrays.copyOf(bytes, cut);
            assertThrows(SerializationException.class, () -> serde.deserialize("t", truncated), "cut at " + cut);
        }
        byte[] padded = Arrays.copyOf(bytes, bytes.length + 3);
        assertThrows(SerializationException.class, () -> serde.deserialize("t", padded));
        // Another head's state in this store is refused by name, not misread.
        SerializationException other = assertThrows(SerializationException.class,
                () -> new StateSerde<>(new ActivityCodec()).deserialize("t", bytes));
        assertTrue(other.getMessage().contains("'forecast' payload"), other.getMessage());
        // The classifier never wrote format 1 of the sensor layout, nor the sensor format 2.
        byte[] v2 = bytes.clone();
        v2[0] = 2;
        assertThrows(SerializationException.class, () -> serde.deserialize("t", v2));
    }
}

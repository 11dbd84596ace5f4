package io.engram.engine.pipeline.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.pipeline.video.FramePreprocessorTest;
import io.engram.engine.runtime.Pipelines;
import io.engram.testkit.PipelineDriver;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import io.engram.engine.pipeline.video.FrameStage;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/** The video topology in a TopologyTestDriver with the real CNN encoder and activity GRU. */
@ParameterizedClass
@EnumSource(FrameStage.Layout.class)
class VideoTopologyTest {
    /** Every test runs on both layouts: the outputs must not depend on how the stages are joined. */
    @Parameter
    FrameStage.Layout layout;

    static final Path MODELS = Path.of("models/activity");
    static final ObjectMapper JSON = new ObjectMapper();

    PipelineSpec config;
    VideoActivityPipeline.Settings video;
    PipelineDriver pd;
    TopologyTestDriver driver;
    TestInputTopic<String, byte[]> frames;
    TestOutputTopic<String, byte[]> features;
    TestOutputTopic<String, String> predictions;
    TestOutputTopic<String, String> events;
    TestOutputTopic<byte[], byte[]> dead;
    TestOutputTopic<String, String> stateEvents;
    List<String> labels;

    @BeforeEach
    void start() throws Exception {
        config = Pipelines.load(Path.of("topology/video-activity.yaml"));
        video = config.settings(VideoActivityPipeline.INSTANCE).withLayout(layout, true);
        config = config.withSettings(video);
        pd = new PipelineDriver(config);
        driver = pd.driver;
        labels = pd.manifest.labels();
        PipelineTopics t = config.topics();
        frames = driver.createInputTopic(t.name(VideoActivityPipeline.FRAMES), new StringSerializer(), new ByteArraySerializer());
        features = driver.createOutputTopic(t.name(VideoActivityPipeline.FEATURES), new StringDeserializer(), new ByteArrayDeserializer());
        predictions = pd.output(ActivityHead.PREDICTIONS);
        events = pd.output(ActivityHead.EVENTS);
        dead = pd.deadLetters();
        stateEvents = pd.stateEvents();
    }

    @AfterEach
    void stop() throws Exception {
        pd.close();
    }

    void send(String camera, byte[] bytes, String contentType, long seq, long ts) {
        RecordHeaders h = new RecordHeaders();
        if (contentType != null) {
            h.add(FrameEncodeProcessor.H_CONTENT_TYPE, contentType.getBytes(StandardCharsets.UTF_8));
        }
        h.add(FrameEncodeProcessor.H_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        frames.pipeInput(new TestRecord<>(camera, bytes, h, ts));
    }

    @Test
    void aClipThroughTheLivePipelineEqualsPyTorchOfflineTo1e4PerClass() throws Exception {
        JsonNode g = JSON.readTree(MODELS.resolve("golden/activity-clip.json").toFile());
        int n = g.get("frames").asInt();
                for (int i = 0; i < n; i++) {
            byte[] png = Files.readAllBytes(MODELS.resolve(String.format("clip/frame-%05d.png", i)));
            send("cam-1", png, "image/png", i, 1_000_000L + 100L * i);
        }
        FeatureRecordSerde fs = new FeatureRecordSerde();
        List<TestRecord<String, byte[]>> feats = features.readRecordsToList();
        assertEquals(n, feats.size());
        for (int i = 0; i < n; i++) {
            FeatureRecord f = fs.deserialize("t", feats.get(i).value());
            assertEquals(i, f.sequence());
            for (int j = 0; j < f.values().length; j++) {
                assertEquals(g.get("features").get(i).get(j).asDouble(), f.values()[j], 1e-4, "frame " + i + " feature " + j);
            }
        }
        List<String> preds = predictions.readValuesToList();
        assertEquals(n, preds.size());
        // Expected events from PyTorch's probabilities: a label is announced once it has been on top
        // for events.min_frames frames in a row and differs from the label announced before.
        int minFrames = video.eventMinFrames();
        List<String> expectedEvents = new ArrayList<>();
        String top = null;
        int run = 0;
        String announced = null;
        for (int i = 0; i < n; i++) {
            JsonNode p = JSON.readTree(preds.get(i));
            assertEquals(i, p.get("frame_seq").asLong());
            assertEquals(1_000_000L + 100L * i, p.get("event_time").asLong());
            int best = 0;
            for (int c = 0; c < labels.size(); c++) {
                double expected = g.get("probs").get(i).get(c).asDouble();
                assertEquals(expected, p.get("probabilities").get(labels.get(c)).asDouble(), 1e-4, "frame " + i + " " + labels.get(c));
                if (expected > g.get("probs").get(i).get(best).asDouble()) {
                    best = c;
                }
            }
            assertEquals(labels.get(best), p.get("label").asText());
            run = labels.get(best).equals(top) ? run + 1 : 1;
            top = labels.get(best);
            if (run >= minFrames && !top.equals(announced)) {
                expectedEvents.add(i + ":" + announced + "->" + top);
                announced = top;
            }
        }
        List<String> got = new ArrayList<>();
        for (String e : events.readValuesToList()) {
            JsonNode j = JSON.readTree(e);
            got.add(j.get("frame_seq").asLong() + ":" + (j.get("previous_label").isNull() ? null : j.get("previous_label").asText())
                    + "->" + j.get("label").asText());
        }
        assertEquals(expectedEvents, got, "one event per activity that held the top label for " + minFrames + " frames");
        assertTrue(got.size() >= 3, "the clip's motion changes are announced");
    }

    private static String reason(TestRecord<byte[], byte[]> r) {
        return new String(r.headers().lastHeader(DeadLetterHandler.H_REASON).value(), StandardCharsets.UTF_8);
    }

    @Test
    void badFramesAreDeadLetteredWithTheirReasonsAndGoodFramesGoOn() throws Exception {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY);
        byte[] png = FramePreprocessorTest.encode(img, "png");
        byte[] jpeg = FramePreprocessorTest.encode(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB), "jpeg");
        byte[] small = FramePreprocessorTest.encode(new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY), "png");
        send("cam", png, "image/png", 0, 1000);
        send("cam", java.util.Arrays.copyOf(jpeg, jpeg.length / 3), "image/jpeg", 1, 1100);
        send("cam", png, "image/gif", 2, 1200);
        send("cam", new byte[0], "image/png", 3, 1300);
        send("cam", new byte[video.maxFrameBytes() + 1], "image/jpeg", 4, 1400);
        send("cam", small, "image/png", 5, 1500);
        send(null, png, "image/png", 6, 1600);
        send("cam", jpeg, "image/jpeg", 7, 1700);
        List<String> reasons = new ArrayList<>();
        dead.readRecordsToList().forEach(r -> reasons.add(reason(r)));
        assertEquals(List.of("corrupt-image", "unsupported-content-type", "empty-frame", "too-large", "frame-size-changed", "null-key"), reasons);
        List<String> preds = predictions.readValuesToList();
        assertEquals(2, preds.size(), "the good frames before and after the bad ones are processed");
        assertEquals(7, JSON.readTree(preds.get(1)).get("frame_seq").asLong());
    }

    @Test
    void aControlRecordOnTheFramesTopicResetsTheCameraAndForgetsItsFrameSize() throws Exception {
        byte[] png64 = FramePreprocessorTest.encode(new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY), "png");
        byte[] png128 = FramePreprocessorTest.encode(new BufferedImage(128, 128, BufferedImage.TYPE_BYTE_GRAY), "png");
        for (int i = 0; i < 5; i++) {
            send("cam", png64, "image/png", i, 1000 + 100L * i);
        }
        RecordHeaders h = new RecordHeaders();
        h.add(io.engram.engine.step.StateLifecycle.CONTROL_HEADER, "reset".getBytes(StandardCharsets.UTF_8));
        frames.pipeInput(new TestRecord<>("cam", new byte[0], h, 1500L));
        send("cam", png128, "image/png", 6, 1600); // a new resolution is accepted after the reset
        List<String> preds = predictions.readValuesToList();
        assertEquals(6, preds.size());
        assertEquals(0, JSON.readTree(preds.get(5)).get("step").asLong(), "the camera starts afresh");
        List<String> ev = stateEvents.readValuesToList();
        assertEquals(1, ev.size());
        JsonNode e = JSON.readTree(ev.get(0));
        assertEquals("cam", e.get("stream").asText());
        assertEquals("control", e.get("reason").asText());
        assertEquals(5, e.get("steps").asLong());
        assertTrue(dead.isEmpty(), "neither the control record nor the new frame size is an error");
    }

    @Test
    void aCameraSilentForLongerThanMaxGapStartsAfreshWithAnAnnouncedReset() throws Exception {
        assertTrue(config.statePolicy().maxGapMs() > 0, "the shipped video pipeline resets after a gap");
        byte[] png = FramePreprocessorTest.encode(new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY), "png");
        for (int i = 0; i < 5; i++) {
            send("cam", png, "image/png", i, 1000 + 100L * i);
        }
        long later = 1400 + config.statePolicy().maxGapMs() + 1;
        send("cam", png, "image/png", 5, later);
        List<String> preds = predictions.readValuesToList();
        assertEquals(0, JSON.readTree(preds.get(5)).get("step").asLong());
        JsonNode e = JSON.readTree(stateEvents.readValuesToList().get(0));
        assertEquals("gap", e.get("reason").asText());
        assertEquals(later, e.get("event_time").asLong());
    }
}

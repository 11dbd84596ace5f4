package io.engram.it;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.testkit.KafkaTestClient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.tools.cli.EngramCli;
import io.engram.engine.kafka.DeadLetterHandler;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.errors.BadInputException;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The video path end to end on a real in-process KRaft broker: `engram ingest video` sends the
 * golden clip's PNG frames, the live pipeline (exactly-once, RocksDB stores) decodes, encodes and
 * steps them, and every class probability equals PyTorch's offline run over the same frames.
 */
class VideoPipelineIT {
    static final Path MODELS = Path.of("models/activity");
    static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    Path stateDir;

    /**
     * Every committed record of the topic of each role: at least {@code atLeast} of it, and read on
     * past them once the pipeline has committed all its input frames and no transaction is open, so
     * that an exact count sees duplicates. By role.
     */
    private static Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> read(PipelineSpec cfg, Map<TopicRole, Integer> atLeast) {
        Map<String, Integer> byTopic = new java.util.LinkedHashMap<>();
        atLeast.forEach((role, n) -> byTopic.put(cfg.topics().name(role), n));
        Map<String, List<ConsumerRecord<byte[], byte[]>>> byTopicRead = TopicReader.readCommitted(kafka.bootstrap(), byTopic,
                Duration.ofSeconds(90), TopicReader.Settle.outputs(cfg.topics().except(VideoActivityPipeline.FRAMES))
                        .consumedBy(cfg.applicationId(), List.of(cfg.topics().name(VideoActivityPipeline.FRAMES))));
        Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> byRole = new HashMap<>();
        atLeast.keySet().forEach(role -> byRole.put(role, byTopicRead.get(cfg.topics().name(role))));
        return byRole;
    }

    @Test
    void anIngestedClipGivesPyTorchsProbabilitiesPerFrameAndBadFramesAreDeadLettered() throws Exception {
        PipelineSpec cfg = Pipelines.load(Path.of("topology/video-activity.yaml"))
                .withApplicationId("video-it").withMetricsPort(0);
        PipelineTopics t = cfg.topics();
        JsonNode g = JSON.readTree(MODELS.resolve("golden/activity-clip.json").toFile());
        int n = g.get("frames").asInt();

        try (PipelineRunner runner = PipelineRunner.start(cfg, kafka.bootstrap(), stateDir, new SimpleMeterRegistry())) {
            assertTrue(runner.awaitRunning(Duration.ofSeconds(60)), "pipeline running");
            // A bad frame from another camera, before the clip: dead-lettered, and the clip is unaffected.
            try (KafkaProducer<byte[], byte[]> p = KafkaTestClient.producer(kafka.bootstrap())) {
                ProducerRecord<byte[], byte[]> bad = new ProducerRecord<>(t.name(VideoActivityPipeline.FRAMES), "cam-bad".getBytes(StandardCharsets.UTF_8),
                        "not an image".getBytes(StandardCharsets.UTF_8));
                bad.headers().add(FrameEncodeProcessor.H_CONTENT_TYPE, "image/jpeg".getBytes(StandardCharsets.UTF_8));
                p.send(bad).get();
            }
            StringWriter err = new StringWriter();
            CommandLine cl = EngramCli.commandLine();
            cl.setErr(new PrintWriter(err));
            int code = cl.execute("ingest", "video", "--source", MODELS.resolve("clip").toString(), "--camera", "cam-1",
                    "--topic", t.name(VideoActivityPipeline.FRAMES), "-b", kafka.bootstrap(), "--format", "png", "--source-fps", "10", "--no-progress");
            assertEquals(0, code, err.toString());

            int lag = cfg.settings(io.engram.engine.pipeline.activity.VideoActivityPipeline.INSTANCE).refine().lag();
            Map<TopicRole, List<ConsumerRecord<byte[], byte[]>>> out = read(cfg, Map.of(ActivityHead.PREDICTIONS, n, VideoActivityPipeline.FEATURES, n,
                    TopicRole.DEAD_LETTER, 1, ActivityHead.EVENTS, 2, ActivityHead.REFINED, n - lag));
            List<ConsumerRecord<byte[], byte[]>> preds = out.get(ActivityHead.PREDICTIONS);
            assertEquals(n, preds.size(), "one prediction per frame, none twice");
            List<String> labels = List.of("still", "left", "right", "up", "down", "clockwise", "anticlockwise");
            Map<Long, JsonNode> bySeq = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : preds) {
                assertEquals("cam-1", new String(r.key(), StandardCharsets.UTF_8));
                JsonNode p = JSON.readTree(r.value());
                bySeq.put(p.get("frame_seq").asLong(), p);
            }
            assertEquals(n, bySeq.size(), "no frame twice");
            for (int i = 0; i < n; i++) {
                JsonNode p = bySeq.get((long) i);
                assertEquals(i, p.get("step").asLong(), "frames are stepped in order, once each");
                for (int c = 0; c < labels.size(); c++) {
                    assertEquals(g.get("probs").get(i).get(c).asDouble(), p.get("probabilities").get(labels.get(c)).asDouble(), 1e-4,
                            "frame " + i + " " + labels.get(c));
                }
            }

            List<ConsumerRecord<byte[], byte[]>> dead = out.get(TopicRole.DEAD_LETTER);
            assertEquals(1, dead.size(), "one dead letter, not two");
            assertEquals("corrupt-image", new String(dead.get(0).headers().lastHeader(DeadLetterHandler.H_REASON).value(),
                    StandardCharsets.UTF_8));
            assertEquals("not an image", new String(dead.get(0).value(), StandardCharsets.UTF_8), "the original bytes");
            assertEquals(1.0, runner.metrics().deadLetterCount(BadInputException.Reason.CORRUPT_IMAGE));

            List<ConsumerRecord<byte[], byte[]>> events = out.get(ActivityHead.EVENTS);
            assertTrue(events.size() >= 2, "activity changes are published");
            assertEquals(n, out.get(VideoActivityPipeline.FEATURES).size(), "one feature record per frame, none twice");

            // Fixed-lag refinement (the shipped file's refine.lag) on a broker: PyTorch's bidirectional model on the same windows.
            JsonNode rg = JSON.readTree(MODELS.resolve("golden/activity-refined-clip.json").toFile()).get("lags").get(Integer.toString(lag));
            List<ConsumerRecord<byte[], byte[]>> refined = out.get(ActivityHead.REFINED);
            assertEquals(n - lag, refined.size(), "one refined record per frame but the last L, none twice");
            for (int k = 0; k < refined.size(); k++) {
                JsonNode r = JSON.readTree(refined.get(k).value());
                int j = r.get("frame_seq").asInt();
                assertEquals(k, j, "refined records in frame order");
                assertEquals(lag, r.get("lag").asInt());
                for (int c = 0; c < labels.size(); c++) {
                    assertEquals(rg.get(j).get(c).asDouble(), r.get("probabilities").get(labels.get(c)).asDouble(), 1e-4,
                            "refined frame " + j + " " + labels.get(c));
                }
            }
        }
    }
}

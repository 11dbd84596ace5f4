package io.engram.it;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.tools.cli.EngramCli;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.TopicReader;
import io.engram.testkit.KafkaBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Java2DFrameConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Video anomaly detection end to end on a real in-process broker, with a real video file: an MP4
 * (FFmpeg, mpeg4, 320x240) is sent by `engram ingest video`; the video activity pipeline's CNN stage
 * writes its frames' features and the video anomaly pipeline (topology/video-anomaly.yaml, the
 * sensor pipeline's head) scores every frame, exactly once: one `video-anomaly-scores` record per
 * frame, read on past that count, and every alert is one of them.
 */
class VideoAnomalyIT {
    static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final KafkaBroker kafka = new KafkaBroker();

    @TempDir
    static Path work;

    /** The held-out "freeze" evaluation clip (64x64 PNGs) as a 320x240 MP4 at 10 frames/s. */
    static Path mp4(Path file) throws Exception {
        List<Path> pngs;
        try (Stream<Path> s = Files.list(Path.of("models/video-anomaly/eval/freeze-png"))) {
            pngs = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(file.toFile(), 320, 240, 0);
                Java2DFrameConverter c = new Java2DFrameConverter()) {
            r.setFormat("mp4");
            r.setVideoCodecName("mpeg4");
            r.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            r.setFrameRate(10);
            r.setVideoQuality(2);
            r.start();
            for (Path p : pngs) {
                BufferedImage src = ImageIO.read(p.toFile());
                BufferedImage big = new BufferedImage(320, 240, BufferedImage.TYPE_3BYTE_BGR);
                Graphics2D g = big.createGraphics();
                g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
                g.drawImage(src, 40, 0, 240, 240, null);
                g.dispose();
                r.record(c.convert(big));
            }
            r.stop();
        }
        return file;
    }

    @Test
    void aVideoFileThroughIngestGetsExactlyOneAnomalyScorePerFrame() throws Exception {
        String b = kafka.bootstrap();
        PipelineSpec activity = Pipelines.load(Path.of("topology/video-activity.yaml")).withApplicationId("va-it-activity").withMetricsPort(0);
        PipelineSpec anomaly = Pipelines.load(Path.of("topology/video-anomaly.yaml")).withApplicationId("va-it-anomaly").withMetricsPort(0);
        Path video = mp4(work.resolve("freeze.mp4"));
        try (PipelineRunner a = PipelineRunner.start(activity, b, work.resolve("state-a"), new SimpleMeterRegistry());
                PipelineRunner v = PipelineRunner.start(anomaly, b, work.resolve("state-v"), new SimpleMeterRegistry())) {
            assertTrue(a.awaitRunning(Duration.ofSeconds(60)) && v.awaitRunning(Duration.ofSeconds(60)), "both pipelines running");
            StringWriter err = new StringWriter();
            CommandLine cl = EngramCli.commandLine();
            cl.setErr(new PrintWriter(err));
            int code = cl.execute("ingest", "video", "--source", video.toString(), "--camera", "cam-1",
                    "--topic", activity.topics().name(VideoActivityPipeline.FRAMES), "-b", b, "--format", "jpeg", "--no-progress");
            assertEquals(0, code, err.toString());

            // Every frame's features, once the activity pipeline has consumed all the frames and committed.
            List<ConsumerRecord<byte[], byte[]>> features = TopicReader.readCommitted(b, activity.topics().name(VideoActivityPipeline.FEATURES), 250,
                    Duration.ofSeconds(90), TopicReader.Settle.outputs(List.of(activity.topics().name(VideoActivityPipeline.FEATURES)))
                            .consumedBy(activity.applicationId(), List.of(activity.topics().name(VideoActivityPipeline.FRAMES))));
            int n = features.size();
            assertTrue(n >= 250, "the video's frames were decoded and encoded: " + n);
            List<ConsumerRecord<byte[], byte[]>> scores = TopicReader.readCommitted(b, anomaly.topics().name(ForecastHead.PREDICTIONS), n,
                    Duration.ofSeconds(90), TopicReader.Settle.outputs(anomaly.topics().except(AnomalyPipeline.INPUT))
                            .consumedBy(anomaly.applicationId(), List.of(anomaly.topics().name(AnomalyPipeline.INPUT))));
            assertEquals(n, scores.size(), "exactly one score per frame, none twice");
            List<Long> alerted = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                assertEquals("cam-1", new String(scores.get(i).key(), StandardCharsets.UTF_8));
                JsonNode s = JSON.readTree(scores.get(i).value());
                assertEquals(i, s.get("step").asLong(), "frames are scored in order, once each");
                assertEquals("video-feature-forecaster", s.get("model_id").asText());
                if (s.get("anomaly").asBoolean()) {
                    alerted.add(s.get("step").asLong());
                }
            }
            List<ConsumerRecord<byte[], byte[]>> alerts = TopicReader.readCommitted(b, anomaly.topics().name(ForecastHead.ANOMALIES), alerted.size(),
                    Duration.ofSeconds(30));
            List<Long> alertSteps = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : alerts) {
                alertSteps.add(JSON.readTree(r.value()).get("step").asLong());
            }
            assertEquals(alerted, alertSteps, "the alerts are exactly the scores flagged as anomalies");
            assertTrue(TopicReader.readCommitted(b, anomaly.topics().deadLetter(), 0, Duration.ofSeconds(30)).isEmpty(),
                    "no feature record was refused");
            System.out.printf("video anomaly IT: %d frames scored, alerts at frames %s%n", n, alerted);
        }
    }
}

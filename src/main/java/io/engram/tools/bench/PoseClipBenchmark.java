package io.engram.tools.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.pipeline.pose.PoseActivityPipeline;
import io.engram.engine.pipeline.pose.PoseHead;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.tools.broker.EmbeddedKafka;
import io.engram.tools.ingest.video.FrameEncoder;
import io.engram.tools.ingest.video.FrameSource;
import io.engram.tools.ingest.video.FrameSources;
import io.engram.tools.ingest.video.SourceOptions;
import io.engram.tools.ingest.video.VideoReplay;
import io.engram.tools.kafka.KafkaClients;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;

/**
 * Clip-level accuracy of the person-activity pipeline on labelled clips (BIISC naming, see
 * {@link PoseClipScores}), through the real pipeline on an in-process broker: each clip is sent
 * as its own camera (id = file name without extension) the way {@code engram ingest video} sends a
 * file (every frame, JPEG quality 85, {@link VideoReplay}), the pipeline ({@link PipelineRunner}, as
 * {@code engram run} starts it) poses and classifies, and its {@code predictions} topic is read
 * (read_committed) once the application has committed every frame of every clip.
 */
public final class PoseClipBenchmark {
    private PoseClipBenchmark() {}

    /** What was run, and each clip's person's figures. */
    public record Result(List<PoseClipScores.Scored> clips, long framesSent, long predictions, double seconds) {}

    /** The clips of {@code dir} ({@code .avi}, {@code .mp4}, {@code .mkv}), sorted; {@code side} keeps one side (null: all). */
    public static List<Path> clips(Path dir, String side, int limit) throws Exception {
        List<Path> all;
        try (var s = Files.list(dir)) {
            all = s.filter(p -> p.getFileName().toString().matches("(?i).*\\.(avi|mp4|mkv)"))
                    .filter(p -> side == null || PoseClipScores.Clip.parse(p.getFileName().toString()).side().equalsIgnoreCase(side))
                    .sorted().toList();
        }
        if (limit <= 0 || limit >= all.size()) {
            return all;
        }
        // Evenly spaced over the sorted list, so that a subset still spans subjects, actions and sides.
        List<Path> some = new ArrayList<>();
        for (int i = 0; i < limit; i++) {
            some.add(all.get((int) ((long) i * all.size() / limit)));
        }
        return some;
    }

    public static Result run(PipelineSpec base, List<Path> clips, int threads, PrintStream progress) throws Exception {
        return run(base, clips, threads, null, progress);
    }

    /**
     * As {@link #run(PipelineSpec, List, int, PrintStream)}; when {@code dump} is not null the pipeline
     * also writes its keypoints topic ({@code pose.write_keypoints}), and every person's keypoint record
     * (the 51 values the keypoint model is fed) and every prediction is written to {@code dump} as JSON
     * lines: {@code {"type":"kp","camera","track","seq","ts","kp":[51]}} and
     * {@code {"type":"pred","camera","track","seq","step","label","probs":{..}}}, so that the model can be
     * replayed offline (models/pose-activity/biisc_eval.py).
     */
    public static Result run(PipelineSpec base, List<Path> clips, int threads, Path dump, PrintStream progress) throws Exception {
        long t0 = System.nanoTime();
        String id = "engram-pose-bench-" + UUID.randomUUID();
        PipelineSpec spec = base.withApplicationId(id).withMetricsPort(0).withThreads(threads);
        if (dump != null) {
            PoseActivityPipeline.Settings ps = spec.settings(PoseActivityPipeline.INSTANCE);
            spec = spec.withSettings(ps.withLayout(ps.layout(), true));
        }
        String keypoints = spec.topics().name(PoseActivityPipeline.KEYPOINTS);
        java.io.BufferedWriter dumpOut = dump == null ? null : Files.newBufferedWriter(dump, StandardCharsets.UTF_8);
        String frames = spec.topics().name(PoseActivityPipeline.FRAMES);
        String predictions = spec.topics().name(PoseHead.PREDICTIONS);
        Map<String, Integer> sent = new LinkedHashMap<>();
        Map<String, PoseClipScores.Tally> tallies = new LinkedHashMap<>();
        long predictionCount = 0;
        ObjectMapper json = new ObjectMapper();
        Path state = Files.createTempDirectory("engram-pose-bench-");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String bootstrap = kafka.bootstrapServers();
            EmbeddedKafka.createTopics(bootstrap, spec.topics().partitions(), (short) 1, frames);
            try (PipelineRunner r = PipelineRunner.start(spec, bootstrap, state, new SimpleMeterRegistry());
                    KafkaProducer<byte[], byte[]> producer = VideoReplay.producer(bootstrap);
                    KafkaConsumer<String, byte[]> out = KafkaClients.outputReader(bootstrap, "pose-bench-" + UUID.randomUUID(), Map.of());
                    Admin admin = KafkaClients.admin(bootstrap, Map.of(), Map.of())) {
                if (!r.awaitRunning(Duration.ofSeconds(120))) {
                    throw new IllegalStateException("the person-activity pipeline did not start");
                }
                long start = 1_700_000_000_000L;
                int i = 0;
                for (Path clip : clips) {
                    String camera = PoseClipScores.Clip.parse(clip.getFileName().toString()).name();
                    try (FrameSource src = FrameSources.open(clip.toString(), SourceOptions.defaults())) {
                        VideoReplay.Options o = new VideoReplay.Options(frames, camera, FrameEncoder.Settings.jpeg(), 0, false, false, 0,
                                start + i * 600_000L, () -> true);
                        VideoReplay.Summary s = VideoReplay.send(src, o, producer, VideoReplay.ProgressListener.NONE);
                        if (s.sourceError() != null || s.refused() > 0) {
                            throw new IllegalStateException(clip + ": " + s.sourceError() + ", " + s.refused() + " frames refused");
                        }
                        sent.put(camera, (int) s.sent());
                        tallies.put(camera, new PoseClipScores.Tally());
                    }
                    i++;
                }
                producer.flush();
                long total = sent.values().stream().mapToLong(Integer::longValue).sum();
                progress.printf(Locale.ROOT, "  sent %d clips, %d frames, in %.0f s; posing...%n", clips.size(), total,
                        (System.nanoTime() - t0) / 1e9);
                // Every frame accounted for: the application's committed offsets on the frames topic at their end.
                List<TopicPartition> inParts = new ArrayList<>();
                for (int p = 0; p < spec.topics().partitions(); p++) {
                    inParts.add(new TopicPartition(frames, p));
                }
                Map<TopicPartition, Long> ends = new LinkedHashMap<>();
                try (KafkaConsumer<String, byte[]> probe = KafkaClients.outputReader(bootstrap, "probe-" + UUID.randomUUID(), Map.of())) {
                    probe.endOffsets(inParts).forEach(ends::put);
                }
                long lastReport = 0;
                while (true) {
                    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(id).partitionsToOffsetAndMetadata()
                            .get();
                    long behind = 0;
                    for (var e : ends.entrySet()) {
                        OffsetAndMetadata c = committed.get(e.getKey());
                        behind += e.getValue() - (c == null ? 0 : c.offset());
                    }
                    if (behind <= 0) {
                        break;
                    }
                    if (System.nanoTime() - lastReport > 30e9) {
                        lastReport = System.nanoTime();
                        progress.printf(Locale.ROOT, "  %.0f of %d frames posed (%.0f s)%n", r.metrics().encodedCount(), total,
                                (System.nanoTime() - t0) / 1e9);
                    }
                    Thread.sleep(500);
                }
                // Read the predictions to the end (read_committed: everything those commits wrote).
                List<TopicPartition> outParts = new ArrayList<>();
                for (int p = 0; p < spec.topics().partitions(); p++) {
                    outParts.add(new TopicPartition(predictions, p));
                }
                out.assign(outParts);
                out.seekToBeginning(outParts);
                Map<TopicPartition, Long> outEnds = out.endOffsets(outParts);
                while (outParts.stream().anyMatch(tp -> out.position(tp) < outEnds.get(tp))) {
                    for (ConsumerRecord<String, byte[]> rec : out.poll(Duration.ofMillis(500))) {
                        JsonNode n = json.readTree(new String(rec.value(), StandardCharsets.UTF_8));
                        PoseClipScores.Tally t = tallies.get(n.get("camera").asText());
                        if (t != null) {
                            t.add(n.get("track").asLong(), n.get("label").asText());
                            predictionCount++;
                        }
                        if (dumpOut != null) {
                            Map<String, Object> row = new LinkedHashMap<>();
                            row.put("type", "pred");
                            row.put("camera", n.get("camera").asText());
                            row.put("track", n.get("track").asLong());
                            row.put("seq", n.get("frame_seq").asLong());
                            row.put("step", n.get("step").asLong());
                            row.put("label", n.get("label").asText());
                            row.put("probs", n.get("probabilities"));
                            dumpOut.write(json.writeValueAsString(row));
                            dumpOut.newLine();
                        }
                    }
                }
                if (dumpOut != null) {
                    dumpKeypoints(bootstrap, keypoints, spec.topics().partitions(), json, dumpOut);
                    dumpOut.close();
                    progress.println("  keypoints and predictions written to " + dump);
                }
            }
        }
        List<PoseClipScores.Scored> scored = new ArrayList<>();
        for (var e : sent.entrySet()) {
            scored.add(PoseClipScores.score(PoseClipScores.Clip.parse(e.getKey()), e.getValue(), tallies.get(e.getKey())));
        }
        long total = sent.values().stream().mapToLong(Integer::longValue).sum();
        return new Result(scored, total, predictionCount, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One keypoints-topic record (key camera/track; the camera may itself contain '/') as a dump row;
     * {@code aspect}: the frame's width / height from the record's headers (the travel gate's).
     */
    static Map<String, Object> keypointRow(String key, long timestamp, io.engram.engine.pipeline.video.FeatureRecord f, double aspect) {
        int slash = key.lastIndexOf('/');
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("type", "kp");
        row.put("camera", key.substring(0, slash));
        row.put("track", Long.parseLong(key.substring(slash + 1)));
        row.put("seq", f.sequence());
        row.put("ts", timestamp);
        row.put("kp", f.values());
        row.put("aspect", aspect);
        return row;
    }

    /** Every record of the keypoints topic (key camera/track, a 51-float feature record) as a JSON line. */
    private static void dumpKeypoints(String bootstrap, String topic, int partitions, ObjectMapper json, java.io.BufferedWriter w)
            throws Exception {
        io.engram.engine.pipeline.video.FeatureRecordSerde serde = new io.engram.engine.pipeline.video.FeatureRecordSerde();
        try (KafkaConsumer<String, byte[]> in = KafkaClients.outputReader(bootstrap, "pose-bench-kp-" + UUID.randomUUID(), Map.of())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                parts.add(new TopicPartition(topic, p));
            }
            in.assign(parts);
            in.seekToBeginning(parts);
            Map<TopicPartition, Long> ends = in.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> in.position(tp) < ends.get(tp))) {
                for (ConsumerRecord<String, byte[]> rec : in.poll(Duration.ofMillis(500))) {
                    w.write(json.writeValueAsString(keypointRow(rec.key(), rec.timestamp(), serde.deserialize(topic, rec.value()),
                            io.engram.engine.pipeline.pose.PersonRecord.aspect(rec.headers()))));
                    w.newLine();
                }
            }
        }
    }

    /** The report: matrices, accuracies and intervals, overall and per side. */
    public static Map<String, Object> report(Result res, PrintStream out) {
        List<PoseClipScores.Scored> clips = res.clips();
        Map<String, Object> j = new LinkedHashMap<>();
        long noPerson = clips.stream().filter(s -> s.personFrames() == 0).count();
        out.printf(Locale.ROOT, "%d clips, %d frames, %d predictions, %.0f s; %d clips with no person seen%n%n", clips.size(),
                res.framesSent(), res.predictions(), res.seconds(), noPerson);
        j.put("clips", clips.size());
        j.put("frames", res.framesSent());
        j.put("predictions", res.predictions());
        j.put("seconds", res.seconds());
        j.put("clips_without_person", noPerson);

        BinaryConfusion sw = PoseClipScores.standWalk(clips);
        out.println("Standing against walking (walking when walk + run frames outnumber stand frames of the clip's person):");
        out.print(sw.table());
        out.println("  accuracy " + sw.accuracy() + "; walking recall " + sw.positiveRecall() + "; standing recall " + sw.negativeRecall());
        j.put("stand_walk", matrix(sw));

        PoseClipScores.Loso loso = PoseClipScores.leaveOneSubjectOut(clips);
        BinaryConfusion wv = loso.confusion();
        out.println();
        out.println("Waving against the other seven actions (wave share of the person's frames > threshold, chosen leave-one-subject-out):");
        out.println("  thresholds chosen: " + loso.thresholdBySubject());
        out.print(wv.table());
        double[] ba = wv.balancedAccuracy();
        out.printf(Locale.ROOT, "  accuracy %s; balanced accuracy %.1f%% [%.1f, %.1f]; wave recall %s; other recall %s; F1 (wave) %.3f%n",
                wv.accuracy(), 100 * ba[0], 100 * ba[1], 100 * ba[2], wv.positiveRecall(), wv.negativeRecall(), f1(wv));
        Map<String, Object> wj = matrix(wv);
        wj.put("thresholds_by_subject", loso.thresholdBySubject());
        j.put("wave_loso", wj);

        out.println("  in-sample curve (all clips at one threshold):");
        Map<String, Object> curve = new LinkedHashMap<>();
        for (double t : new double[] {0.0, 0.05, 0.1, 0.2, 0.3, 0.5}) {
            BinaryConfusion c = PoseClipScores.wave(clips, t);
            out.printf(Locale.ROOT, "    > %.2f: TP %d FN %d FP %d TN %d, balanced accuracy %.1f%%%n", t, c.tp(), c.fn(), c.fp(), c.tn(),
                    100 * c.balancedAccuracy()[0]);
            curve.put(String.format(Locale.ROOT, "%.2f", t), matrix(c));
        }
        j.put("wave_curve", curve);

        out.println();
        out.println("Per side:");
        Map<String, Object> sides = new LinkedHashMap<>();
        for (String side : List.of("FCE", "LFT", "RGT")) {
            List<PoseClipScores.Scored> s = clips.stream().filter(c -> c.clip().side().equals(side)).toList();
            if (s.isEmpty()) {
                continue;
            }
            BinaryConfusion a = PoseClipScores.standWalk(s);
            BinaryConfusion w = PoseClipScores.wave(s, loso.thresholdBySubject());
            out.printf(Locale.ROOT, "  %s: stand/walk accuracy %s; wave/other accuracy %s, balanced %.1f%%, F1 (wave) %.3f%n", side,
                    a.accuracy(), w.accuracy(), 100 * w.balancedAccuracy()[0], f1(w));
            sides.put(side, Map.of("stand_walk", matrix(a), "wave_loso", matrix(w)));
        }
        j.put("per_side", sides);

        List<Map<String, Object>> rows = new ArrayList<>();
        for (PoseClipScores.Scored s : clips) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("clip", s.clip().name());
            row.put("frames", s.frames());
            row.put("tracks", s.tracks());
            row.put("person_frames", s.personFrames());
            row.put("labels", s.labels());
            row.put("decided_walking", s.decidedWalking());
            row.put("wave_share", s.waveShare());
            rows.add(row);
        }
        j.put("per_clip", rows);
        return j;
    }

    private static Map<String, Object> matrix(BinaryConfusion c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("positive", c.positive());
        m.put("tp", c.tp());
        m.put("fn", c.fn());
        m.put("fp", c.fp());
        m.put("tn", c.tn());
        m.put("accuracy", interval(c.accuracy()));
        m.put("positive_recall", interval(c.positiveRecall()));
        m.put("negative_recall", interval(c.negativeRecall()));
        double[] ba = c.balancedAccuracy();
        m.put("balanced_accuracy", List.of(ba[0], ba[1], ba[2]));
        m.put("f1", f1(c));
        return m;
    }

    /** F1 of the positive class: 2 TP / (2 TP + FP + FN); 0 when there is no positive at all. */
    static double f1(BinaryConfusion c) {
        long d = 2L * c.tp() + c.fp() + c.fn();
        return d == 0 ? 0 : 2.0 * c.tp() / d;
    }

    private static List<Double> interval(BinaryConfusion.Interval i) {
        return List.of(i.p(), i.lo(), i.hi());
    }
}

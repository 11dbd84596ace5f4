package io.engram.tools.tail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FrameEncodeProcessor;
import io.engram.tools.kafka.KafkaAccess;
import io.engram.tools.kafka.KafkaClients;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * {@code engram tail --draw DIR}: joins a person-activity pipeline's {@code person-poses} with the
 * camera frames they came from (and, when given, {@code person-activity}'s labels) by camera and
 * frame sequence number, and writes each frame with its people drawn on it ({@link PoseRenderer})
 * as {@code DIR/<camera>/<seq>.jpg}, one JSON line printed per file.
 *
 * <p>A frame is drawn once the pipeline is past it and its people and labels have all been read:
 * a record of a later frame of its camera has arrived, and every partition of the poses and
 * activity topics has either delivered a later frame of that camera or been read to its end (the
 * topics are keyed by person, so one frame's people are spread over partitions); or when the tail
 * ends. Frames without people are drawn bare, so that the folder is the whole clip. The frames
 * topic is usually ahead of the poses (read from the beginning, it is all there at once): once
 * {@link #MAX_PENDING} frames wait, its partitions are paused until the poses catch up; if no pose
 * arrives for {@link #STALL} meanwhile (the pipeline is not running), the oldest waiting half is
 * drawn as it is and reading goes on.
 *
 * <p>Lifecycle as {@link TopicTail}: {@link #open} checks the topics and positions one consumer on
 * all their partitions (read_committed); {@link #run} on one thread; {@link #close} idempotent.
 */
public final class PoseDraw implements AutoCloseable {
    /**
     * What to draw.
     *
     * @param poses the person-poses topic (binary feature records keyed camera/track)
     * @param frames the frames topic the pipeline read (key camera id, header seq)
     * @param activity the person-activity topic, or null to draw without labels
     * @param max stop after this many frames written, or null
     * @param idleTimeout stop after this long without a new record, or null
     */
    public record Options(String bootstrap, String poses, String frames, String activity, Path dir, boolean fromBeginning, Long max,
            Duration idleTimeout, Map<String, String> client) {}

    /** Frames (all cameras) that may wait for their people before the frames topic is paused. */
    public static final int MAX_PENDING = 256;
    /** How long a paused frames topic waits for poses before the oldest waiting frames are drawn without them. */
    public static final Duration STALL = Duration.ofSeconds(10);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration POLL = Duration.ofMillis(200);

    private final Options options;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final FeatureRecordSerde serde = new FeatureRecordSerde();
    /** Per camera, per frame sequence number: what has arrived of that frame. */
    private final Map<String, TreeMap<Long, Pending>> pending = new HashMap<>();
    /** Labels by person key and frame, until their frame is drawn. */
    private final Map<String, Map<Long, JsonNode>> labels = new HashMap<>();
    private long written;
    private boolean closed;
    /** Where {@link #run} reports each file, and its limit: set at its start. */
    private Consumer<String> out = line -> {};
    private long max = Long.MAX_VALUE;

    /** One frame waiting to be drawn: its bytes (null until read) and its people. */
    private static final class Pending {
        byte[] image;
        final Map<String, float[]> people = new LinkedHashMap<>();
    }

    private final List<TopicPartition> framePartitions;
    /** The partitions of the poses and activity topics, and per partition, per camera, the latest frame it delivered. */
    private final Map<TopicPartition, Map<String, Long>> delivered = new HashMap<>();
    /** Frames read (with their image) and not drawn yet, all cameras. */
    private int waiting;
    /** Per camera, the latest frame read from the frames topic (a camera's frames come in order). */
    private final Map<String, Long> latestImage = new HashMap<>();
    private boolean paused;
    private long lastPose = System.nanoTime();

    private PoseDraw(Options options, KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> framePartitions) {
        this.options = options;
        this.consumer = consumer;
        this.framePartitions = framePartitions;
        for (TopicPartition tp : consumer.assignment()) {
            if (!tp.topic().equals(options.frames())) {
                delivered.put(tp, new HashMap<>());
            }
        }
    }

    /** Checks the topics (a {@link ConfigException} naming a missing one), creates the consumer and positions it. */
    public static PoseDraw open(Options o, Duration checkTimeout) {
        List<TopicPartition> tps = new ArrayList<>();
        List<String> topics = new ArrayList<>(List.of(o.poses(), o.frames()));
        if (o.activity() != null) {
            topics.add(o.activity());
        }
        for (String t : topics) {
            KafkaAccess.describeTopic(o.bootstrap(), o.client(), t, checkTimeout).partitions()
                    .forEach(p -> tps.add(new TopicPartition(t, p.partition())));
        }
        try {
            Files.createDirectories(o.dir());
        } catch (IOException e) {
            throw new ConfigException("--draw " + o.dir() + ": cannot create the folder: " + e.getMessage() + ". Fix: name a writable folder");
        }
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "engram-tail-draw");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Frames are large: fetch a few at a time rather than a megabyte per partition per poll.
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        KafkaConsumer<byte[], byte[]> consumer = KafkaClients.consumer(o.bootstrap(), p, o.client());
        try {
            consumer.assign(tps);
            if (o.fromBeginning()) {
                consumer.seekToBeginning(tps);
            } else {
                consumer.seekToEnd(tps);
            }
            for (TopicPartition tp : tps) {
                consumer.position(tp, checkTimeout);
            }
        } catch (RuntimeException e) {
            consumer.close(Duration.ofSeconds(5));
            throw e;
        }
        return new PoseDraw(o, consumer, tps.stream().filter(tp -> tp.topic().equals(o.frames())).toList());
    }

    /**
     * Reads and draws until {@code max} frames are written, {@code idleTimeout} passes without a
     * record, or {@code keepGoing} turns false; then draws what still waits (with its frame).
     *
     * @param out gets one JSON line per file written: {@code {"camera", "frame_seq", "people", "file"}}
     * @return frames written
     */
    public long run(Consumer<String> out, BooleanSupplier keepGoing) {
        this.out = out;
        this.max = options.max() == null ? Long.MAX_VALUE : options.max();
        long idleNanos = options.idleTimeout() == null ? Long.MAX_VALUE : options.idleTimeout().toNanos();
        long last = System.nanoTime();
        while (written < max && keepGoing.getAsBoolean()) {
            var records = consumer.poll(POLL);
            flowControl();
            if (records.isEmpty()) {
                if (System.nanoTime() - last >= idleNanos) {
                    break;
                }
                continue;
            }
            last = System.nanoTime();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                take(r);
            }
            for (String camera : List.copyOf(pending.keySet())) {
                drawComplete(camera);
            }
        }
        for (String camera : List.copyOf(pending.keySet())) {
            drawUpTo(camera, Long.MAX_VALUE);
        }
        return written;
    }

    /** Pauses the frames topic while too many frames wait for their people; unblocks a stall. */
    private void flowControl() {
        if (!paused && waiting >= MAX_PENDING) {
            consumer.pause(framePartitions);
            paused = true;
        } else if (paused && waiting <= MAX_PENDING / 2) {
            consumer.resume(framePartitions);
            paused = false;
        } else if (paused && System.nanoTime() - lastPose > STALL.toNanos()) {
            // No pose for a while: the pipeline is behind or stopped. Draw the oldest half as it is.
            for (int i = 0; i < MAX_PENDING / 2 && waiting > 0; i++) {
                String camera = null;
                long oldest = Long.MAX_VALUE;
                for (var e : pending.entrySet()) {
                    if (!e.getValue().isEmpty() && e.getValue().firstKey() < oldest) {
                        oldest = e.getValue().firstKey();
                        camera = e.getKey();
                    }
                }
                drawUpTo(camera, oldest);
            }
            lastPose = System.nanoTime();
        }
    }

    private void take(ConsumerRecord<byte[], byte[]> r) {
        if (r.key() == null || r.value() == null) {
            return;
        }
        String key = new String(r.key(), StandardCharsets.UTF_8);
        if (r.topic().equals(options.frames())) {
            Long seq = seq(r);
            if (seq != null) {
                Pending p = frame(key, seq);
                if (p.image == null) {
                    waiting++;
                }
                p.image = r.value();
                latestImage.merge(key, seq, Math::max);
            }
            return;
        }
        int slash = key.lastIndexOf('/');
        if (slash < 0) {
            return; // not a person's key (camera/track)
        }
        String camera = key.substring(0, slash);
        if (r.topic().equals(options.poses())) {
            FeatureRecord f;
            try {
                f = serde.deserialize(r.topic(), r.value());
            } catch (RuntimeException e) {
                return; // not a poses record: nothing to draw from it
            }
            lastPose = System.nanoTime();
            seen(r, camera, f.sequence());
            frame(camera, f.sequence()).people.put(key.substring(slash + 1), f.values());
        } else if (r.topic().equals(options.activity())) {
            try {
                JsonNode n = JSON.readTree(r.value());
                labels.computeIfAbsent(key, k -> new HashMap<>()).put(n.path("frame_seq").asLong(), n);
                seen(r, camera, n.path("frame_seq").asLong());
            } catch (IOException e) {
                // not a prediction: no label
            }
        }
    }

    private void seen(ConsumerRecord<byte[], byte[]> r, String camera, long seq) {
        delivered.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), tp -> new HashMap<>()).merge(camera, seq, Math::max);
    }

    /** Draws the waiting frames of {@code camera}, oldest first, while the pipeline is past them and all of theirs has been read. */
    private void drawComplete(String camera) {
        TreeMap<Long, Pending> frames = pending.get(camera);
        long past = Long.MIN_VALUE; // the latest frame of the camera any partition delivered
        for (Map<String, Long> d : delivered.values()) {
            past = Math.max(past, d.getOrDefault(camera, Long.MIN_VALUE));
        }
        Map<TopicPartition, Long> ends = null;
        while (frames != null && !frames.isEmpty() && frames.firstKey() < past) {
            long seq = frames.firstKey();
            if (frames.firstEntry().getValue().image == null && latestImage.getOrDefault(camera, Long.MIN_VALUE) < seq) {
                // Its people came before its image (the frames topic is read in larger pieces): wait for the image,
                // unless the frames topic has been read to its end (the frame came before the tail started).
                if (ends == null) {
                    ends = consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(10));
                }
                for (TopicPartition tp : framePartitions) {
                    if (consumer.position(tp) < ends.getOrDefault(tp, 0L)) {
                        return;
                    }
                }
            }
            for (var e : delivered.entrySet()) {
                Long latest = e.getValue().get(camera);
                if (latest != null && latest > seq) {
                    continue; // this partition is past the frame: it delivered all it has of it (a partition is in order)
                }
                if (ends == null) {
                    // Asked now, after a later frame was seen: every record of this frame was committed before these ends.
                    ends = consumer.endOffsets(consumer.assignment(), Duration.ofSeconds(10));
                }
                if (consumer.position(e.getKey()) < ends.getOrDefault(e.getKey(), 0L)) {
                    return; // not read to its end: it may still hold people (or labels) of this frame
                }
            }
            drawUpTo(camera, seq);
        }
    }

    private Pending frame(String camera, long seq) {
        return pending.computeIfAbsent(camera, c -> new TreeMap<>()).computeIfAbsent(seq, s -> new Pending());
    }

    /** Draws (and forgets) every waiting frame of {@code camera} up to {@code seq}. */
    private void drawUpTo(String camera, long seq) {
        TreeMap<Long, Pending> frames = pending.get(camera);
        if (frames == null) {
            return;
        }
        var head = frames.headMap(seq, true);
        for (var e : List.copyOf(head.entrySet())) {
            head.remove(e.getKey());
            if (e.getValue().image != null) {
                waiting--;
            }
            drawOne(camera, e.getKey(), e.getValue());
        }
    }

    private void drawOne(String camera, long seq, Pending p) {
        List<PoseRenderer.Person> people = new ArrayList<>();
        for (var e : p.people.entrySet()) {
            String person = camera + "/" + e.getKey();
            Map<Long, JsonNode> byFrame = labels.get(person);
            JsonNode l = byFrame == null ? null : byFrame.remove(seq);
            if (byFrame != null) {
                byFrame.keySet().removeIf(s -> s < seq); // labels of frames already drawn
                if (byFrame.isEmpty()) {
                    labels.remove(person);
                }
            }
            people.add(new PoseRenderer.Person(e.getKey(), e.getValue(), l == null ? null : l.path("label").asText(),
                    l == null ? 0 : l.path("probability").asDouble()));
        }
        if (p.image == null || written >= max) {
            return; // its frame was read before the tail started (or the limit is reached): nothing to draw on
        }
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(p.image));
        } catch (IOException e) {
            img = null;
        }
        if (img == null) {
            return; // a frame the pipeline dead-lettered too (corrupt-image): it has no people either
        }
        Path file = options.dir().resolve(safe(camera)).resolve(String.format(Locale.ROOT, "%08d.jpg", seq));
        try {
            Files.createDirectories(file.getParent());
            if (!ImageIO.write(PoseRenderer.draw(img, people), "jpg", file.toFile())) {
                throw new IOException("no JPEG writer");
            }
        } catch (IOException e) {
            throw new ConfigException("--draw: cannot write " + file + ": " + e.getMessage() + ". Fix: name a writable folder with room");
        }
        written++;
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("camera", camera);
        line.put("frame_seq", seq);
        line.put("people", people.size());
        line.put("file", file.toString());
        try {
            out.accept(JSON.writeValueAsString(line));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A camera id as one folder name: {@code /} and other characters a file system may refuse become {@code _}. */
    static String safe(String camera) {
        String s = camera.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
    }

    private static Long seq(ConsumerRecord<byte[], byte[]> r) {
        Header h = r.headers().lastHeader(FrameEncodeProcessor.H_SEQ);
        if (h == null) {
            return null;
        }
        try {
            return Long.parseLong(new String(h.value(), StandardCharsets.UTF_8).trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        consumer.close(Duration.ofSeconds(5));
    }
}

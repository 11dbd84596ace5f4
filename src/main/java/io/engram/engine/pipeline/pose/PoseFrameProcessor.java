package io.engram.engine.pipeline.pose;

import io.engram.engine.errors.BadInputException;
import io.engram.engine.errors.BadInputException.Reason;
import io.engram.engine.kafka.InputKeyDeserializer;
import io.engram.engine.model.Person;
import io.engram.engine.model.PoseEstimator;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.video.FeatureRecord;
import io.engram.engine.pipeline.video.FeatureRecordSerde;
import io.engram.engine.pipeline.video.FrameIntake;
import io.engram.engine.pipeline.video.FramePreprocessor;
import io.engram.engine.pipeline.video.FrameStage;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The pose stage: decodes each frame (as the video pipeline's frame stage does, same checks and
 * reasons), finds the people in it ({@link PoseEstimator}), continues or starts the camera's tracks
 * ({@link PersonTracker}; the camera's {@link PersonTracks} are kept in a changelogged store keyed by
 * camera, so a restart or a task move goes on with the same track ids) and forwards one record per
 * person seen, keyed {@code camera/track} ({@link #key}): a {@link FeatureRecord} in its binary form
 * whose 51 values are the person's 17 keypoints as {@code (x / width, y / height, score)}, the pose
 * model's {@code id@version} as its encoder, the frame's {@code seq}, and the frame's timestamp; its
 * headers are the frame's, with the frame's size in pixels as {@code frame-width} and {@code frame-height}.
 * People go out in track id order. A frame with nobody in it forwards nothing.
 *
 * <p>A track that ends (unseen for the tracker's timeout) forwards nothing: its stream's state is
 * deleted and announced by the step's idle expiry ({@code state.idle_ttl_ms}), as any idle stream's
 * is; track ids never repeat on a camera, so an ended track's key is never fed again. A reset
 * control record for a camera ends all its tracks at once and forwards a reset for each of their
 * streams; the camera's next id is kept.
 *
 * <p>Bad frames (no key, empty, too large, corrupt, unsupported type, a camera id too long to take
 * a track id within the key limit) are thrown as {@link BadInputException} and dead-lettered by the
 * processing exception handler. One instance per task; owns its {@link PoseEstimator.Runner}.
 */
public final class PoseFrameProcessor implements Processor<String, byte[], String, byte[]> {
    /** The separator of {@code camera/track} keys. */
    public static final char SEPARATOR = '/';
    /** Room a track id takes in a key: the separator and up to 19 digits. */
    static final int TRACK_KEY_BYTES = 20;

    private final PoseEstimator pose;
    private final PersonTracker tracker;
    private final String trackStoreName;
    private final float minPersonScore;
    private final int maxFrameBytes;
    private final long maxPixels;
    private final PipelineMeters meters;
    private final List<String> children;
    private final String poseRef;
    private final int keypoints;
    private final FeatureRecordSerde serde = new FeatureRecordSerde();
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, byte[]> tracks;
    private PoseEstimator.Runner runner;
    private BufferedImage last;

    /** @param children the nodes each person's record goes to, in this order; empty = every child */
    public PoseFrameProcessor(PoseEstimator pose, PersonTracker tracker, String trackStoreName, float minPersonScore, int maxFrameBytes,
            long maxPixels, PipelineMeters meters, List<String> children) {
        this.pose = pose;
        this.tracker = tracker;
        this.trackStoreName = trackStoreName;
        this.minPersonScore = minPersonScore;
        this.maxFrameBytes = maxFrameBytes;
        this.maxPixels = maxPixels;
        this.meters = meters;
        this.children = List.copyOf(children);
        this.poseRef = pose.manifest().id() + "@" + pose.manifest().version();
        this.keypoints = pose.spec().keypoints().size();
    }

    /** The key of a person's stream: {@code camera/track}. */
    public static String key(String camera, long track) {
        return camera + SEPARATOR + track;
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
        this.tracks = context.getStateStore(trackStoreName);
        // Kafka Streams may initialise a closed processor again (a task revived): make anew what close released.
        if (runner == null) {
            runner = pose.newRunner();
        }
    }

    @Override
    public void process(Record<String, byte[]> record) {
        String camera = FrameIntake.camera(record);
        if (camera.getBytes(StandardCharsets.UTF_8).length > InputKeyDeserializer.MAX_KEY_BYTES - TRACK_KEY_BYTES) {
            throw new BadInputException(Reason.TOO_LARGE, "camera id of " + camera.getBytes(StandardCharsets.UTF_8).length
                    + " bytes leaves no room for a track id in the " + InputKeyDeserializer.MAX_KEY_BYTES + "-byte key limit");
        }
        if (FrameIntake.isReset(record, camera)) {
            PersonTracks t = load(camera);
            List<Long> ids = new ArrayList<>();
            for (PersonTracks.Track tr : t.tracks) {
                ids.add(tr.id);
            }
            t.tracks.clear();
            tracks.put(camera, t.toBytes());
            ids.sort(null);
            for (long id : ids) {
                forward(new Record<>(key(camera, id), new byte[0], record.timestamp(), new RecordHeaders(record.headers().toArray())));
            }
            return;
        }
        FrameIntake.Frame frame = FrameIntake.frame(record, camera, maxFrameBytes, "pose.max_frame_bytes");
        long t0 = System.nanoTime();
        BufferedImage img = FramePreprocessor.decode(frame.bytes(), frame.contentType(), last, maxPixels);
        last = img;
        if (runner == null) {
            runner = pose.newRunner();
        }
        List<Person> people = runner.estimate(img, minPersonScore);
        PersonTracks t = load(camera);
        PersonTracker.Step step = tracker.step(t, people, record.timestamp());
        tracks.put(camera, t.toBytes());
        meters.frameEncoded(System.nanoTime() - t0);
        List<PersonTracker.Seen> seen = new ArrayList<>(step.seen());
        seen.sort(Comparator.comparingLong(PersonTracker.Seen::trackId));
        float w = img.getWidth();
        float h = img.getHeight();
        byte[] width = Integer.toString(img.getWidth()).getBytes(StandardCharsets.UTF_8);
        byte[] height = Integer.toString(img.getHeight()).getBytes(StandardCharsets.UTF_8);
        for (PersonTracker.Seen p : seen) {
            float[] kp = normalised(p.person(), w, h);
            RecordHeaders headers = new RecordHeaders(record.headers().toArray());
            // The frame's size: the keypoints are shares of it, and the travel gate needs its aspect ratio.
            headers.remove(PersonRecord.H_FRAME_WIDTH);
            headers.remove(PersonRecord.H_FRAME_HEIGHT);
            headers.add(PersonRecord.H_FRAME_WIDTH, width);
            headers.add(PersonRecord.H_FRAME_HEIGHT, height);
            forward(new Record<>(key(camera, p.trackId()), serde.serialize(null, new FeatureRecord(poseRef, frame.seq(), kp)), record.timestamp(),
                    headers));
        }
    }

    /** The model input of a person: per keypoint {@code (x / width, y / height, score)}. */
    float[] normalised(Person p, float width, float height) {
        float[] kp = new float[3 * keypoints];
        for (int k = 0; k < keypoints; k++) {
            kp[3 * k] = p.x(k) / width;
            kp[3 * k + 1] = p.y(k) / height;
            kp[3 * k + 2] = p.keypointScore(k);
        }
        return kp;
    }

    private PersonTracks load(String camera) {
        byte[] b = tracks.get(camera);
        return b == null ? new PersonTracks() : PersonTracks.fromBytes(b);
    }

    private void forward(Record<String, byte[]> r) {
        FrameStage.forward(context, children, r);
    }

    @Override
    public void close() {
        if (runner != null) {
            runner.close();
            runner = null;
        }
        last = null;
    }
}

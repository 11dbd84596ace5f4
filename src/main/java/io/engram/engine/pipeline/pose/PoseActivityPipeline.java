package io.engram.engine.pipeline.pose;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.config.AbstractPipelineKind;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.ConfigReader;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.PoseEstimator;
import io.engram.engine.model.RefinerModel;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.pipeline.refine.RefineSettings;
import io.engram.engine.pipeline.refine.Refinement;
import io.engram.engine.pipeline.video.FrameStage;
import io.engram.engine.step.StepTopology;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.Topology;

/**
 * Pipeline type {@code person-activity}: each person a camera sees is a stream. The pose stage
 * ({@link PoseStage}: {@link PoseEstimator} and {@link PersonTracker}) turns each frame into one
 * record per person, keyed {@code camera/track}; the step core runs the keypoint classifier per
 * person, and {@link PoseHead} writes each person's activity, its changes and their falls:
 *
 * <pre>
 * fused: frames --> pose-estimate [tracks store] --> &lt;store&gt;-step [store] --> predictions (one per person and frame)
 *                     \--> keypoints (person-poses)             |--> events (changes)
 *                                                              |--> falls
 *                                                              |--> refined, refined_events (with refine:)
 *                                                              \--> state_events (resets, expiries: ended tracks)
 * split: frames --> pose-estimate [tracks store] --> keypoints
 *        keypoints --> &lt;store&gt;-step [store] --> predictions, events, falls, refined, refined_events, state_events
 * </pre>
 *
 * With a {@code refine:} section (read by {@link RefineSettings}, as the video pipeline's) the head
 * also writes each person's activity again, {@code lag} frames later, with look-ahead, to
 * {@code refined}, and its changes to {@code refined_events}: see {@link PoseHead} and
 * {@link Refinement}. Falls stay on the live labels.
 *
 * Own YAML sections: {@code pose} (with {@code layout} and {@code write_keypoints}), {@code tracking},
 * {@code events}, {@code falls}, {@code travel}, {@code refine}; and {@code state.tracks_store}.
 */
public final class PoseActivityPipeline extends AbstractPipelineKind<PoseActivityPipeline.Settings> {
    public static final String TYPE = "person-activity";
    /** The camera frames users write (the video pipeline's format). */
    public static final TopicRole FRAMES = new TopicRole("frames");
    /** One record per person and frame: the pose stage's output, the step's input. */
    public static final TopicRole KEYPOINTS = new TopicRole("keypoints");
    public static final PoseActivityPipeline INSTANCE = new PoseActivityPipeline();

    /**
     * The kind's own settings.
     *
     * @param writeKeypoints whether the fused layout also writes the per-person records to the keypoints topic
     * @param refine fixed-lag refinement ({@code refine:}, read as the video pipeline's), or null for none
     * @param travel the travel gate ({@code travel:}, {@link Travel})
     */
    public record Settings(Path poseManifest, float minPersonScore, int maxFrameBytes, long maxPixels, FrameStage.Layout layout,
            boolean writeKeypoints, PersonTracker.Settings tracking, String tracksStore, int eventMinFrames, int fallFrames,
            int fallWithinFrames, RefineSettings refine, Travel.Settings travel) {
        public Settings withLayout(FrameStage.Layout l, boolean write) {
            return new Settings(poseManifest, minPersonScore, maxFrameBytes, maxPixels, l, write, tracking, tracksStore, eventMinFrames,
                    fallFrames, fallWithinFrames, refine, travel);
        }

        /** The same settings with refinement {@code r} (null: off). */
        public Settings withRefine(RefineSettings r) {
            return new Settings(poseManifest, minPersonScore, maxFrameBytes, maxPixels, layout, writeKeypoints, tracking, tracksStore,
                    eventMinFrames, fallFrames, fallWithinFrames, r, travel);
        }

        public boolean keypointsWritten() {
            return layout == FrameStage.Layout.SPLIT || writeKeypoints;
        }
    }

    private PoseActivityPipeline() {
        super(TYPE, KEYPOINTS, "person-rnn-state", 9467, Set.of("pose", "tracking", "events", "falls", "travel", RefineSettings.SECTION),
                Map.of("state", Set.of("tracks_store")),
                topic(FRAMES, "video-frames"),
                topic(KEYPOINTS, "person-poses"),
                topic(PoseHead.PREDICTIONS, "person-activity"),
                topic(PoseHead.EVENTS, "person-events"),
                topic(PoseHead.FALLS, "person-falls"),
                topic(PoseHead.REFINED, "person-activity-refined"),
                topic(PoseHead.REFINED_EVENTS, "person-events-refined"),
                topic(TopicRole.DEAD_LETTER, "person-dead-letters"),
                topic(TopicRole.STATE_EVENTS, "person-state-events"));
    }

    @Override
    public Settings settings(ConfigReader v, JsonNode root) {
        JsonNode p = v.section(root, "pose");
        v.known(p, "pose.", Set.of("manifest", "min_person_score", "max_frame_bytes", "max_pixels", "layout", "write_keypoints"));
        Path pose = v.file().getParent().resolve(v.text(p, "manifest", null)).normalize();
        double minScore = v.number(p, "min_person_score", 0.2);
        if (minScore < 0 || minScore > 1) {
            throw v.error("pose.min_person_score", "must be between 0 and 1, not " + minScore);
        }
        int maxBytes = (int) v.integer(p, "max_frame_bytes", 1_000_000, 1, Integer.MAX_VALUE);
        long maxPixels = v.integer(p, "max_pixels", 4096L * 4096, 1, Long.MAX_VALUE);
        FrameStage.Layout layout = FrameStage.Layout.valueOf(v.choice(p, "layout", "fused", List.of("fused", "split"))
                .toUpperCase(java.util.Locale.ROOT));
        boolean write = v.bool(p, "write_keypoints", true);
        JsonNode t = v.section(root, "tracking");
        v.known(t, "tracking.", Set.of("min_similarity", "keypoint_tolerance", "min_keypoint_score", "timeout_ms", "max_tracks"));
        PersonTracker.Settings d = PersonTracker.Settings.DEFAULT;
        double minSim = v.number(t, "min_similarity", d.minSimilarity());
        double tol = v.number(t, "keypoint_tolerance", d.keypointTolerance());
        double minKp = v.number(t, "min_keypoint_score", d.minKeypointScore());
        if (minSim < 0 || minSim > 1) {
            throw v.error("tracking.min_similarity", "must be between 0 and 1, not " + minSim);
        }
        if (!(tol > 0)) {
            throw v.error("tracking.keypoint_tolerance", "must be over 0, not " + tol);
        }
        PersonTracker.Settings tracking = new PersonTracker.Settings(minSim, tol, (float) minKp,
                v.integer(t, "timeout_ms", d.timeoutMs(), 1, Long.MAX_VALUE), (int) v.integer(t, "max_tracks", d.maxTracks(), 1, 1024));
        JsonNode e = v.section(root, "events");
        v.known(e, "events.", Set.of("min_frames"));
        int eventMin = (int) v.integer(e, "min_frames", 3, 1, 10_000);
        JsonNode f = v.section(root, "falls");
        v.known(f, "falls.", Set.of("frames", "within_frames"));
        int frames = (int) v.integer(f, "frames", 3, 1, 10_000);
        int within = (int) v.integer(f, "within_frames", 10, 0, 10_000);
        String store = v.text(v.section(root, "state"), "tracks_store", "person-camera-tracks");
        JsonNode tr = v.section(root, "travel");
        v.known(tr, "travel.", Set.of("min_speed", "field_of_view_deg", "time_constant_ms"));
        Travel.Settings td = Travel.Settings.DEFAULT;
        double minSpeed = v.number(tr, "min_speed", td.minSpeed());
        if (!(minSpeed >= 0) || minSpeed > 100) {
            throw v.error("travel.min_speed", "must be between 0 (off) and 100 torso lengths per second, not " + minSpeed);
        }
        double fov = v.number(tr, "field_of_view_deg", td.fieldOfViewDeg());
        if (!(fov >= 10 && fov <= 170)) {
            throw v.error("travel.field_of_view_deg", "must be between 10 and 170 degrees (the camera's horizontal field of view), not "
                    + fov);
        }
        long tau = v.integer(tr, "time_constant_ms", td.timeConstantMs(), 10, 60_000);
        Travel.Settings travel = new Travel.Settings(minSpeed, fov, tau, tracking.minKeypointScore());
        return new Settings(pose, (float) minScore, maxBytes, maxPixels, layout, write, tracking, store, eventMin, frames, within,
                RefineSettings.read(v, root), travel);
    }

    @Override
    public List<TopicRole> inputRoles(PipelineSpec spec) {
        return List.of(FRAMES);
    }

    @Override
    public List<TopicRole> consumedRoles(PipelineSpec spec) {
        return spec.settings(this).layout() == FrameStage.Layout.SPLIT ? List.of(FRAMES, KEYPOINTS) : List.of(FRAMES);
    }

    @Override
    public List<TopicRole> usedRoles(PipelineSpec spec) {
        Settings s = spec.settings(this);
        boolean kp = s.keypointsWritten();
        boolean refined = s.refine() != null;
        return spec.topics().names().keySet().stream().map(TopicRole::new)
                .filter(r -> kp || !r.equals(KEYPOINTS))
                .filter(r -> refined || !Refinement.isRefinedRole(r))
                .toList();
    }

    @Override
    public BuiltPipeline build(PipelineSpec spec, ModelManifest classifier, StepSession model, PipelineMeters meters) {
        Settings s = spec.settings(this);
        if (!"classify".equals(classifier.task())) {
            throw new ConfigException("Model " + classifier.manifestPath() + " has task '" + classifier.task()
                    + "' but pipeline " + spec.file() + " needs a classifier (task: classify).");
        }
        List<AutoCloseable> loaded = new java.util.ArrayList<>();
        try {
            PoseEstimator pose = PoseEstimator.load(ModelManifest.load(s.poseManifest()), 1);
            loaded.add(pose);
            int k = pose.spec().keypoints().size();
            if (classifier.input().size() != 3 * k) {
                throw new ConfigException("Pipeline " + spec.file() + ": the classifier " + classifier.manifestPath() + " takes "
                        + classifier.input().size() + " values but the pose model " + pose.manifest().manifestPath() + " gives " + k
                        + " keypoints x (x, y, score) = " + 3 * k + ". Fix: pair models made for each other.");
            }
            PipelineTopics t = spec.topics();
            Topology topology = new Topology();
            boolean fused = s.layout() == FrameStage.Layout.FUSED;
            String step = StepTopology.stepNode(spec.stateStore());
            String estimate = PoseStage.add(topology, t.name(FRAMES), s.keypointsWritten() ? t.name(KEYPOINTS) : null, fused ? step : null,
                    pose, new PersonTracker(s.tracking()), s.tracksStore(), s.minPersonScore(), s.maxFrameBytes(), s.maxPixels(), meters);
            RefinerModel refiner = RefineSettings.load(s.refine(), spec, classifier, loaded);
            int lag = s.refine() == null ? 0 : s.refine().lag();
            StepTopology.addStep(topology, spec, classifier, model, meters,
                    PoseHead.type(classifier, s.eventMinFrames(), s.fallFrames(), s.fallWithinFrames(), meters, refiner, lag, s.travel()),
                    fused ? estimate : null);
            return new BuiltPipeline(topology, loaded);
        } catch (RuntimeException e) {
            BuiltPipeline.closeAll(loaded);
            throw e;
        }
    }
}

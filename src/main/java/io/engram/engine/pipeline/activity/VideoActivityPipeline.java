package io.engram.engine.pipeline.activity;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.config.AbstractPipelineKind;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.ConfigReader;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.PipelineTopics;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.step.StepTopology;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.model.EncoderModel;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RefinerModel;
import io.engram.engine.model.StepSession;
import io.engram.engine.pipeline.refine.RefineSettings;
import io.engram.engine.pipeline.refine.Refinement;
import io.engram.engine.pipeline.video.FrameStage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.Topology;

/**
 * Pipeline type {@code video-activity}: live activity recognition. The CNN stage
 * ({@link FrameStage}) turns frames into features; the activity classifier head
 * ({@link ActivityHead}) steps a GRU per camera over them. In the fused layout (the default) both
 * run in one sub-topology; in the split layout the features topic joins them:
 *
 * <pre>
 * fused: frames --> frame-encode [shape store] --> &lt;store&gt;-step [store] --> predictions (one per frame)
 *                                  \--> features (optional)           |--> events (activity changes)
 *                                                                     \--> state_events (resets, expiries)
 * split: frames --> frame-encode [shape store] --> features
 *        features --> &lt;store&gt;-step [store] --> predictions, events, state_events
 * </pre>
 *
 * With a {@code refine:} section the head also writes each frame's activity again, {@code lag}
 * frames later, with look-ahead, to {@code refined} (and its changes to {@code refined_events}): see
 * {@link ActivityHead} and {@link Refinement}; the section is read by {@link RefineSettings}, as the
 * person pipeline's is.
 *
 * Own YAML sections: {@code encoder} (with {@code layout} and {@code write_features}), {@code events},
 * {@code refine}; and {@code state.shape_store}.
 */
public final class VideoActivityPipeline extends AbstractPipelineKind<VideoActivityPipeline.Settings> {
    public static final String TYPE = "video-activity";
    /** The camera frames users write. */
    public static final TopicRole FRAMES = new TopicRole("frames");
    /** The frame features: the join of the split layout, an optional output of the fused one, the step's input. */
    public static final TopicRole FEATURES = new TopicRole("features");
    public static final VideoActivityPipeline INSTANCE = new VideoActivityPipeline();

    /**
     * The kind's own settings.
     *
     * @param writeFeatures whether the fused layout also writes each frame's features to the
     *     features topic (the split layout always does: it is the join)
     */
    public record Settings(Path encoderManifest, int maxFrameBytes, long maxPixels, String shapeStore, int eventMinFrames,
            FrameStage.Layout layout, boolean writeFeatures, RefineSettings refine) {
        public Settings withLayout(FrameStage.Layout l, boolean write) {
            return new Settings(encoderManifest, maxFrameBytes, maxPixels, shapeStore, eventMinFrames, l, write, refine);
        }

        /** The same settings with refinement {@code r} (null: off). */
        public Settings withRefine(RefineSettings r) {
            return new Settings(encoderManifest, maxFrameBytes, maxPixels, shapeStore, eventMinFrames, layout, writeFeatures, r);
        }

        /** Whether frame features are written to the features topic. */
        public boolean featuresWritten() {
            return layout == FrameStage.Layout.SPLIT || writeFeatures;
        }
    }

    private VideoActivityPipeline() {
        super(TYPE, FEATURES, "activity-rnn-state", 9465, Set.of("encoder", "events", RefineSettings.SECTION),
                Map.of("state", Set.of("shape_store")),
                topic(FRAMES, "video-frames"),
                topic(FEATURES, "frame-features"),
                topic(ActivityHead.PREDICTIONS, "activity-predictions"),
                topic(ActivityHead.EVENTS, "activity-events"),
                topic(ActivityHead.REFINED, "activity-refined"),
                topic(ActivityHead.REFINED_EVENTS, "activity-refined-events"),
                topic(TopicRole.DEAD_LETTER, "video-dead-letters"),
                topic(TopicRole.STATE_EVENTS, "video-state-events"));
    }

    @Override
    public Settings settings(ConfigReader v, JsonNode root) {
        JsonNode e = v.section(root, "encoder");
        v.known(e, "encoder.", Set.of("manifest", "max_frame_bytes", "max_pixels", "layout", "write_features"));
        Path encoder = v.file().getParent().resolve(v.text(e, "manifest", null)).normalize();
        int maxBytes = (int) v.integer(e, "max_frame_bytes", 1_000_000, 1, Integer.MAX_VALUE);
        long maxPixels = v.integer(e, "max_pixels", 4096L * 4096, 1, Long.MAX_VALUE);
        JsonNode ev = v.section(root, "events");
        v.known(ev, "events.", Set.of("min_frames"));
        int minFrames = (int) v.integer(ev, "min_frames", 3, 1, 10_000);
        String shapeStore = v.text(v.section(root, "state"), "shape_store", "camera-frame-shape");
        FrameStage.Layout layout = FrameStage.Layout.valueOf(v.choice(e, "layout", "fused", List.of("fused", "split"))
                .toUpperCase(java.util.Locale.ROOT));
        boolean write = v.bool(e, "write_features", true);
        return new Settings(encoder, maxBytes, maxPixels, shapeStore, minFrames, layout, write, RefineSettings.read(v, root));
    }

    @Override
    public List<TopicRole> inputRoles(PipelineSpec spec) {
        return List.of(FRAMES);
    }

    @Override
    public List<TopicRole> consumedRoles(PipelineSpec spec) {
        return spec.settings(this).layout() == FrameStage.Layout.SPLIT ? List.of(FRAMES, FEATURES) : List.of(FRAMES);
    }

    @Override
    public List<TopicRole> usedRoles(PipelineSpec spec) {
        Settings s = spec.settings(this);
        boolean features = s.featuresWritten();
        boolean refined = s.refine() != null;
        return spec.topics().names().keySet().stream().map(TopicRole::new)
                .filter(r -> features || !r.equals(FEATURES))
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
        // The encoder and refiner sessions go with the topology; if the build fails half-way, the
        // ones already loaded are closed here, since no caller will ever see them.
        List<AutoCloseable> loaded = new java.util.ArrayList<>();
        try {
            Topology topology = build(spec, classifier, model, meters, s, loaded);
            return new BuiltPipeline(topology, loaded);
        } catch (RuntimeException e) {
            BuiltPipeline.closeAll(loaded);
            throw e;
        }
    }

    /** The build proper; adds each model it loads to {@code loaded} at once. */
    private static Topology build(PipelineSpec spec, ModelManifest classifier, StepSession model, PipelineMeters meters, Settings s,
            List<AutoCloseable> loaded) {
        EncoderModel encoder = EncoderModel.load(ModelManifest.load(s.encoderManifest()), 1);
        loaded.add(encoder);
        ModelManifest em = encoder.manifest();
        if (classifier.input().size() != em.output().size()) {
            throw new ConfigException("Pipeline " + spec.file() + ": the classifier takes " + classifier.input().size()
                    + " features but the encoder emits " + em.output().size() + ". Fix: pair models trained together.");
        }
        String want = classifier.encoder();
        if (!want.isEmpty() && !want.equals(em.id())) {
            throw new ConfigException("Pipeline " + spec.file() + ": model " + classifier.manifestPath()
                    + " was trained on features of encoder '" + want + "' but the pipeline's encoder is '" + em.id()
                    + "' (" + em.manifestPath() + "). Fix: point encoder.manifest at " + want + "'s manifest.");
        }
        if (em.image().channels() != 1) {
            throw new ConfigException("Encoder " + em.manifestPath() + " declares image.channels " + em.image().channels()
                    + "; Engram's frame preprocessing feeds grayscale frames. Fix: export a 1-channel encoder (image [batch, 1, H, W]).");
        }
        PipelineTopics t = spec.topics();
        Topology topology = new Topology();
        boolean fused = s.layout() == FrameStage.Layout.FUSED;
        String step = StepTopology.stepNode(spec.stateStore());
        String encode = FrameStage.add(topology, t.name(FRAMES), s.featuresWritten() ? t.name(FEATURES) : null, fused ? step : null,
                encoder, s.maxPixels(), s.shapeStore(), s.maxFrameBytes(), meters);
        RefinerModel refiner = RefineSettings.load(s.refine(), spec, classifier, loaded);
        int lag = s.refine() == null ? 0 : s.refine().lag();
        StepTopology.addStep(topology, spec, classifier, model, meters,
                ActivityHead.type(classifier, s.eventMinFrames(), meters, refiner, lag), fused ? encode : null);
        return topology;
    }
}

package io.engram.engine.pipeline.refine;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.config.ConfigReader;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RefinerModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A pipeline's {@code refine:} section (fixed-lag refinement, docs/configuration.md): the refiner's
 * manifest and the lag L. Read and checked here for every pipeline kind that has the section (video
 * activity, person activity), so that the section means the same in each.
 *
 * @param manifest the refiner's manifest, resolved against the pipeline file
 * @param lag L: a frame's refined prediction comes L frames after it
 */
public record RefineSettings(Path manifest, int lag) {
    /** The section's name, one of the kind's own YAML sections. */
    public static final String SECTION = "refine";

    /**
     * Reads {@code refine:}: refinement is on when the file has the section, unless it says
     * {@code enabled: false}. Null when off.
     */
    public static RefineSettings read(ConfigReader v, JsonNode root) {
        JsonNode rf = v.section(root, SECTION);
        v.known(rf, SECTION + ".", Set.of("enabled", "manifest", "lag"));
        if (!root.hasNonNull(SECTION) || !v.bool(rf, "enabled", true)) {
            return null;
        }
        Path m = v.file().getParent().resolve(v.text(rf, "manifest", null)).normalize();
        // At least 1: a window of one frame has no look-ahead (and lag 0 is how a payload says "no window").
        return new RefineSettings(m, (int) v.integer(rf, "lag", 8, 1, RefineWindow.MAX_LAG));
    }

    /**
     * Loads the refiner of {@code s} and checks it against the pipeline's classifier; adds it to
     * {@code loaded} at once (the build's models, which its caller owns). Null when {@code s} is.
     */
    public static RefinerModel load(RefineSettings s, PipelineSpec spec, ModelManifest classifier, List<AutoCloseable> loaded) {
        if (s == null) {
            return null;
        }
        RefinerModel refiner = RefinerModel.load(ModelManifest.load(s.manifest()));
        loaded.add(refiner);
        check(spec, classifier, refiner.manifest(), s.lag());
        Refinement.forwardOffset(classifier, refiner.manifest()); // the state pair it reads: refused at start-up, not at a task's first frame
        return refiner;
    }

    /** A refiner must be the one trained on this classifier, for this lag, with its labels. */
    static void check(PipelineSpec spec, ModelManifest classifier, ModelManifest refiner, int lag) {
        ModelManifest.Refine r = refiner.refine();
        if (!r.forwardModel().equals(classifier.id()) || !r.forwardVersion().equals(classifier.version())) {
            throw new ConfigException("Pipeline " + spec.file() + ": refiner " + refiner.manifestPath() + " was trained on classifier "
                    + r.forwardModel() + "@" + r.forwardVersion() + " but the pipeline's classifier is " + classifier.id() + "@"
                    + classifier.version() + ". Fix: retrain the refiner (its model card says how) or point refine.manifest at its pair.");
        }
        if (!refiner.labels().equals(classifier.labels()) || refiner.input().size() != classifier.input().size()) {
            throw new ConfigException("Pipeline " + spec.file() + ": refiner " + refiner.manifestPath()
                    + " has other labels or inputs than classifier " + classifier.manifestPath() + ". Fix: pair models trained together.");
        }
        if (lag > r.maxLag()) {
            throw new ConfigException("Pipeline " + spec.file() + ": refine.lag " + lag + " is over the refiner's max_lag " + r.maxLag()
                    + " (" + refiner.manifestPath() + "), the longest look-ahead it was trained for. Fix: lower refine.lag.");
        }
    }
}

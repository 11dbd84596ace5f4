package io.engram.engine.pipeline.anomaly;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.config.AbstractPipelineKind;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.ConfigReader;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.step.StepTopology;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.Topology;

/**
 * Pipeline type {@code anomaly} (the default): streaming anomaly detection with the forecaster +
 * anomaly-scorer head ({@link ForecastHead}), over JSON sensor readings
 * (topology/sensor-anomaly.yaml) or frame features (topology/video-anomaly.yaml):
 *
 * <pre>
 * input --(source)--> &lt;store&gt;-step [store] --> predictions (one per record)
 *                                           |--> anomalies (alerts only)
 *                                           \--> state_events (resets, expiries)
 * </pre>
 *
 * Own YAML sections: {@code scoring}, {@code input} ({@code format}, {@code values}), {@code output} ({@code vectors}).
 */
public final class AnomalyPipeline extends AbstractPipelineKind<ForecastSettings> {
    public static final String TYPE = "anomaly";
    /** The readings (or frame features) the step reads. */
    public static final TopicRole INPUT = new TopicRole("input");
    public static final AnomalyPipeline INSTANCE = new AnomalyPipeline();

    private AnomalyPipeline() {
        super(TYPE, INPUT, "sensor-rnn-state", 9464, Set.of("scoring", "input", "output"), Map.of(),
                topic(INPUT, "sensor-readings"),
                topic(ForecastHead.PREDICTIONS, "sensor-predictions"),
                topic(ForecastHead.ANOMALIES, "sensor-anomalies"),
                topic(TopicRole.DEAD_LETTER, "sensor-dead-letters"),
                topic(TopicRole.STATE_EVENTS, "sensor-state-events"));
    }

    @Override
    public ForecastSettings settings(ConfigReader v, JsonNode root) {
        JsonNode s = v.section(root, "scoring");
        v.known(s, "scoring.", Set.of("short_alpha", "long_alpha", "warmup_steps", "threshold", "suppress_steps", "raw_clip",
                "level_weight", "channels", "seasonal", "routine", "shape", "stuck", "joint"));
        ScoringConfig sd = ScoringConfig.DEFAULTS;
        ScoringConfig scoring;
        try {
            java.util.EnumSet<ScoringConfig.Channel> channels = java.util.EnumSet.noneOf(ScoringConfig.Channel.class);
            JsonNode ch = s.get("channels");
            if (ch == null || ch.isNull()) {
                channels.addAll(sd.channels());
            } else if (!ch.isArray()) {
                throw v.error("scoring.channels", "must be a list, e.g. [forecast, level, seasonal, routine, shape, stuck, joint]");
            } else {
                for (JsonNode c : ch) {
                    channels.add(ScoringConfig.Channel.of(c.asText()));
                }
            }
            JsonNode se = v.section(s, "seasonal");
            v.known(se, "scoring.seasonal.", Set.of("weight", "bins", "gate", "alpha"));
            ScoringConfig.Seasonal sed = ScoringConfig.SEASONAL_DEFAULTS;
            JsonNode ro = v.section(s, "routine");
            v.known(ro, "scoring.routine.", Set.of("days", "tolerance_minutes", "memory"));
            ScoringConfig.Routine rod = ScoringConfig.ROUTINE_DEFAULTS;
            JsonNode sh = v.section(s, "shape");
            v.known(sh, "scoring.shape.", Set.of("memory_steps", "min_steps", "familiar_count", "familiar_weight", "novel_weight",
                    "novel_band"));
            ScoringConfig.Shape shd = ScoringConfig.SHAPE_DEFAULTS;
            JsonNode st = v.section(s, "stuck");
            v.known(st, "scoring.stuck.", Set.of("factor", "min_steps"));
            ScoringConfig.Stuck std = ScoringConfig.STUCK_DEFAULTS;
            JsonNode jo = v.section(s, "joint");
            v.known(jo, "scoring.joint.", Set.of("weight", "shrinkage"));
            ScoringConfig.Joint jod = ScoringConfig.JOINT_DEFAULTS;
            scoring = new ScoringConfig(
                    v.number(s, "short_alpha", sd.shortAlpha()), v.number(s, "long_alpha", sd.longAlpha()),
                    v.integer(s, "warmup_steps", sd.warmupSteps(), 0, Long.MAX_VALUE),
                    v.number(s, "threshold", sd.threshold()),
                    v.integer(s, "suppress_steps", sd.suppressSteps(), 0, Long.MAX_VALUE),
                    v.number(s, "raw_clip", sd.rawClip()),
                    v.number(s, "level_weight", sd.levelWeight()),
                    channels,
                    new ScoringConfig.Seasonal(v.number(se, "weight", sed.weight()), (int) v.integer(se, "bins", sed.bins(), 1, 288),
                            v.number(se, "gate", sed.gate()), v.number(se, "alpha", sed.alpha())),
                    new ScoringConfig.Routine((int) v.integer(ro, "days", rod.days(), 1, 64),
                            (int) v.integer(ro, "tolerance_minutes", rod.toleranceMinutes(), 0, 720),
                            (int) v.integer(ro, "memory", rod.memory(), 1, 64)),
                    new ScoringConfig.Shape(v.number(sh, "memory_steps", shd.memorySteps()), v.number(sh, "min_steps", shd.minSteps()),
                            v.number(sh, "familiar_count", shd.familiarCount()), v.number(sh, "familiar_weight", shd.familiarWeight()),
                            v.number(sh, "novel_weight", shd.novelWeight()), (int) v.integer(sh, "novel_band", shd.novelBand(), 0, 7)),
                    new ScoringConfig.Stuck(v.number(st, "factor", std.factor()), v.integer(st, "min_steps", std.minSteps(), 2, Long.MAX_VALUE)),
                    new ScoringConfig.Joint(v.number(jo, "weight", jod.weight()), v.number(jo, "shrinkage", jod.shrinkage())));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("Pipeline file " + v.file() + ": " + e.getMessage() + ". Fix the scoring section.");
        }
        JsonNode in = v.section(root, "input");
        v.known(in, "input.", Set.of("format", "values"));
        String format = v.choice(in, "format", "json", List.of("json", "features"));
        JsonNode out = v.section(root, "output");
        v.known(out, "output.", Set.of("vectors"));
        return new ForecastSettings(scoring, format.equals("json") ? ForecastSettings.Format.JSON : ForecastSettings.Format.FEATURES,
                v.bool(out, "vectors", true), (int) v.integer(in, "values", 0, 0, 4096));
    }

    @Override
    public BuiltPipeline build(PipelineSpec spec, ModelManifest manifest, StepSession model, PipelineMeters meters) {
        if (!"forecast".equals(manifest.task())) {
            throw new ConfigException("Model " + manifest.manifestPath() + " has task '" + manifest.task()
                    + "' but pipeline " + spec.file() + " scores forecasts. Fix: use a forecast model.");
        }
        if (manifest.output().size() != manifest.input().size()) {
            throw new ConfigException("Model " + manifest.manifestPath() + " forecasts " + manifest.output().size()
                    + " values from " + manifest.input().size() + " inputs; pipeline " + spec.file()
                    + " needs a forecast of the next reading, one value per input. Fix: use a model whose output size equals its input size.");
        }
        ForecastSettings settings = spec.settings(this);
        AnomalyScorer scorer = new AnomalyScorer(settings.scoring());
        Topology t = new Topology();
        int n = settings.values();
        if (n == 0 || n == manifest.input().size()) {
            StepTopology.addStep(t, spec, manifest, model, meters, ForecastHead.type(manifest, settings, scorer, meters));
            return BuiltPipeline.of(t);
        }
        if (manifest.input().size() != 1) {
            throw new ConfigException("Pipeline " + spec.file() + " sets input.values: " + n + " but model " + manifest.manifestPath()
                    + " takes " + manifest.input().size() + " values. Fix: drop input.values, or use a one-value model"
                    + " (which then forecasts each value on its own).");
        }
        ModelManifest wide = io.engram.engine.model.PerValueStep.manifest(manifest, n);
        int one = manifest.stateFloats();
        StepTopology.addStep(t, spec, wide, model == null ? null : () -> new io.engram.engine.model.PerValueStep(model.newStep(1), n, one),
                meters, ForecastHead.type(wide, settings, scorer, meters), null);
        return BuiltPipeline.of(t);
    }
}

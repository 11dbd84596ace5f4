package io.engram.tools.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.engram.engine.config.AbstractPipelineKind;
import io.engram.engine.config.BuiltPipeline;
import io.engram.engine.config.ConfigReader;
import io.engram.engine.monitoring.PipelineMeters;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.kafka.TopicRole;
import io.engram.engine.step.StepTopology;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.RecurrentStep;
import io.engram.engine.model.StepSession;
import io.engram.engine.model.WindowModel;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyScorer;
import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.Topology;

/**
 * The benchmark's windowed baseline: what users build instead of a stateful step, a Kafka Streams
 * + ONNX app that keeps each stream's last T readings in a state store and reruns the same GRU,
 * exported in its full-sequence form, over the whole window for every record (from a zero state;
 * a window not yet full is padded with zeros at the front).
 *
 * <p>It is the sensor pipeline with one thing changed: the model step. The same
 * {@link io.engram.engine.step.StepProcessor} runs the same {@link ForecastHead} (parsing, the running
 * standardisation, the anomaly scorer, the JSON outputs), the same checks, lifecycle, store and
 * exactly-once transactions; but a stream's state is its last T normalised inputs instead of the
 * GRU's hidden state, and each step reruns the window model over them ({@link WindowStep}). The
 * figures then compare only what the issue asks: one O(1) step against a window rerun.
 *
 * <p>A pipeline kind for the benchmark only (not a {@code type:} a file can name), run through the
 * same {@code PipelineRunner} as the pipeline it is compared with.
 */
public final class WindowedBaseline extends AbstractPipelineKind<WindowedBaseline.Settings> {
    public static final WindowedBaseline INSTANCE = new WindowedBaseline();

    /**
     * @param forecast the sensor pipeline's own settings (scoring, input format)
     * @param model the full-sequence ONNX file
     * @param window T
     */
    public record Settings(ForecastSettings forecast, Path model, int window) {}

    private WindowedBaseline() {
        super("windowed-baseline", AnomalyPipeline.INPUT, "sensor-window-state", 0, Set.of(), Map.of(),
                topic(AnomalyPipeline.INPUT, "sensor-readings"), topic(ForecastHead.PREDICTIONS, "sensor-predictions"),
                topic(ForecastHead.ANOMALIES, "sensor-anomalies"), topic(TopicRole.DEAD_LETTER, "sensor-dead-letters"),
                topic(TopicRole.STATE_EVENTS, "sensor-state-events"));
    }

    /** The sensor pipeline {@code spec} as its windowed baseline over {@code window} readings. */
    public static PipelineSpec of(PipelineSpec spec, Path model, int window) {
        return spec.withKind(INSTANCE, new Settings(spec.settings(AnomalyPipeline.INSTANCE), model, window));
    }

    /** The full-sequence export beside a step model, by the export script's naming: {@code sensor-gru.onnx} -> {@code sensor-gru-window.onnx}. */
    public static Path windowModelOf(ModelManifest step) {
        String f = step.onnxFile().getFileName().toString();
        return step.onnxFile().resolveSibling(f.replaceFirst("\\.onnx$", "") + "-window.onnx");
    }

    @Override
    public Settings settings(ConfigReader reader, JsonNode root) {
        throw new UnsupportedOperationException("the windowed baseline is made by WindowedBaseline.of, not read from a file");
    }

    @Override
    public BuiltPipeline build(PipelineSpec spec, ModelManifest manifest, StepSession model, PipelineMeters meters) {
        Settings s = spec.settings(this);
        int f = manifest.input().size();
        // The stream's state is its window: T x F floats, oldest first.
        ModelManifest windowed = manifest.withState(manifest.id() + "-window" + s.window(),
                List.of(new ModelManifest.StatePair("window", "window", s.window() * f)));
        AnomalyScorer scorer = new AnomalyScorer(s.forecast().scoring());
        Topology t = new Topology();
        StepTopology.addStep(t, spec, windowed, () -> new WindowStep(WindowModel.load(s.model(), s.window(), f, f), f), meters,
                ForecastHead.type(windowed, s.forecast(), scorer, meters), null);
        return BuiltPipeline.of(t);
    }

    /**
     * The window rerun as a model step: the state is the last T inputs, oldest first; a step drops
     * the oldest, appends {@code x} and runs the window model over them all. Owns its model.
     */
    static final class WindowStep implements RecurrentStep {
        private final WindowModel model;
        private final int f;

        WindowStep(WindowModel model, int features) {
            this.model = model;
            this.f = features;
        }

        @Override
        public void step(float[] x, float[] window, float[] y) {
            System.arraycopy(window, f, window, 0, window.length - f);
            System.arraycopy(x, 0, window, window.length - f, f);
            model.run(window, y);
        }

        @Override
        public void close() {
            model.close();
        }
    }
}

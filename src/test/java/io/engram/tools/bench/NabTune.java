package io.engram.tools.bench;

import io.engram.engine.pipeline.anomaly.ForecastHead;
import io.engram.engine.pipeline.anomaly.ScoringConfig;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.runtime.PipelineRunner;
import io.engram.engine.model.ModelManifest;
import io.engram.engine.model.StepSession;
import io.engram.engine.monitoring.EngramMetrics;
import io.engram.engine.kafka.JsonSerde;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import io.engram.engine.pipeline.anomaly.ForecastPrediction;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * Development tool, not a test: runs NAB files through the sensor topology in a TopologyTestDriver
 * (no broker, so a parameter sweep is fast) and writes NAB result files. The released figure comes
 * from {@code engram nab}, on the real broker. Usage: NabTune DATA_DIR OUT_DIR shortAlpha longAlpha suppress
 * [levelWeight [MANIFEST]] (other scoring settings from topology/sensor-anomaly.yaml). Besides NAB's
 * three columns each row carries the pipeline's raw score, score, alert flag, forecast and error
 * (NAB's scorer ignores extra columns), for offline analysis; -DrawClip=X overrides raw_clip.
 */
public final class NabTune {
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path out = Path.of(args[1]);
        PipelineSpec base = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        ScoringConfig d = base.settings(AnomalyPipeline.INSTANCE).scoring();
        ScoringConfig sc = new ScoringConfig(Double.parseDouble(args[2]), Double.parseDouble(args[3]), d.warmupSteps(), d.threshold(),
                Long.parseLong(args[4]), Double.parseDouble(System.getProperty("rawClip", String.valueOf(d.rawClip()))),
                args.length > 5 ? Double.parseDouble(args[5]) : d.levelWeight(), d.channels(), d.seasonal(), d.routine(), d.shape(),
                d.stuck());
        PipelineSpec cfg = base.withSettings(base.settings(AnomalyPipeline.INSTANCE).withScoring(sc)).withOutOfOrder(io.engram.engine.config.OutOfOrder.PROCESS);
        ModelManifest m = ModelManifest.load(args.length > 6 ? Path.of(args[6]) : cfg.modelManifest());
        List<Path> files;
        try (var w = Files.walk(data)) {
            files = w.filter(f -> f.toString().endsWith(".csv")).sorted().toList();
        }
        JsonSerde<ForecastPrediction> serde = new JsonSerde<>(ForecastPrediction.class);
        long t0 = System.nanoTime();
        try (StepSession model = StepSession.load(m)) {
            for (Path f : files) {
                Path state = Files.createTempDirectory("nabtune");
                EngramMetrics metrics = EngramMetrics.unbound("t");
                try (TopologyTestDriver drv = new TopologyTestDriver(cfg.kind().build(cfg, m, model, metrics).topology(),
                        PipelineRunner.streamsProperties(cfg, "x:1", state, metrics))) {
                    var in = drv.createInputTopic(cfg.topics().name(AnomalyPipeline.INPUT), new StringSerializer(), new StringSerializer());
                    var outT = drv.createOutputTopic(cfg.topics().name(ForecastHead.PREDICTIONS), new StringDeserializer(), serde);
                    List<String> lines = Files.readAllLines(f);
                    String rel = data.relativize(f).toString();
                    Path o = out.resolve(rel);
                    Files.createDirectories(o.getParent());
                    try (BufferedWriter w = Files.newBufferedWriter(o, StandardCharsets.UTF_8)) {
                        w.write("timestamp,value,anomaly_score,raw,score,alert,forecast,error\n");
                        for (int i = 1; i < lines.size(); i++) {
                            String[] parts = lines.get(i).split(",");
                            long ts = LocalDateTime.parse(parts[0].trim().replace(' ', 'T')).toInstant(ZoneOffset.UTC).toEpochMilli();
                            in.pipeInput("s", "{\"ts\":" + ts + ",\"values\":[" + parts[1].trim() + "]}", ts);
                            ForecastPrediction p = outT.readValue();
                            double s = io.engram.tools.bench.NabReplay.nabScore(p);
                            w.write(parts[0] + "," + parts[1] + "," + String.format(Locale.ROOT, "%.8f,%.9g,%.8f,%d,%.9g,%.9g", s, p.rawScore(), p.score(), p.anomaly() ? 1 : 0, p.forecast() == null ? 0.0 : p.forecast()[0], p.error() == null ? 0.0 : p.error()[0]) + "\n");
                        }
                    }
                }
            }
        }
        System.err.printf("NabTune: %d files in %.1f s%n", files.size(), (System.nanoTime() - t0) / 1e9);
    }
}

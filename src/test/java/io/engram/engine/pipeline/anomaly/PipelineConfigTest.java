package io.engram.engine.pipeline.anomaly;

import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.engram.engine.runtime.Pipelines;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineConfigTest {
    @TempDir
    Path dir;

    private ConfigException bad(String yaml) throws Exception {
        Path f = dir.resolve("p.yaml");
        Files.writeString(f, yaml);
        ConfigException e = assertThrows(ConfigException.class, () -> Pipelines.load(f));
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void profilesSetTheCommitIntervalAndClientSettingsUnlessTheFileGivesThem() throws Exception {
        Path f = dir.resolve("profile.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nprocessing: {profile: live}\nstate: {memory_mb: 32}\n");
        PipelineSpec live = Pipelines.load(f);
        assertEquals("live", live.processing().profile());
        assertEquals(20, live.processing().commitIntervalMs());
        assertEquals(32, live.statePolicy().memoryMb());
        java.util.Properties p = io.engram.engine.runtime.PipelineRunner.streamsProperties(live, "b:1", dir, new io.engram.engine.monitoring.EngramMetrics("x"));
        assertEquals(0, p.get("producer.linger.ms"));
        assertEquals(5, p.get("consumer.fetch.max.wait.ms"));
        assertEquals(io.engram.engine.runtime.BoundedRocksDb.class, p.get("rocksdb.config.setter"));
        assertEquals(32L, p.get(io.engram.engine.runtime.BoundedRocksDb.MEMORY_MB));

        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nprocessing: {profile: throughput, commit_interval_ms: 300}\n");
        PipelineSpec tp = Pipelines.load(f);
        assertEquals(300, tp.processing().commitIntervalMs(), "the file's commit interval wins over the profile's");
        assertEquals(20, io.engram.engine.runtime.PipelineRunner.streamsProperties(tp, "b:1", dir, new io.engram.engine.monitoring.EngramMetrics("x"))
                .get("producer.linger.ms"));
        assertEquals(64, tp.statePolicy().memoryMb(), "state.memory_mb defaults to 64");

        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nprocessing: {profile: fast}\n");
        assertTrue(assertThrows(ConfigException.class, () -> Pipelines.load(f)).getMessage().contains("processing.profile"));
        PipelineSpec none = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        assertEquals(null, io.engram.engine.runtime.PipelineRunner.streamsProperties(none.withStatePolicy(new io.engram.engine.config.StatePolicy(0,
                io.engram.engine.config.StatePolicy.GapAction.RESET, 0, 1, 0)), "b:1", dir, new io.engram.engine.monitoring.EngramMetrics("x"))
                .get("rocksdb.config.setter"), "state.memory_mb: 0 leaves RocksDB's defaults");
    }

    @Test
    void processingErrorsStopThePipelineOverAShareOfAWindowOfRecords() throws Exception {
        PipelineSpec shipped = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        assertEquals(100, shipped.processing().errorWindow());
        assertEquals(0.5, shipped.processing().maxErrorShare());
        Path f = dir.resolve("errors.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nprocessing: {error_window: 100, max_error_share: 0.99}\n");
        PipelineSpec every = Pipelines.load(f);
        assertEquals(0.99, every.processing().maxErrorShare());
        assertEquals(0.99, every.withThreads(2).processing().maxErrorShare(), "kept by withThreads");
        Object errors = io.engram.engine.runtime.PipelineRunner.streamsProperties(every, "b:1", dir, new io.engram.engine.monitoring.EngramMetrics("x"))
                .get(io.engram.engine.kafka.ProcessingErrors.CONFIG);
        assertEquals(100, ((io.engram.engine.kafka.ProcessingErrors) errors).window());
        assertEquals(0.99, ((io.engram.engine.kafka.ProcessingErrors) errors).maxShare());
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nprocessing: {max_error_share: 1.5}\n").getMessage()
                .contains("processing.max_error_share"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nprocessing: {error_window: 0}\n").getMessage().contains("processing.error_window"));
    }

    @Test
    void metricsBindLoopbackUnlessTheFileSaysOtherwise() throws Exception {
        for (String shipped : List.of("topology/sensor-anomaly.yaml", "topology/video-activity.yaml", "topology/video-anomaly.yaml")) {
            assertEquals("127.0.0.1", Pipelines.load(Path.of(shipped)).metricsHost(), shipped);
        }
        Path f = dir.resolve("host.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nmetrics: {host: 0.0.0.0, port: 9999}\n");
        PipelineSpec c = Pipelines.load(f);
        assertEquals("0.0.0.0", c.metricsHost());
        assertEquals(9999, c.metricsPort());
        assertEquals("::1", c.withMetricsHost("::1").metricsHost());
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nmetrics: {host: ''}\n").getMessage().contains("metrics.host"));
    }

    @Test
    void theDefaultPipelineLoadsWithExactlyOnceAndItsModel() {
        PipelineSpec c = Pipelines.load(Path.of("topology/sensor-anomaly.yaml"));
        assertEquals("sensor-anomaly", c.name());
        assertEquals("exactly_once_v2", c.processing().guarantee());
        assertEquals("sensor-readings", c.topics().name(AnomalyPipeline.INPUT));
        assertEquals(io.engram.engine.config.OutOfOrder.DROP, c.outOfOrder());
        assertTrue(Files.isRegularFile(c.modelManifest()), c.modelManifest().toString());
    }

    @Test
    void errorsNameTheFileTheKeyAndTheFix() throws Exception {
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nscoring: {threshold: 2}\n").getMessage().contains("threshold"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\ntopics: {partitons: 3}\n").getMessage().contains("topics.partitons"));
        assertTrue(bad("model: {manifest: m.yaml}\n").getMessage().contains("'name' is required"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nstate: {out_of_order: sometimes}\n").getMessage().contains("out_of_order"));
        assertTrue(bad("name: [unclosed\n").getMessage().contains("not valid YAML"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nprocessing: {guarantee: maybe}\n").getMessage().contains("guarantee"));
        String unknown = bad("type: weird\nname: x\nmodel: {manifest: m.yaml}\n").getMessage();
        assertTrue(unknown.contains("'weird'") && unknown.contains("[anomaly, video-activity, person-activity]"), "lists the known types: " + unknown);
        // Each type takes only its own sections: a video key in an anomaly file is a typo, not a silent default.
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nevents: {min_frames: 3}\n").getMessage().contains("'events'"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\ninput: {format: xml}\n").getMessage().contains("input.format"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\ninput: {values: -1}\n").getMessage().contains("input.values"));
    }

    @Test
    void inputValuesDefaultsToTheModelsSizeAndIsRead() throws Exception {
        assertEquals(0, Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).settings(AnomalyPipeline.INSTANCE).values());
        Path f = dir.resolve("vec.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\ninput: {values: 8}\n");
        assertEquals(8, Pipelines.load(f).settings(AnomalyPipeline.INSTANCE).values());
    }

    @Test
    void theScoringChannelsAndTheirSettingsComeFromTheFileAndBadOnesAreNamed() throws Exception {
        ScoringConfig sc = Pipelines.load(Path.of("topology/sensor-anomaly.yaml")).settings(AnomalyPipeline.INSTANCE).scoring();
        assertEquals(java.util.EnumSet.allOf(ScoringConfig.Channel.class), sc.channels());
        assertEquals(ScoringConfig.DEFAULTS, sc, "the shipped file states the defaults");
        ScoringConfig va = Pipelines.load(Path.of("topology/video-anomaly.yaml")).settings(AnomalyPipeline.INSTANCE).scoring();
        assertEquals(java.util.Set.of(ScoringConfig.Channel.FORECAST), va.channels());

        Path f = dir.resolve("ok.yaml");
        Files.writeString(f, "name: x\nmodel: {manifest: m.yaml}\nscoring:\n  channels: [forecast, seasonal]\n"
                + "  seasonal: {bins: 48, gate: 0.6}\n  routine: {days: 3}\n  stuck: {factor: 2}\n");
        ScoringConfig c = Pipelines.load(f).settings(AnomalyPipeline.INSTANCE).scoring();
        assertEquals(java.util.EnumSet.of(ScoringConfig.Channel.FORECAST, ScoringConfig.Channel.SEASONAL), c.channels());
        assertEquals(new ScoringConfig.Seasonal(0.8, 48, 0.6, 0.1), c.seasonal());
        assertEquals(3, c.routine().days());
        assertEquals(2.0, c.stuck().factor());

        String ch = bad("name: x\nmodel: {manifest: m.yaml}\nscoring: {channels: [forecast, seasonl]}\n").getMessage();
        assertTrue(ch.contains("'seasonl'") && ch.contains("seasonal"), "names the bad channel and the known ones: " + ch);
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nscoring: {seasonal: {bin: 48}}\n").getMessage().contains("scoring.seasonal.bin"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nscoring: {seasonal: {gate: 1.5}}\n").getMessage().contains("gate"));
        assertTrue(bad("name: x\nmodel: {manifest: m.yaml}\nscoring: {routine: {days: 5, memory: 3}}\n").getMessage().contains("memory"));
    }

    @Test
    void theTypeChoosesTheHeadAndItsSections() {
        PipelineSpec video = Pipelines.load(Path.of("topology/video-activity.yaml"));
        assertEquals("video-activity", video.kind().type());
        assertEquals(VideoActivityPipeline.FEATURES, video.kind().stepInputRole());
        PipelineSpec va = Pipelines.load(Path.of("topology/video-anomaly.yaml"));
        assertEquals("anomaly", va.kind().type(), "video anomaly detection is the sensor pipeline's type: no Java of its own");
        assertEquals(ForecastSettings.Format.FEATURES, va.settings(AnomalyPipeline.INSTANCE).format());
        assertEquals("frame-features", va.topics().name(AnomalyPipeline.INPUT));
    }

    @Test
    void aMissingFileIsNamedWithTheFix() {
        ConfigException e = assertThrows(ConfigException.class, () -> Pipelines.load(dir.resolve("nope.yaml")));
        assertTrue(e.getMessage().contains("nope.yaml") && e.getMessage().contains("Fix"), e.getMessage());
    }
}

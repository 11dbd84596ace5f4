package io.engram.tools.soak;

import io.engram.engine.kafka.TopicRole;
import io.engram.engine.pipeline.activity.ActivityHead;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.pipeline.activity.VideoActivityPipeline;
import io.engram.engine.pipeline.anomaly.AnomalyPipeline;
import io.engram.engine.pipeline.anomaly.ForecastSettings;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.harness.Feeder;
import io.engram.tools.harness.RunOutputs;
import io.engram.tools.harness.TopicReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One pipeline in the soak: its file, its input, the topics compared, the reference run's outputs
 * (set by {@link ReferenceRun}), its running instances and, once ingest starts, its feeder. Owns
 * the instances and the feeder; {@link #close()} stops both.
 */
final class SoakLane implements AutoCloseable {
    final Path yaml;
    final PipelineSpec spec;
    final String applicationId;
    final SoakInput input;
    final String inputTopic;
    final boolean video;
    final List<TopicRole> outputRoles = new ArrayList<>();
    final List<String> consumed = new ArrayList<>();
    final LaneInstances instances;
    RunOutputs reference;
    Feeder feeder;

    SoakLane(Path yaml, Soak.Options o) {
        this.yaml = yaml.toAbsolutePath();
        PipelineSpec loaded = Pipelines.load(this.yaml);
        this.applicationId = loaded.applicationId() + "-soak";
        this.spec = loaded.withApplicationId(applicationId);
        this.video = spec.kind() == VideoActivityPipeline.INSTANCE;
        boolean sensor = spec.kind() == AnomalyPipeline.INSTANCE
                && spec.settings(AnomalyPipeline.INSTANCE).format() == ForecastSettings.Format.JSON;
        if (!video && !sensor) {
            throw new ConfigException("cannot soak " + this.yaml + " (type " + spec.kind().type() + "): the soak makes input for"
                    + " sensor (anomaly, JSON readings) and video-activity pipelines. Fix: give --pipeline such a file");
        }
        int total = (int) Math.max(1, Math.round(rate(o) * o.duration().toMillis() / 1000.0));
        TopicRole inputRole = video ? VideoActivityPipeline.FRAMES : AnomalyPipeline.INPUT;
        String topic = spec.topics().name(inputRole);
        this.inputTopic = topic;
        this.input = video ? SoakInput.video(topic, o.seed(), 6, total, o.samples()) : SoakInput.sensor(topic, o.seed(), 32, total);
        // Every used topic but the input is compared; what the pipeline consumes (in the split video
        // layout, the features topic too) must be consumed to the end before the outputs are read.
        List<String> outputs = spec.outputTopics();
        for (TopicRole role : spec.topics().roles()) {
            if (outputs.contains(spec.topics().name(role)) && !outputRoles.contains(role)) {
                outputRoles.add(role);
            }
        }
        consumed.addAll(spec.consumedTopics());
        this.instances = new LaneInstances(name(), this.yaml, applicationId, o.work(), o.standbys());
    }

    String name() {
        return spec.name();
    }

    /** Input records sent per second. */
    double rate(Soak.Options o) {
        return video ? o.videoRate() : o.sensorRate();
    }

    String predictions() {
        return spec.topics().name(ActivityHead.PREDICTIONS);
    }

    List<String> outputTopics() {
        return outputRoles.stream().map(spec.topics()::name).toList();
    }

    /** Output records (every role), per key, as the run left them. */
    RunOutputs settleAndRead(String bootstrap) {
        TopicReader.awaitSettled(bootstrap, TopicReader.Settle.outputs(outputTopics()).consumedBy(applicationId, consumed), Soak.SETTLE);
        return RunOutputs.read(bootstrap, spec.topics(), outputRoles, Soak.SETTLE);
    }

    /** Stops the feeder, then every instance. */
    @Override
    public void close() {
        if (feeder != null) {
            try {
                feeder.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        instances.close();
    }
}

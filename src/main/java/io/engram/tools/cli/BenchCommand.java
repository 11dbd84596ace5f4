package io.engram.tools.cli;

import io.engram.tools.bench.Benchmarks;
import io.engram.engine.config.PipelineSpec;
import io.engram.engine.runtime.Pipelines;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram bench}: throughput reports for a pipeline (a benchmark, never a test assertion). */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = BenchPoseCommand.class,
        description = {"Measure a pipeline's throughput on an in-process broker; the pipeline file's type picks the benchmark.",
            "",
            "anomaly over sensor readings (default): the full pipeline beside the same topology with the model call",
            "removed, and beside the windowed baseline (the same GRU rerun over each stream's last --window readings",
            "for every record, as a windowed job would): same broker, same input, alternating passes, medians of the",
            "rounds after the first, each clock from the pass's first record. Prints records/s, the ratios, and the",
            "RMS difference of the windowed forecasts from the stateful ones; and the cost per record of each part (a bare",
            "pass: no model call and the forecast channel only; the other channels; the model call) against the budget",
            "that a ratio of 0.8 leaves the model call.",
            "video-activity (--video): frames/s of the encoder alone and of decode + CNN + GRU without Kafka; then",
            "for each layout (fused, split) and profile (live, throughput): the pipeline's frames/s, and",
            "frame-timestamp-to-prediction latency (p50, p99, p999) at 50% and 90% of that maximum, after a warm-up.",
            "person-activity (--video runs it after video-activity; --people alone): the pose model's ms per frame and",
            "people per frame on a real clip (--people-clip), the pipeline's frames/s for one camera, and live latency",
            "(capture time to each person's prediction, p50 and p99) at --camera-fps per camera for --cameras cameras,",
            "with the pose stage's ms per frame and the GRU's ms per person from the pipeline's meters.",
            "A benchmark, not a test: the numbers depend on the machine.",
            "",
            "engram bench pose --clips DIR: clip-level accuracy of the person-activity pipeline on labelled clips (see its --help)."})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--records", defaultValue = "200000", description = "Sensors: records per pass (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--streams", defaultValue = "1000", description = "Sensors: distinct stream ids (default: ${DEFAULT-VALUE}).")
    int streams;

    @Option(names = "--rounds", defaultValue = "3", description = "Rounds of every pass (sensors: no-model, model, windowed; video: each layout and profile); figures are medians of the rounds after the first (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--window", defaultValue = "64",
            description = "Sensors: T of the windowed baseline, the same GRU rerun over each stream's last T readings per record; 0 = skip it (default: ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--memory-streams", split = ",", paramLabel = "N[,N...]", defaultValue = "10000,100000",
            description = "Sensors: stream counts at which to measure the resident memory of an engram run process (and the state bytes"
                    + " per stream); 0 = skip (default: ${DEFAULT-VALUE}). E.g. 1000000 for a million streams.")
    List<Integer> memoryStreams;

    @Option(names = "--config", description = "Pipeline definition (default: topology/sensor-anomaly.yaml, or with --video topology/video-activity.yaml).")
    Path config;

    @Option(names = "--video", description = "The video pipelines: topology/video-activity.yaml, then topology/person-activity.yaml.")
    boolean video;

    @Option(names = "--people", description = "Shorthand for --config topology/person-activity.yaml.")
    boolean people;

    @Option(names = "--people-clip", defaultValue = "ingest/samples/people/hall.mp4",
            description = "Person activity: the clip of people whose frames are sent, looped (default: ${DEFAULT-VALUE}).")
    Path peopleClip;

    @Option(names = "--cameras", split = ",", paramLabel = "N[,N...]", defaultValue = "1,2,4",
            description = "Person activity: camera counts of the live latency passes (default: ${DEFAULT-VALUE}).")
    List<Integer> cameras;

    @Option(names = "--camera-fps", defaultValue = "10", description = "Person activity: frames/s per camera in the live passes (default: ${DEFAULT-VALUE}).")
    double cameraFps;

    @Option(names = "--frames", defaultValue = "20000", description = "Video: frames for the throughput passes (default: ${DEFAULT-VALUE}).")
    int frames;

    @Option(names = "--json", paramLabel = "FILE",
            description = "Also write the figures as JSON, e.g. {\"sensor.records_per_s\": ..., \"video.pipeline_fps\": ..., \"video.latency_p99_ms\": ...}.")
    Path json;

    @Option(names = "--latency-seconds", defaultValue = "20", description = "Video: seconds of live traffic per latency pass, after 5 s of warm-up (default: ${DEFAULT-VALUE}).")
    int latencySeconds;

    @Override
    public Integer call() throws Exception {
        List<Path> files = new java.util.ArrayList<>();
        if (config != null) {
            files.add(config);
        } else if (people) {
            files.add(Path.of("topology/person-activity.yaml"));
        } else if (video) {
            files.add(Path.of("topology/video-activity.yaml"));
            files.add(Path.of("topology/person-activity.yaml"));
        } else {
            files.add(Path.of("topology/sensor-anomaly.yaml"));
        }
        Benchmarks.Options o = new Benchmarks.Options(records, streams, rounds, frames, latencySeconds,
                InstallPaths.resolve(Path.of("models/activity/clip")), window, memoryStreams.stream().filter(n -> n > 0).toList(),
                InstallPaths.resolve(peopleClip), cameras, cameraFps);
        java.util.Map<String, Double> figures = new java.util.LinkedHashMap<>();
        for (Path file : files) {
            PipelineSpec spec = Pipelines.load(InstallPaths.resolve(file));
            figures.putAll(Benchmarks.run(spec, o, System.out, System.err));
        }
        if (json != null) {
            new com.fasterxml.jackson.databind.ObjectMapper().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValue(json.toFile(), figures);
            System.err.println("engram bench: figures written to " + json);
        }
        return 0;
    }
}

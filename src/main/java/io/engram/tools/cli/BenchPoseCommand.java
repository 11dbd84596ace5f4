package io.engram.tools.cli;

import io.engram.engine.config.PipelineSpec;
import io.engram.engine.errors.ConfigException;
import io.engram.engine.runtime.Pipelines;
import io.engram.tools.bench.PoseClipBenchmark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code engram bench pose}: clip-level accuracy of the person-activity pipeline on labelled clips. */
@Command(name = "pose", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Clip-level accuracy of the person-activity pipeline on labelled video clips, through the real pipeline.",
            "",
            "Starts an in-process broker and the pipeline (as engram run does), sends each clip as its own camera",
            "(id = file name without extension; every frame, JPEG quality 85, as engram ingest video does), waits until",
            "the pipeline has committed every frame, reads its predictions (read_committed) and scores each clip:",
            "  the clip's person = its track with the most predictions (ties: the lowest track id);",
            "  standing/walking: walking when the person's walk + run frames outnumber its stand frames;",
            "  waving/other: waving when the share of the person's frames labelled wave is over a threshold,",
            "  chosen leave-one-subject-out (each subject at the best balanced accuracy on the other subjects).",
            "Prints confusion matrices, accuracy (and balanced accuracy for waving) with 95%% Wilson intervals, per side.",
            "",
            "Clips are named {subject}_{gender}_{action}_{STD|WLK}_{FCE|LFT|RGT}.avi (the BIISC set's naming)."},
        footer = {"", "Example:", "  ./engram bench pose --clips ../shared/biisc/videos --out biisc.json"})
public final class BenchPoseCommand implements Callable<Integer> {
    @Option(names = "--clips", required = true, paramLabel = "DIR", description = "Directory of labelled clips (.avi, .mp4, .mkv).")
    Path clips;

    @Option(names = "--config", paramLabel = "FILE", description = "Pipeline definition (default: topology/person-activity.yaml).")
    Path config;

    @Option(names = "--side", paramLabel = "FCE|LFT|RGT", description = "Only the clips filmed from this side.")
    String side;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0",
            description = "At most N clips, evenly spaced over the sorted list (default: all).")
    int limit;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "Kafka Streams threads of the pipeline (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the figures and each clip's counts as JSON.")
    Path out;

    @Option(names = "--keypoints-out", paramLabel = "FILE",
            description = {"Also write every person's keypoints as the keypoint model is fed them, and every prediction, as JSON lines",
                "(turns on pose.write_keypoints; for replaying the model offline: models/pose-activity/biisc_eval.py)."})
    Path keypointsOut;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(clips)) {
            throw new ConfigException("--clips " + clips + " is not a directory");
        }
        if (threads < 1) {
            throw new ConfigException("--threads must be at least 1, not " + threads);
        }
        Path file = config != null ? config : Path.of("topology/person-activity.yaml");
        PipelineSpec spec = Pipelines.load(InstallPaths.resolve(file));
        List<Path> list = PoseClipBenchmark.clips(clips, side, limit);
        if (list.isEmpty()) {
            throw new ConfigException("no clips in " + clips + (side != null ? " from side " + side : ""));
        }
        System.err.printf("engram bench pose: %d clips from %s, %d thread(s)%n", list.size(), clips, threads);
        PoseClipBenchmark.Result r = PoseClipBenchmark.run(spec, list, threads, keypointsOut, System.err);
        Map<String, Object> figures = PoseClipBenchmark.report(r, System.out);
        if (out != null) {
            new com.fasterxml.jackson.databind.ObjectMapper().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValue(out.toFile(), figures);
            System.err.println("engram bench pose: figures written to " + out);
        }
        return 0;
    }
}

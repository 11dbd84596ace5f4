package io.engram.tools.cli;

import io.engram.tools.bench.NabReplay;
import io.engram.engine.config.PipelineSpec;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code engram nab}: replays NAB-format CSVs through the real topology and writes NAB result files. */
@Command(name = "nab", mixinStandardHelpOptions = true,
        description = {"Score the Numenta Anomaly Benchmark: replay NAB CSVs through the real pipeline.",
            "",
            "Replays every NAB-format CSV (timestamp,value) under --data through the real pipeline on an",
            "in-process broker, one stream per file with fresh state, and writes --out/<category>/<name>.csv",
            "with columns timestamp,value,anomaly_score (score in [0,1], one row per input row, same order)",
            "and raw_score, alert and reasons (NAB's scorers ignore them).",
            "Multivariate CSVs (timestamp,c1,...,cN, the same N in every file, e.g. SKAB) replay one vector",
            "reading per row, carrying the column names: the result keeps the N columns in place of value,",
            "and a reason names its column (level:Pressure).",
            "One parameter set (the pipeline's) for all files; no look-ahead.",
            "Score the result with NAB's scorer, e.g. python3 ../shared/tools/nab_score.py."})
public final class NabCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "Folder of NAB CSVs (searched recursively), e.g. ../shared/nab/data.")
    Path data;

    @Option(names = "--out", required = true, description = "Folder for the result CSVs.")
    Path out;

    @Mixin
    DetectorVariant variant = new DetectorVariant();

    @Override
    public Integer call() throws Exception {
        PipelineSpec cfg = variant.load();
        NabReplay.Report r = NabReplay.run(cfg, data, out, System.err);
        System.out.printf("engram nab: %d files, %d rows in %.1f s (%.0f rows/s); results in %s%n",
                r.files(), r.rows(), r.seconds(), r.rows() / r.seconds(), out.toAbsolutePath());
        return 0;
    }
}

#!/usr/bin/env python3
"""Engram's anomaly protocol on NAB's development categories: compare candidate settings fold by fold,
and choose among them by leave-one-category-out (docs/benchmarks.md, "Anomaly detection: protocol").

    ./engram nab --data ../shared/nab/data --out /tmp/cv/base
    ./engram nab --data ../shared/nab/data --out /tmp/cv/novel2 --set scoring.shape.novel_weight=2.0
    /usr/bin/python3 models/sensor-forecaster/nab_cv.py --tools ../shared/tools \\
        --windows ../shared/nab/labels/combined_windows.json /tmp/cv/base /tmp/cv/novel2

Each RESULT_DIR holds the NAB result files of one candidate (`engram nab`); the first is the baseline.
For every candidate it prints the leave-one-category-out score (nab_loco.py: each category scored at
the threshold swept on the other three) and, per fold, the category's raw NAB score at that threshold.
A candidate is kept over the baseline only if it wins at least three of the four folds and does not
lower the leave-one-category-out score; a fold where
the baseline is at the category's ceiling (artificialNoAnomaly: no false alarm) counts as won when the
candidate stays there too, since nothing can beat it.

With --select it also runs the nested choice: for each category, the candidate with the best score on
the other three categories (at their swept threshold) is chosen, and scored on the held-out category at
that threshold. The sum over categories, normalised as NAB does, is the cross-validated score of the
whole selection, an honest figure for "the best of these candidates".

Reads only the result files and combined_windows.json: never NAB's data of the held-out categories.
"""
import argparse
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="result folders, one per candidate; the first is the baseline")
    ap.add_argument("--windows", required=True, help="NAB combined_windows.json (development subset)")
    ap.add_argument("--tools", required=True, help="folder with nab_score.py and nab_loco.py")
    ap.add_argument("--profile", default="standard")
    ap.add_argument("--select", action="store_true", help="also run the nested selection among the candidates")
    a = ap.parse_args()
    sys.path.insert(0, os.path.abspath(a.tools))
    import nab_score  # noqa: E402
    import nab_loco  # noqa: E402

    w = nab_score.PROFILES[a.profile]
    cands = []
    for d in a.results:
        files, _ = nab_score.load_corpus(d, a.windows)
        cands.append((os.path.basename(os.path.normpath(d)), files))
    cats = sorted({f.rel_path.split("/")[0] for f in cands[0][1]})

    def fold_raws(files):
        out = {}
        for c in cats:
            train = [f for f in files if f.rel_path.split("/")[0] != c]
            thr, _ = nab_score.optimise_threshold(train, w)
            out[c] = sum(nab_score.score_file(f, w, thr)["raw"] for f in files if f.rel_path.split("/")[0] == c)
        return out

    def ceiling(files, c):
        return all(not f.windows for f in files if f.rel_path.split("/")[0] == c)

    base_raw = fold_raws(cands[0][1])
    print("%-28s %8s  %s" % ("candidate", "LOCO", "  ".join("%-22s" % c for c in cats)))
    for name, files in cands:
        loco, _ = nab_loco.loco(files, a.profile)
        raws = fold_raws(files)
        wins = 0
        marks = []
        for c in cats:
            if raws[c] > base_raw[c] + 1e-9 or (ceiling(files, c) and abs(base_raw[c]) < 1e-9 and abs(raws[c]) < 1e-9):
                wins += 1
                marks.append("%8.2f win " % raws[c])
            elif raws[c] < base_raw[c] - 1e-9:
                marks.append("%8.2f loss" % raws[c])
            else:
                marks.append("%8.2f tie " % raws[c])
        if name == cands[0][0]:
            base_loco = loco
            verdict = ""
        elif wins >= 3 and loco >= base_loco - 1e-9:
            verdict = "  -> keep (%d of 4 folds)" % wins
        else:
            verdict = "  -> reject (%d of 4 folds%s)" % (wins, "" if loco >= base_loco - 1e-9 else ", lower LOCO")
        print("%-28s %8.2f  %s%s" % (name, loco, "  ".join("%-22s" % m for m in marks), verdict))

    if a.select:
        total, picks = 0.0, []
        for c in cats:
            best = None
            for name, files in cands:
                thr, s = nab_score.optimise_threshold([f for f in files if f.rel_path.split("/")[0] != c], w)
                if best is None or s > best[0] + 1e-9:
                    best = (s, name, thr, files)
            _, name, thr, files = best
            r = sum(nab_score.score_file(f, w, thr)["raw"] for f in files if f.rel_path.split("/")[0] == c)
            total += r
            picks.append((c, name, r))
        files = cands[0][1]
        s_null = -w["fn"] * sum(len(f.scorable_windows) for f in files)
        s_perf = w["tp"] * sum(len(f.windows) for f in files)
        print("nested selection: cross-validated score %.2f" % (100.0 * (total - s_null) / (s_perf - s_null)))
        for c, name, r in picks:
            print("  %-24s chose %-24s raw %.2f" % (c, name, r))


if __name__ == "__main__":
    main()

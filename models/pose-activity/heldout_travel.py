#!/usr/bin/env python3
"""The held-out CMU views of train.py, scored as the pipeline labels them: the model, then the travel gate.

    /usr/bin/python3 models/pose-activity/heldout_travel.py [--onnx models/pose-activity/keypoint-gru.onnx] [--out FILE.json]

train.py's held-out figures are the model's own. The person pipeline's labels are the model's after
the travel gate (`travel:`, Travel.java; mirrored by biisc_eval.py), which needs each frame's time and
the frame's aspect ratio. The held-out CMU views have both (each virtual camera's frame rate and frame
size); the pose-keypoints quarter has neither (its source gives no frame rate or frame size), so it is
scored by the model alone here as in train.py. Rebuilds the same held-out pool as train.py (seed 42,
the defaults of 1.2.0) and scores frames >= EVAL_SKIP as train.py's evaluate() does, with and without
the gate. Reads ../shared/mocap-cmu and ../shared/pose-keypoints, like train.py.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", default=os.path.join(HERE, "keypoint-gru.onnx"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-speed", type=float, default=0.5)
    ap.add_argument("--fov", type=float, default=60.0)
    ap.add_argument("--tau-ms", type=float, default=1000.0)
    ap.add_argument("--out")
    args = ap.parse_args()
    import torch
    import biisc_eval
    import kpdata as K
    import train as T

    # Each CMU view's frame size: project() is given it; remember it for the view cmu_stream returns.
    sizes, last = {}, {}
    project, cmu_stream = K.project, K.cmu_stream

    def project_seen(world, rng, width, height, *a, **kw):
        last["size"] = (width, height)
        return project(world, rng, width, height, *a, **kw)

    def stream_seen(*a, **kw):
        kp, fps = cmu_stream(*a, **kw)
        sizes[id(kp)] = last["size"]
        return kp, fps

    K.project, K.cmu_stream = project_seen, stream_seen
    torch.set_num_threads(1)
    _, held, _ = T.load_sources(args.seed, mine_stand=True)
    model = biisc_eval.load_model(args.onnx)
    model.eval()
    n = T.NCLS
    conf = {"model": np.zeros((n, n), dtype=np.int64), "gated": np.zeros((n, n), dtype=np.int64)}
    per_source = {}
    with torch.no_grad():
        for lab, kp, src, fps in held:
            flat = kp.reshape(len(kp), -1).astype(np.float32)
            probs = torch.softmax(model(torch.from_numpy(flat.reshape(len(flat), 1, T.IN)))[0][:, 0], -1).numpy()
            out = {"model": probs}
            if fps is not None and id(kp) in sizes:
                w, h = sizes[id(kp)]
                ts = np.round(np.arange(len(flat)) * 1000.0 / fps).astype(np.int64)
                speed = biisc_eval.travel_speeds(flat, ts, np.full(len(flat), w / h), args.fov, args.tau_ms)
                out["gated"] = biisc_eval.travel_gate(probs, speed, args.min_speed)
            else:
                out["gated"] = probs
            y = T.L[lab]
            for k, p in out.items():
                pred = p.argmax(1)[T.EVAL_SKIP:]
                np.add.at(conf[k], (np.full(len(pred), y), pred), 1)
                ps = per_source.setdefault(k, {}).setdefault(src.split(":")[0] + ":" + lab, [0, 0])
                ps[0] += int((pred == y).sum())
                ps[1] += len(pred)
    report = {"onnx": os.path.basename(args.onnx), "travel": {"min_speed": args.min_speed, "field_of_view_deg": args.fov,
                                                              "time_constant_ms": args.tau_ms}}
    for k, c in conf.items():
        report[k] = {"accuracy": round(float(np.trace(c) / max(c.sum(), 1)), 4), "frames_scored": int(c.sum()),
                     "per_class_recall": {l: round(float(c[i, i] / max(c[i].sum(), 1)), 4) for i, l in enumerate(T.LABELS)},
                     "per_source": {s: {"acc": round(v[0] / max(v[1], 1), 4), "frames": v[1]} for s, v in sorted(per_source[k].items())},
                     "confusion": c.tolist()}
        print(k, "accuracy", report[k]["accuracy"], json.dumps(report[k]["per_class_recall"]))
        print("  ", json.dumps(report[k]["per_source"]))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()

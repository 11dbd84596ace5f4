#!/usr/bin/env python3
"""Train, export and document the fixed-lag refiner of keypoint-gru (keypoint-refiner): the backward
half of a bidirectional GRU over raw keypoints, run live over a bounded window of look-ahead
(docs/model-contract.md, "Fixed-lag refiners"), as models/activity/train_refiner.py does for
activity-gru.

    /usr/bin/python3 models/pose-activity/train_refiner.py [--seed 42]

Needs keypoint-gru.onnx and golden/keypoint-gru.json (train.py). What it does:

1. The forward model is the released keypoint-gru, frozen: its GRU and head are read back from the
   .onnx (gates reordered from ONNX's z, r, h to PyTorch's r, z, n; the normalisation has no weights),
   and the script stops unless it gives the golden sequences' probabilities.
2. Data: train.py's training pool (CMU views of the training subjects, the training part of
   pose-keypoints, synthetic lying) chained into streams with label changes, another seed; held out:
   the held-out pool (CMU subjects 3 and 6, the last quarter of each pose-keypoints class) chained
   the same way (pose-keypoints segments augmented as in training).
3. The refiner: for frame j and lag L it reads the raw keypoints of frames j .. j+L, newest first,
   and of frame j-1 (zeros at a stream's first frame); the graph normalises every frame as
   keypoint-gru does, with the previous frame of each its predecessor in the window (no carry-over
   across a frame with no seen point: the velocity after such a frame is 0); a backward
   nn.GRU(88 -> 48) from zero state; Linear(64 + 48 -> 64) -> ReLU -> Linear(64 -> 7) over
   [h_fwd(j), h_bwd(j)]. Cross-entropy on every frame, L drawn from 0..16 per batch.
4. Held-out accuracy for L = 0, 2, 4, 8, 16 against the live classifier, on frames 0..3 after a
   change and on all frames.
5. Exports x_rev [W, B, 51], x_before [B, 51], h_fwd [B, 64] -> probs [B, 7] (opset 17, dynamic W
   and B), writes keypoint-refiner.onnx, keypoint-refiner.yaml, golden/keypoint-refined.json (PyTorch's
   refined probabilities of a golden sequence at L = 2 and 8, with the forward states) and
   train-report-refiner.json.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train as kg  # noqa: E402

MODEL_ID = "keypoint-refiner"
VERSION = "1.2.0"  # paired with keypoint-gru 1.2.0 (forward_version in its manifest)
HB = 48
MAX_LAG = 16
LAGS = [0, 2, 4, 8, 16]
N_TRAIN, N_VAL, STREAM_T = 800, 120, 160
BATCH = 256
LR, LR_MIN = 3e-3, 1e-4


def load_forward(path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    g = [n for n in m.graph.node if n.op_type == "GRU"][0]
    W, R, B = (init[g.input[i]][0] for i in (1, 2, 3))
    H = kg.HIDDEN

    def torch_order(a):
        return np.concatenate([a[H:2 * H], a[0:H], a[2 * H:3 * H]], axis=0)
    f = kg.KeypointGRU()
    with torch.no_grad():
        f.rnn.weight_ih_l0.copy_(torch.from_numpy(torch_order(W)))
        f.rnn.weight_hh_l0.copy_(torch.from_numpy(torch_order(R)))
        f.rnn.bias_ih_l0.copy_(torch.from_numpy(torch_order(B[:3 * H])))
        f.rnn.bias_hh_l0.copy_(torch.from_numpy(torch_order(B[3 * H:])))
        f.head.weight.copy_(torch.from_numpy(init["head.weight"]))
        f.head.bias.copy_(torch.from_numpy(init["head.bias"]))
    f.eval()
    for p in f.parameters():
        p.requires_grad_(False)
    return f


class Refiner(nn.Module):
    def __init__(self):
        super().__init__()
        self.feat = kg.KeypointFeatures()
        self.bwd = nn.GRU(kg.FEAT, HB)
        self.head = nn.Sequential(nn.Linear(kg.HIDDEN + HB, 64), nn.ReLU(), nn.Linear(64, kg.NCLS))

    def forward(self, x_rev, x_before, h_fwd):
        """x_rev [W,B,51] newest first (frames j+L .. j), x_before [B,51] (frame j-1) -> logits [B,7]."""
        seq = torch.cat([x_rev, x_before.unsqueeze(0)], 0)               # [W+1,B,51]
        flat = seq.reshape(-1, kg.IN)
        zeros = torch.zeros_like(torch.cat([flat, flat[:, :kg.PREV - kg.IN]], 1))
        _, new = self.feat(flat, zeros)                                   # each frame's own state
        new = new.reshape(seq.shape[0], seq.shape[1], kg.PREV)
        f, _ = self.feat(x_rev.reshape(-1, kg.IN), new[1:].reshape(-1, kg.PREV))
        _, hb = self.bwd(f.reshape(x_rev.shape[0], x_rev.shape[1], kg.FEAT))
        return self.head(torch.cat([h_fwd, hb[0]], -1))


class RefinerExport(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.r = r

    def forward(self, x_rev, x_before, h_fwd):
        return torch.softmax(self.r(x_rev, x_before, h_fwd), dim=-1)


@torch.no_grad()
def forward_states(fwd, X):
    """X [N,T,51] -> h_fwd [N,T,64] (after each frame) and live logits [N,T,7]."""
    f, _ = fwd.features(torch.from_numpy(X).transpose(0, 1))
    out, _ = fwd.rnn(f)
    return out.transpose(0, 1).numpy(), fwd.head(out).transpose(0, 1).numpy()


def windows(X, H, idx, lag):
    n, j = idx[:, 0], idx[:, 1]
    x_rev = np.stack([X[n, j + lag - k] for k in range(lag + 1)])
    x_before = np.where((j > 0)[:, None], X[n, np.maximum(j - 1, 0)], 0.0).astype(np.float32)
    return torch.from_numpy(x_rev), torch.from_numpy(x_before), torch.from_numpy(H[n, j])


def change_age(y):
    age = np.zeros(len(y), dtype=np.int64)
    for i in range(1, len(y)):
        age[i] = 0 if y[i] != y[i - 1] else age[i - 1] + 1
    return age


@torch.no_grad()
def score(model, X, H, Y, Llive, lag):
    N, T = Y.shape
    pred = np.full((N, T), -1)
    for s in range(N):
        j = np.arange(0, T - lag)
        idx = np.stack([np.full_like(j, s), j], 1)
        pred[s, :T - lag] = model(*windows(X, H, idx, lag)).argmax(-1).numpy()
    age = np.stack([change_age(y) for y in Y])
    ok = pred >= 0
    early = ok & (age <= 3)
    live = Llive.argmax(-1)
    return {"lag": lag, "acc_0_3_after_change": round(float((pred[early] == Y[early]).mean()), 4),
            "acc_all": round(float((pred[ok] == Y[ok]).mean()), 4),
            "live_acc_0_3_after_change": round(float((live[early] == Y[early]).mean()), 4),
            "live_acc_all": round(float((live[ok] == Y[ok]).mean()), 4), "frames": int(ok.sum())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--minutes", type=float, default=20.0, help="wall-clock cap (a safety net)")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()

    fwd = load_forward(os.path.join(args.out, "keypoint-gru.onnx"))
    g = json.load(open(os.path.join(args.out, "golden", "keypoint-gru.json")))
    d_fwd = 0.0
    for s in g["sequences"]:
        kp = np.array(s["kp"], dtype=np.float32)
        _, Lg = forward_states(fwd, kp[None])
        d_fwd = max(d_fwd, float(np.abs(torch.softmax(torch.from_numpy(Lg[0]), -1).numpy() - np.array(s["probs"])).max()))
    assert d_fwd <= 1e-5, f"the forward model read back from keypoint-gru.onnx differs from its goldens: {d_fwd}"

    train_pool, held, _ = kg.load_sources(args.seed)
    Xtr, Ytr, _, _, _ = kg.make_streams(train_pool, np.random.default_rng([args.seed, 44]), N_TRAIN, STREAM_T)
    Xva, Yva, _, _, _ = kg.make_streams(held, np.random.default_rng([args.seed, 55]), N_VAL, STREAM_T)
    Htr, _ = forward_states(fwd, Xtr)
    Hva, Lva = forward_states(fwd, Xva)
    t_data = time.time() - t0
    print(f"data {t_data:.0f}s", flush=True)

    model = Refiner()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * min(s, args.steps) / args.steps))) / LR)
    rng = np.random.default_rng([args.seed, 66])
    deadline = time.time() + args.minutes * 60
    hist, step = [], 0
    for step in range(1, args.steps + 1):
        lag = int(rng.integers(0, MAX_LAG + 1))
        n = rng.integers(0, N_TRAIN, BATCH)
        j = rng.integers(0, STREAM_T - lag, BATCH)
        idx = np.stack([n, j], 1)
        logits = model(*windows(Xtr, Htr, idx, lag))
        loss = F.cross_entropy(logits, torch.from_numpy(Ytr[n, j]))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0:
            hist.append({"step": step, "loss": round(float(loss), 4), "seconds": round(time.time() - t0, 1)})
            print(hist[-1], flush=True)
        if time.time() > deadline:
            break
    model.eval()
    results = [score(model, Xva, Hva, Yva, Lva, lag) for lag in LAGS]
    for r in results:
        print(r, flush=True)

    # ---- export -------------------------------------------------------------------------------
    import onnx
    path = os.path.join(args.out, "keypoint-refiner.onnx")
    exp = RefinerExport(model).eval()
    ins, outs = ["x_rev", "x_before", "h_fwd"], ["probs"]
    torch.onnx.export(exp, (torch.rand(3, 2, kg.IN), torch.rand(2, kg.IN), torch.zeros(2, kg.HIDDEN)), path,
                      opset_version=kg.OPSET, input_names=ins, output_names=outs,
                      dynamic_axes={"x_rev": {0: "window", 1: "batch"}, "x_before": {0: "batch"},
                                    "h_fwd": {0: "batch"}, "probs": {0: "batch"}}, do_constant_folding=True)
    m = onnx.load(path)
    sizes = {"x_rev": kg.IN, "x_before": kg.IN, "h_fwd": kg.HIDDEN, "probs": kg.NCLS}
    for vi in list(m.graph.input) + list(m.graph.output):
        d = vi.type.tensor_type.shape.dim
        if d[-1].dim_param:
            d[-1].Clear()
            d[-1].dim_value = sizes[vi.name]
    onnx.save(m, path)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [nd.op_type for nd in m.graph.node]
    assert ops.count("GRU") == 1, ops
    text = (
        "# Written by train_refiner.py: the fixed-lag refiner of keypoint-gru (docs/model-contract.md, \"Fixed-lag refiners\").\n"
        f"id: {MODEL_ID}\n"
        f"version: \"{VERSION}\"\n"
        "file: keypoint-refiner.onnx\n"
        "architecture: gru-backward\n"
        "task: refine\n"
        f"input:  {{name: x_rev, size: {kg.IN}}}       # [window, batch, 51] raw keypoints as keypoint-gru takes them, newest frame first\n"
        f"output: {{name: probs, size: {kg.NCLS}}}\n"
        f"labels: [{', '.join(kg.LABELS)}]\n"
        "refine:\n"
        "  before: x_before                  # [batch, 51]: the frame before the window's oldest (zeros at a stream's first frame)\n"
        f"  forward_state: h_fwd              # [batch, {kg.HIDDEN}]: keypoint-gru's state after the window's oldest frame,\n"
        "  forward_pair: h                   #   its state pair h\n"
        f"  forward_model: {kg.MODEL_ID}\n"
        f"  forward_version: \"{kg.VERSION}\"\n"
        f"  max_lag: {MAX_LAG}\n"
        "state: []\n"
        "preprocessing: {type: none}\n"
        f"training: {{script: train_refiner.py, seed: {args.seed}}}\n"
    )
    with open(os.path.join(args.out, "keypoint-refiner.yaml"), "w") as fh:
        fh.write(text)
    import yaml
    assert yaml.safe_load(text)["refine"]["max_lag"] == MAX_LAG

    # ---- golden: the missed-points sequence refined at L = 2 and 8 --------------------------------
    seq = next(s for s in g["sequences"] if s["name"] == "pk-wave-squat-fall-heldout")
    kp = np.array(seq["kp"], dtype=np.float32)
    Hs, _ = forward_states(fwd, kp[None])
    gold = {"model_id": MODEL_ID, "version": VERSION, "forward_model": kg.MODEL_ID, "sequence": seq["name"],
            "kp": kg.tolist2(kp), "h_fwd": kg.tolist2(Hs[0]), "refined": {}}
    with torch.no_grad():
        for lag in (2, 8):
            T = len(kp)
            j = np.arange(0, T - lag)
            idx = np.stack([np.zeros_like(j), j], 1)
            p = exp(*windows(kp[None], Hs, idx, lag)).numpy()
            gold["refined"][str(lag)] = kg.tolist2(p)
    with open(os.path.join(args.out, "golden", "keypoint-refined.json"), "w") as fh:
        json.dump(gold, fh)
        fh.write("\n")
    report = {"model_id": MODEL_ID, "version": VERSION, "forward_model": kg.MODEL_ID, "seed": args.seed,
              "command": " ".join(["/usr/bin/python3", "models/pose-activity/train_refiner.py"] + sys.argv[1:]),
              "torch": torch.__version__, "forward_readback_max_abs_diff": d_fwd,
              "data": {"train_streams": N_TRAIN, "heldout_streams": N_VAL, "stream_frames": STREAM_T,
                       "train_rng": [args.seed, 44], "heldout_rng": [args.seed, 55]},
              "hyper": {"hidden_bwd": HB, "batch": BATCH, "lr": LR, "lr_min": LR_MIN, "steps": step, "max_lag": MAX_LAG},
              "heldout": results, "history": hist, "onnx": {"ops": sorted(set(ops)), "bytes": os.path.getsize(path)},
              "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(args.out, "train-report-refiner.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

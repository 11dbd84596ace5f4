#!/usr/bin/env python3
"""Train, export and document Engram's fixed-lag activity refiner (activity-refiner): the backward
half of a bidirectional GRU, run live over a bounded window of look-ahead.

    /usr/bin/python3 models/activity/train_refiner.py [--seed N] [--threads T] [--minutes M]

Needs frame-encoder.pt/.yaml (train_encoder.py) and activity-gru.onnx (train_activity.py). See
docs/model-contract.md, "Fixed-lag refiners (task: refine)". What it does, end to end:

1. The forward direction is the released activity GRU, frozen: its weights are read back from
   activity-gru.onnx into train_activity.Activity (gates reordered from ONNX's z, r, h to PyTorch's
   r, z, n), and the script stops unless that module gives golden/activity-clip.json's
   probabilities (PyTorch's, from training time). Live, Engram already steps it per camera; its
   hidden state h_fwd(j) after frame j is what the refiner reads.
2. Data: the activity GRU's synthetic streams (train_activity.gen_stream: Fashion-MNIST objects
   moving left, right, up, down, in circles or still, changing every 16..40 frames), through the
   FROZEN encoder. Training streams use TRAIN-split objects and their own seed; held-out streams
   TEST-split objects and another seed.
3. The refiner: a backward nn.GRU(256 -> 64) and Linear(96 + 64 -> 64) -> ReLU -> Linear(64 -> 7).
   For frame j and lag L it reads frames j .. j+L (the window), newest first, from a zero state;
   each input is [x_k, x_k - x_{k-1}] as for the forward GRU; then it classifies
   [h_fwd(j), h_bwd(j)]. Trained with cross-entropy on every frame (the ones right after a change
   included: that is where look-ahead helps), L drawn uniformly from 0..16 per batch, so that one
   model serves every lag up to 16.
4. Held-out figures for L = 0, 2, 4, 8, 16 against the live (forward-only) classifier: accuracy
   on frames 0-3 after a change, overall accuracy, and spurious change events per minute (at
   10 frames/s) with the pipeline's event rule (a label announced once it has been on top for 3
   frames in a row and differs from the one announced before; spurious = the announced label is
   not the true label of the frame it is announced on).
5. Exports the window model x_rev[W,B,128] (frames j+L .. j, newest first), x_before[B,128]
   (frame j-1, zeros for j = 0), h_fwd[B,96] -> probs[B,7] (softmax in the graph; one GRU node;
   opset 17; dynamic W and B), writes activity-refiner.onnx, activity-refiner.yaml,
   golden/activity-refined-clip.json (PyTorch's refined probabilities on the golden clip at
   L = 2 and 8) and train-report-refiner.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, FEATURES, OPSET, ENCODER_ID, load_encoder, load_fashion_mnist, io_dims  # noqa: E402
import train_activity as ta  # noqa: E402

MODEL_ID = "activity-refiner"
VERSION = "1.0.0"
HB = 64                 # backward hidden size
MAX_LAG = 16
LAGS = [0, 2, 4, 8, 16]
N_TRAIN, N_VAL, STREAM_T = 256, 40, 960
BATCH = 256
LR, LR_MIN = 3e-3, 1e-4
FPS = 10.0              # for "per minute": the demo's and the docs' nominal frame rate
MIN_FRAMES = 3          # events.min_frames of the shipped pipeline


def load_forward(path):
    """train_activity.Activity with the weights of the exported activity-gru.onnx."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    g = [n for n in m.graph.node if n.op_type == "GRU"][0]
    W, R, B = (init[g.input[i]][0] for i in (1, 2, 3))
    H = ta.HIDDEN

    def torch_order(a):  # ONNX gates z, r, h -> PyTorch r, z, n
        return np.concatenate([a[H:2 * H], a[0:H], a[2 * H:3 * H]], axis=0)

    f = ta.Activity()
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
        self.bwd = nn.GRU(input_size=2 * FEATURES, hidden_size=HB, num_layers=1)
        self.head = nn.Sequential(nn.Linear(ta.HIDDEN + HB, 64), nn.ReLU(), nn.Linear(64, ta.NCLS))

    def forward(self, x_rev, x_before, h_fwd):
        """x_rev [W,B,128] newest first (frames j+L .. j), x_before [B,128] (frame j-1) -> logits [B,7]."""
        prev = torch.cat([x_rev[1:], x_before.unsqueeze(0)], 0)
        _, hb = self.bwd(torch.cat([x_rev, x_rev - prev], -1))
        return self.head(torch.cat([h_fwd, hb[0]], -1))


class RefinerExport(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.r = r

    def forward(self, x_rev, x_before, h_fwd):
        return torch.softmax(self.r(x_rev, x_before, h_fwd), dim=-1)


@torch.no_grad()
def forward_states(fwd, X):
    """X [N,T,128] -> h_fwd [N,T,96] (after each frame) and live logits [N,T,7]."""
    xt = torch.from_numpy(X).transpose(0, 1)                       # [T,N,128]
    prev = torch.cat([torch.zeros_like(xt[:1]), xt[:-1]], 0)
    out, _ = fwd.rnn(torch.cat([xt, xt - prev], -1))
    return out.transpose(0, 1).numpy(), fwd.head(out).transpose(0, 1).numpy()


def windows(X, H, idx, lag):
    """For (stream, frame j) pairs idx [M,2]: x_rev [L+1,M,128], x_before [M,128], h_fwd [M,96]."""
    n, j = idx[:, 0], idx[:, 1]
    x_rev = np.stack([X[n, j + lag - k] for k in range(lag + 1)])  # newest first
    x_before = np.where((j > 0)[:, None], X[n, np.maximum(j - 1, 0)], 0.0).astype(np.float32)
    return torch.from_numpy(x_rev), torch.from_numpy(x_before), torch.from_numpy(H[n, j])


@torch.no_grad()
def refine_all(model, X, H, lag):
    """Refined labels [N,T] (-1 where j + lag is past the end: those frames get no refined record)."""
    N, T = X.shape[:2]
    out = np.full((N, T), -1, dtype=np.int64)
    for s in range(N):
        j = np.arange(0, T - lag)
        idx = np.stack([np.full_like(j, s), j], 1)
        logits = model(*windows(X, H, idx, lag))
        out[s, :T - lag] = logits.argmax(-1).numpy()
    return out


def events(labels):
    """The pipeline's event rule over one camera's label sequence: [(frame, label)]."""
    ev, top, run, announced = [], None, 0, None
    for i, lab in enumerate(labels):
        run = run + 1 if lab == top else 1
        top = lab
        if run >= MIN_FRAMES and lab != announced:
            ev.append((i, lab))
            announced = lab
    return ev


def score(pred, Y):
    """Accuracy on frames 0-3 after a change, overall, and spurious events per minute; frames with pred -1 are skipped."""
    age = np.stack([ta.change_age(y) for y in Y])
    ok = pred >= 0
    early = ok & (age <= 3)
    spurious, frames = 0, 0
    for p, y in zip(pred, Y):
        valid = p[p >= 0]
        frames += len(valid)
        spurious += sum(1 for i, lab in events(valid) if lab != y[i])
    return {"acc_0_3_after_change": float((pred[early] == Y[early]).mean()),
            "acc_all": float((pred[ok] == Y[ok]).mean()),
            "spurious_events_per_min": spurious / (frames / FPS / 60.0),
            "frames": int(ok.sum()), "frames_0_3": int(early.sum())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=6.0, help="wall-clock cap on the training loop")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--train-streams", type=int, default=N_TRAIN)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()

    enc, mean, std = load_encoder(os.path.join(args.out, "frame-encoder.pt"))
    fwd = load_forward(os.path.join(args.out, "activity-gru.onnx"))
    g = json.load(open(os.path.join(args.out, "golden", "activity-clip.json")))
    clip = np.array(g["features"], dtype=np.float32)                # [T,128], PyTorch's encoder features
    Hc, Lc = forward_states(fwd, clip[None])
    live_probs = torch.softmax(torch.from_numpy(Lc[0]), -1).numpy()
    d_fwd = float(np.abs(live_probs - np.array(g["probs"])).max())
    assert d_fwd <= 1e-5, f"the forward GRU read back from activity-gru.onnx differs from its golden clip: {d_fwd}"

    xtr, _ = load_fashion_mnist("train")
    xte, _ = load_fashion_mnist("test")
    Xtr, Ytr = ta.make_set(np.random.default_rng([args.seed, 44]), xtr, args.train_streams, STREAM_T, enc, mean, std, "train")
    Xva, Yva = ta.make_set(np.random.default_rng([args.seed, 55]), xte, N_VAL, STREAM_T, enc, mean, std, "held-out")
    Htr, _ = forward_states(fwd, Xtr)
    Hva, Lva = forward_states(fwd, Xva)
    t_data = time.time() - t0

    model = Refiner()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps, eta_min=LR_MIN)
    rng = np.random.default_rng([args.seed, 66])
    t1 = time.time()
    history = []
    step = 0
    for step in range(1, args.steps + 1):
        lag = int(rng.integers(0, MAX_LAG + 1))
        n = rng.integers(0, len(Xtr), BATCH)
        j = rng.integers(0, STREAM_T - lag, BATCH)
        idx = np.stack([n, j], 1)
        logits = model(*windows(Xtr, Htr, idx, lag))
        loss = F.cross_entropy(logits, torch.from_numpy(Ytr[n, j]))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 500 == 0:
            model.eval()
            r8 = score(refine_all(model, Xva[:10], Hva[:10], 8), Yva[:10])
            model.train()
            history.append({"step": step, "loss": round(float(loss), 4), "heldout10_L8": {k: round(v, 4) for k, v in r8.items()},
                            "seconds": round(time.time() - t1, 1)})
            print(history[-1], flush=True)
        if time.time() - t1 > args.minutes * 60:
            break
    model.eval()
    train_seconds = time.time() - t1

    # ---- held-out figures ---------------------------------------------------------------------
    live = Lva.argmax(-1)
    figures = {"live": score(live, Yva)}
    for lag in LAGS:
        figures[f"L{lag}"] = score(refine_all(model, Xva, Hva, lag), Yva)
    # the live classifier on exactly the frames each lag refines (the last L frames of a stream get none)
    for k, v in figures.items():
        print(f"{k:>5}: acc 0-3 after change {v['acc_0_3_after_change']:.4f}, all {v['acc_all']:.4f}, "
              f"spurious events/min {v['spurious_events_per_min']:.2f}", flush=True)

    # ---- export ---------------------------------------------------------------------------------
    import onnx
    path = os.path.join(args.out, "activity-refiner.onnx")
    ex = RefinerExport(model).eval()
    torch.onnx.export(ex, (torch.zeros(3, 2, FEATURES), torch.zeros(2, FEATURES), torch.zeros(2, ta.HIDDEN)), path,
                      opset_version=OPSET, input_names=["x_rev", "x_before", "h_fwd"], output_names=["probs"],
                      dynamic_axes={"x_rev": {0: "window", 1: "batch"}, "x_before": {0: "batch"}, "h_fwd": {0: "batch"},
                                    "probs": {0: "batch"}}, do_constant_folding=True)
    om = onnx.load(path)
    onnx.checker.check_model(om, full_check=True)
    ops = [nd.op_type for nd in om.graph.node]
    assert ops.count("GRU") == 1 and not any(o in ("Loop", "Scan") for o in ops), ops

    with open(os.path.join(args.out, "activity-refiner.yaml"), "w") as fh:
        fh.write(f"""# Written by train_refiner.py: the fixed-lag refiner (docs/model-contract.md, "Fixed-lag refiners").
id: {MODEL_ID}
version: "{VERSION}"
file: activity-refiner.onnx
architecture: gru-backward
task: refine
input:  {{name: x_rev, size: {FEATURES}}}      # [window, batch, 128], newest frame first
output: {{name: probs, size: {ta.NCLS}}}
labels: [{", ".join(ta.LABELS)}]
refine:
  before: x_before                  # [batch, 128]: the frame before the window's oldest (zeros at a camera's first frame)
  forward_state: h_fwd              # [batch, 96]: the forward model's state after the window's oldest frame,
  forward_pair: h                   #   fed from this state pair of the forward model (its input name)
  forward_model: {ta.MODEL_ID}
  forward_version: "{ta.VERSION}"
  max_lag: {MAX_LAG}
state: []                           # no state of its own: Engram keeps the window
preprocessing: {{type: none}}
encoder: {ENCODER_ID}
training: {{script: train_refiner.py, seed: {args.seed}}}
""")

    # ---- golden: the clip, refined by PyTorch at L = 2 and 8 -------------------------------------------
    golden = {"model_id": MODEL_ID, "version": VERSION, "clip": "golden/activity-clip.json", "lags": {}}
    with torch.no_grad():
        for lag in (2, 8):
            T = len(clip)
            j = np.arange(0, T - lag)
            idx = np.stack([np.zeros_like(j), j], 1)
            p = torch.softmax(model(*windows(clip[None], Hc, idx, lag)), -1).numpy()
            e = RefinerExport(model)(*windows(clip[None], Hc, idx, lag)).numpy()
            assert np.abs(p - e).max() < 1e-6
            golden["lags"][str(lag)] = [[float(v) for v in row] for row in p.astype(np.float64)]
    with open(os.path.join(args.out, "golden", "activity-refined-clip.json"), "w") as fh:
        json.dump(golden, fh)
        fh.write("\n")

    report = {"model_id": MODEL_ID, "version": VERSION, "forward": f"{ta.MODEL_ID}@{ta.VERSION}",
              "command": " ".join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:]),
              "seed": args.seed, "torch": torch.__version__, "threads": torch.get_num_threads(),
              "data": {"train_streams": args.train_streams, "heldout_streams": N_VAL, "frames_per_stream": STREAM_T,
                       "train_rng": [args.seed, 44], "heldout_rng": [args.seed, 55]},
              "hyper": {"backward_hidden": HB, "batch": BATCH, "steps": step, "lr": LR, "max_lag": MAX_LAG},
              "forward_readback_max_abs_diff": d_fwd, "fps_for_per_minute": FPS, "event_min_frames": MIN_FRAMES,
              "heldout": figures, "history": history, "onnx": {"ops": ops, "io": io_dims(om), "bytes": os.path.getsize(path)},
              "data_seconds": round(t_data, 1), "train_seconds": round(train_seconds, 1), "total_seconds": round(time.time() - t0, 1)}
    with open(os.path.join(args.out, "train-report-refiner.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

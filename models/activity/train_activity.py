#!/usr/bin/env python3
"""Train, export and document Engram's video activity classifier (activity-gru).

    /usr/bin/python3 models/activity/train_activity.py [--seed N] [--threads T] [--minutes M] [--epochs E]

Needs frame-encoder.pt / frame-encoder.yaml from train_encoder.py. What it does, end to end
(see docs/model-contract.md, "Sequence classifiers (task: classify)"):

1. Generates continuous synthetic video streams (64x64 grayscale, uint8 like a camera):
   a Fashion-MNIST object (scale 0.7..1.05) moves with a motion pattern that changes every
   16..40 frames: still, left, right, up, down, clockwise, anticlockwise (as seen on screen,
   y down), speed 1..2.5 px/frame, circles of radius 5..10 px. The next motion is drawn among
   those with room to move (the object stays mostly on the canvas) and always differs from
   the current one. At 8% of the boundaries the object is replaced by a new one at a new place.
   Per-stream contrast/brightness with slow drift and flicker, sub-pixel camera jitter, Gaussian
   noise. Training streams use objects of the Fashion-MNIST TRAIN split, held-out streams
   objects of the TEST split, with other seeds.
2. Preprocesses every frame exactly as the contract says (already 64x64 gray, so only
   x = (v/255 - mean)/std) and runs the FROZEN encoder (eval mode, no grad) -> 128 features.
3. Trains nn.GRU(256 -> 96, 1 layer) + Linear(96 -> 7) with cross-entropy on every frame
   except the first 2 frames after a label change (and the first 2 of a stream), by truncated
   backpropagation over consecutive 120-frame chunks of 960-frame streams with the state
   carried over (detached) between chunks: the state is never reset inside a stream.
   The GRU's input is [x_t, x_t - x_{t-1}]: the frame's features and their change since the
   previous frame (motion, explicitly), with x_{-1} = 0. The previous features are a second
   state pair of the step model (x_prev -> x_out), so Engram keeps them per camera like h.
4. Held-out evaluation: per-frame accuracy on frames >= 4 frames after a label change,
   confusion matrix, and the same streams with their frames shuffled in time.
5. Exports the step wrapper x[B,128], h[B,96], x_prev[B,128] -> probs[B,7] (softmax in the
   graph), h_out[B,96], x_out[B,128] (one GRU node, opset 17, dynamic batch), checks it, writes activity-gru.onnx,
   activity-gru.yaml, golden/activity-clip.json + clip/frame-%05d.png, the demo clips
   ingest/samples/video/<camera>/ and train-report-activity.json.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (HERE, SIZE, FEATURES, OPSET, VERSION, ENCODER_ID, load_encoder,  # noqa: E402
                    read_yaml_mean_std, load_fashion_mnist, place, normalise, run_onnx_numpy,
                    io_dims, tolist2)

MODEL_ID = "activity-gru"
LABELS = ["still", "left", "right", "up", "down", "clockwise", "anticlockwise"]
HIDDEN = 96
NCLS = len(LABELS)
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

# ---- stream generator ---------------------------------------------------------------
SEG_LO, SEG_HI = 16, 40          # segment length, frames (inclusive)
SPEED_LO, SPEED_HI = 1.0, 2.5     # px / frame
RAD_LO, RAD_HI = 5.0, 10.0        # circle radius, px
SCALE_LO, SCALE_HI = 0.7, 1.05    # object size = 28 * scale px
P_NEW_OBJECT = 0.08               # object replaced at a segment boundary
# ---- training -------------------------------------------------------------------------
N_TRAIN, N_VAL, STREAM_T = 512, 40, 960
CHUNK = 120
BATCH = 32
LR, LR_MIN = 3e-3, 1e-4
SKIP_AFTER_CHANGE = 2             # frames after a label change not scored in training
EVAL_AFTER_CHANGE = 4             # evaluation counts frames >= 4 after a change

DIRS = {1: (-1.0, 0.0), 2: (1.0, 0.0), 3: (0.0, -1.0), 4: (0.0, 1.0)}   # left right up down (y down)


def gen_stream(rng, items, T, noise=1.0):
    """One continuous stream. Returns (frames uint8 [T,64,64], labels int64 [T], item ids [T]).

    label[t] is the motion that moved the object from frame t-1 to frame t."""
    def new_object():
        k = int(rng.integers(len(items)))
        s = float(rng.uniform(SCALE_LO, SCALE_HI))
        m = 0.6 * 14.0 * s                      # centre margin: at most ~40% of the half-size off canvas
        pos = rng.uniform(m + 4, SIZE - m - 4, 2)
        return k, s, m, pos

    k, s, m, pos = new_object()
    lo, hi = m, SIZE - m
    xs, ys, ks, ss, labels = [], [], [], [], []
    cur = -1
    while len(labels) < T:
        if cur >= 0 and rng.random() < P_NEW_OBJECT:
            k, s, m, pos = new_object()
            lo, hi = m, SIZE - m
        L = int(rng.integers(SEG_LO, SEG_HI + 1))
        v = float(rng.uniform(SPEED_LO, SPEED_HI))
        cands = {}
        if cur != 0:
            cands[0] = None
        for lab, (dx, dy) in DIRS.items():     # room to travel at least SEG_LO frames at SPEED_LO
            if lab == cur:
                continue
            room = {1: pos[0] - lo, 2: hi - pos[0], 3: pos[1] - lo, 4: hi - pos[1]}[lab]
            if room >= SPEED_LO * SEG_LO:
                cands[lab] = room
        r = float(rng.uniform(RAD_LO, RAD_HI))
        for lab in (5, 6):
            if lab == cur:
                continue
            for th0 in rng.permutation(np.linspace(0, 2 * np.pi, 12, endpoint=False)):
                c = pos - r * np.array([math.cos(th0), math.sin(th0)])
                if lo + r <= c[0] <= hi - r and lo + r <= c[1] <= hi - r:
                    cands[lab] = (c, th0)
                    break
        lab = int(rng.choice(sorted(cands)))
        if lab == 0:
            for _ in range(L):
                xs.append(pos[0]); ys.append(pos[1])
        elif lab in DIRS:
            room = cands[lab]
            if v * L > room:                   # slow down, then shorten, to stay on the canvas
                v = max(SPEED_LO, room / L)
                L = max(SEG_LO, min(L, int(room / v)))
            d = np.array(DIRS[lab])
            for _ in range(L):
                pos = pos + v * d
                xs.append(pos[0]); ys.append(pos[1])
        else:
            c, th = cands[lab]
            w = v / r * (1.0 if lab == 5 else -1.0)     # clockwise on screen: angle grows with y down
            for _ in range(L):
                th += w
                pos = c + r * np.array([math.cos(th), math.sin(th)])
                xs.append(pos[0]); ys.append(pos[1])
        ks += [k] * L
        ss += [s] * L
        labels += [lab] * L
        cur = lab
    xs, ys = np.array(xs[:T]), np.array(ys[:T])
    ks, ss, labels = np.array(ks[:T]), np.array(ss[:T]), np.array(labels[:T], dtype=np.int64)
    # camera: sub-pixel jitter, per-stream contrast/brightness with slow drift, flicker, noise
    jx, jy = rng.normal(0, 0.12, T), rng.normal(0, 0.12, T)
    t = np.arange(T)
    contrast = rng.uniform(0.7, 1.15) * (1 + 0.08 * np.sin(2 * np.pi * t / rng.uniform(80, 400) + rng.uniform(0, 6.3)))
    contrast = contrast * (1 + rng.normal(0, 0.015 * noise, T))
    bright = rng.uniform(0.0, 0.06) + 0.02 * np.sin(2 * np.pi * t / rng.uniform(80, 400) + rng.uniform(0, 6.3))
    sigma = rng.uniform(0.004, 0.02) * noise
    it = torch.from_numpy(items[ks]).float() / 255.0
    canvas = place(it, xs + jx, ys + jy, ss).numpy()
    v = (canvas * contrast[:, None, None].astype(np.float32) + bright[:, None, None].astype(np.float32)
         + np.float32(sigma) * rng.standard_normal(canvas.shape, dtype=np.float32))
    frames = np.rint(np.clip(v, 0, 1) * np.float32(255.0)).astype(np.uint8)
    return frames, labels, ks


def change_age(labels):
    """Frames since the last label change (the stream start counts as a change)."""
    age = np.zeros(len(labels), dtype=np.int64)
    for i in range(1, len(labels)):
        age[i] = 0 if labels[i] != labels[i - 1] else age[i - 1] + 1
    return age


@torch.no_grad()
def encode(enc, frames_u8, mean, std):
    out = []
    for i in range(0, len(frames_u8), 512):
        out.append(enc(normalise(frames_u8[i:i + 512], mean, std)))
    return torch.cat(out).numpy()


def make_set(rng, items, n, T, enc, mean, std, label):
    t0 = time.time()
    X = np.zeros((n, T, FEATURES), dtype=np.float32)
    Y = np.zeros((n, T), dtype=np.int64)
    for i in range(n):
        fr, lab, _ = gen_stream(rng, items, T)
        X[i] = encode(enc, fr, mean, std)
        Y[i] = lab
    print(f"{label}: {n} streams x {T} frames, {time.time() - t0:.0f}s", flush=True)
    return X, Y


# =====================================================================================
# Model
# =====================================================================================
class Activity(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(input_size=2 * FEATURES, hidden_size=HIDDEN, num_layers=1)
        self.head = nn.Linear(HIDDEN, NCLS)
        self.drop = nn.Dropout(0.1)            # training only; identity in eval and export

    def forward(self, x, h=None, xp=None):     # x [T,B,128] -> logits [T,B,7], h_n, last x
        if xp is None:
            xp = torch.zeros_like(x[0])
        prev = torch.cat([xp.unsqueeze(0), x[:-1]], 0)
        out, hn = self.rnn(self.drop(torch.cat([x, x - prev], -1)), h)
        return self.head(out), hn, x[-1]


class ActivityStep(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.rnn = m.rnn
        self.head = m.head

    def forward(self, x, h, xp):               # x [B,128], h [B,96], x_prev [B,128]
        out, hn = self.rnn(torch.cat([x, x - xp], -1).unsqueeze(0), h.unsqueeze(0))
        return torch.softmax(self.head(out[0]), dim=-1), hn[0], x + 0.0


@torch.no_grad()
def evaluate(model, X, Y, shuffle_seed=None):
    model.eval()
    Xt, Yt = X, Y
    age = np.stack([change_age(y) for y in Y])
    if shuffle_seed is not None:
        prng = np.random.default_rng(shuffle_seed)
        perms = [prng.permutation(X.shape[1]) for _ in range(X.shape[0])]
        Xt = np.stack([x[p] for x, p in zip(X, perms)])
        Yt = np.stack([y[p] for y, p in zip(Y, perms)])
        age = np.stack([a[p] for a, p in zip(age, perms)])
    logits = model(torch.from_numpy(Xt).transpose(0, 1))[0]
    pred = logits.argmax(-1).transpose(0, 1).numpy()
    m = age >= EVAL_AFTER_CHANGE
    conf = np.zeros((NCLS, NCLS), dtype=np.int64)
    np.add.at(conf, (Yt[m], pred[m]), 1)
    return {"acc_ge4_after_change": float((pred[m] == Yt[m]).mean()),
            "acc_all_frames": float((pred == Yt).mean()),
            "frames_scored": int(m.sum()), "confusion": conf.tolist(),
            "per_class_recall": [round(float(conf[i, i] / max(conf[i].sum(), 1)), 4) for i in range(NCLS)]}


# =====================================================================================
# Export
# =====================================================================================
def export_onnx(model, path):
    import onnx
    step = ActivityStep(model).eval()
    ins, outs = ["x", "h", "x_prev"], ["probs", "h_out", "x_out"]
    torch.onnx.export(step, (torch.zeros(2, FEATURES), torch.zeros(2, HIDDEN), torch.zeros(2, FEATURES)), path, opset_version=OPSET,
                      input_names=ins, output_names=outs, dynamic_axes={n: {0: "batch"} for n in ins + outs},
                      do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [nd.op_type for nd in m.graph.node]
    assert ops.count("GRU") == 1, ops
    assert sum(op in ("GRU", "LSTM", "RNN", "Loop", "Scan") for op in ops) == 1, ops
    io = io_dims(m)
    want = {"x": FEATURES, "h": HIDDEN, "x_prev": FEATURES, "probs": NCLS, "h_out": HIDDEN, "x_out": FEATURES}
    for n, size in want.items():
        assert io.get(n) == ["batch", size], (n, io.get(n))
    for vi in list(m.graph.input) + list(m.graph.output):
        assert vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [vi.name for vi in m.graph.input] == ins and [vi.name for vi in m.graph.output] == outs
    return step, {"ops": ops, "io": io, "bytes": os.path.getsize(path), "ir_version": m.ir_version,
                  "opset": [(o.domain, o.version) for o in m.opset_import]}


def write_manifest(path, seed):
    text = (
        f"id: {MODEL_ID}\n"
        f"version: \"{VERSION}\"\n"
        "file: activity-gru.onnx\n"
        "architecture: gru\n"
        "task: classify\n"
        f"input:  {{name: x, size: {FEATURES}}}\n"
        f"output: {{name: probs, size: {NCLS}}}\n"
        f"labels: [{', '.join(LABELS)}]\n"
        "state:\n"
        f"  - {{input: h, output: h_out, size: {HIDDEN}}}\n"
        f"  - {{input: x_prev, output: x_out, size: {FEATURES}}}\n"
        "preprocessing: {type: none}\n"
        f"encoder: {ENCODER_ID}\n"
        f"state_compat: \"activity-gru-h{HIDDEN}-d{FEATURES}-v2\"\n"
        f"training: {{script: train_activity.py, seed: {seed}}}\n"
    )
    with open(path, "w") as fh:
        fh.write(text)
    try:
        import yaml
        m = yaml.safe_load(text)
        assert m["labels"] == LABELS and m["state"][0]["size"] == HIDDEN and m["encoder"] == ENCODER_ID
        assert m["state"][1] == {"input": "x_prev", "output": "x_out", "size": FEATURES}
        assert m["preprocessing"] == {"type": "none"} and m["version"] == VERSION
    except ImportError:
        pass


def save_pngs(frames, folder):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        if f.startswith("frame-") and f.endswith(".png"):
            os.remove(os.path.join(folder, f))
    for i, fr in enumerate(frames):
        Image.fromarray(fr, mode="L").save(os.path.join(folder, f"frame-{i:05d}.png"), optimize=True)


def load_pngs(folder, n):
    from PIL import Image
    out = []
    for i in range(n):
        im = Image.open(os.path.join(folder, f"frame-{i:05d}.png"))
        assert im.mode == "L" and im.size == (SIZE, SIZE), (im.mode, im.size)
        out.append(np.array(im, dtype=np.uint8))
    return np.stack(out)


def clip_with_changes(seed, items, T, min_changes):
    for k in range(1000):
        rng = np.random.default_rng([seed, k])
        fr, lab, _ = gen_stream(rng, items, T)
        if int((lab[1:] != lab[:-1]).sum()) >= min_changes and len(set(lab.tolist())) >= 5:
            return fr, lab, k
    raise RuntimeError("no clip with enough label changes")


# =====================================================================================
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30, help="passes over the training streams (LR schedule length)")
    ap.add_argument("--minutes", type=float, default=14.0, help="wall-clock cap on the GRU training loop")
    ap.add_argument("--train-streams", type=int, default=N_TRAIN, help="training streams (a smoke test uses few)")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--samples", default=os.path.join(REPO, "ingest", "samples", "video"))
    args = ap.parse_args()
    globals()["N_TRAIN"] = args.train_streams   # main() reads it below; the default is the module's

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    enc, mean, std = load_encoder(os.path.join(args.out, "frame-encoder.pt"))
    ym, ys = read_yaml_mean_std(os.path.join(args.out, "frame-encoder.yaml"))
    assert (ym, ys) == (mean, std), ((ym, ys), (mean, std))
    for p in enc.parameters():
        p.requires_grad_(False)
    xtr, _ = load_fashion_mnist("train")
    xte, _ = load_fashion_mnist("test")

    # ---- data: train streams from TRAIN objects, held-out streams from TEST objects -------
    Xtr, Ytr = make_set(np.random.default_rng([args.seed, 11]), xtr, N_TRAIN, STREAM_T, enc, mean, std, "train")
    Xva, Yva = make_set(np.random.default_rng([args.seed, 22]), xte, N_VAL, STREAM_T, enc, mean, std, "held-out")
    t_data = time.time() - t0
    share = np.bincount(Ytr.ravel(), minlength=NCLS) / Ytr.size
    print("train label share: " + " ".join(f"{l}={s:.3f}" for l, s in zip(LABELS, share)), flush=True)

    # scored frames: not within SKIP_AFTER_CHANGE of a label change (or of the stream start)
    Mtr = np.stack([change_age(y) >= SKIP_AFTER_CHANGE for y in Ytr]).astype(np.float32)

    # ---- train: stateful truncated BPTT over consecutive chunks ---------------------------
    model = Activity()
    groups = N_TRAIN // BATCH
    steps_total = args.epochs * groups * (STREAM_T // CHUNK)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * min(s, steps_total) / steps_total))) / LR)
    brng = np.random.default_rng([args.seed, 33])
    t_train0 = time.time()
    deadline = t_train0 + args.minutes * 60
    step, history, stopped = 0, [], False
    for ep in range(args.epochs):
        model.train()
        perm = brng.permutation(N_TRAIN)
        tot = cnt = 0.0
        for g in range(groups):
            bi = perm[g * BATCH:(g + 1) * BATCH]
            xb = torch.from_numpy(Xtr[bi]).transpose(0, 1)            # [T,B,128]
            yb = torch.from_numpy(Ytr[bi]).transpose(0, 1)
            mb = torch.from_numpy(Mtr[bi]).transpose(0, 1)
            h = xp = None
            for c in range(0, STREAM_T, CHUNK):
                logits, h, xp = model(xb[c:c + CHUNK], h, xp)
                h, xp = h.detach(), xp.detach()
                ce = F.cross_entropy(logits.reshape(-1, NCLS), yb[c:c + CHUNK].reshape(-1), reduction="none")
                m = mb[c:c + CHUNK].reshape(-1)
                loss = (ce * m).sum() / m.sum().clamp(min=1)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                step += 1
                tot += float(loss)
                cnt += 1
            if time.time() > deadline:
                stopped = True
                break
        el = time.time() - t_train0
        entry = {"epoch": ep + 1, "step": step, "loss": round(tot / max(cnt, 1), 4), "seconds": round(el, 1)}
        if (ep + 1) % 5 == 0 or stopped or ep + 1 == args.epochs:
            ev = evaluate(model, Xva, Yva)
            entry["heldout_acc_ge4"] = round(ev["acc_ge4_after_change"], 4)
        print(f"epoch {ep + 1}/{args.epochs} {entry}", flush=True)
        history.append(entry)
        if stopped:
            break
    train_seconds = time.time() - t_train0
    print(f"trained {step}/{steps_total} steps in {train_seconds:.0f}s", flush=True)

    # ---- held-out evaluation ----------------------------------------------------------
    model.eval()
    ev = evaluate(model, Xva, Yva)
    ev_shuf = evaluate(model, Xva, Yva, shuffle_seed=args.seed + 99)
    print(f"held-out: acc(>=4 after change)={ev['acc_ge4_after_change']:.4f} all={ev['acc_all_frames']:.4f} "
          f"n={ev['frames_scored']}", flush=True)
    print("confusion (rows true, cols predicted; " + ",".join(LABELS) + "):", flush=True)
    for l, row in zip(LABELS, ev["confusion"]):
        print(f"  {l:>13} {row}", flush=True)
    print(f"shuffled frames: acc(>=4)={ev_shuf['acc_ge4_after_change']:.4f} all={ev_shuf['acc_all_frames']:.4f}",
          flush=True)

    # ---- export, checks -----------------------------------------------------------------
    os.makedirs(os.path.join(args.out, "golden"), exist_ok=True)
    onnx_path = os.path.join(args.out, "activity-gru.onnx")
    step_mod, onnx_info = export_onnx(model, onnx_path)
    write_manifest(os.path.join(args.out, "activity-gru.yaml"), args.seed)

    # golden clip: held-out TEST objects, its own seed; PNGs written, read back, encoded
    frames, lab, clip_k = clip_with_changes(args.seed + 500, xte, 120, 4)
    clip_dir = os.path.join(args.out, "clip")
    save_pngs(frames, clip_dir)
    dec = load_pngs(clip_dir, len(frames))
    assert np.array_equal(dec, frames), "PNG round trip is not lossless"
    checks = {}
    with torch.no_grad():
        feats = enc(normalise(dec, mean, std))                        # [T,128]
        logits = model(feats[:, None, :])[0]                           # one call, zero state
        probs = torch.softmax(logits[:, 0], -1)                        # [T,7]
        h, xp = torch.zeros(1, HIDDEN), torch.zeros(1, FEATURES)
        ps = []
        for t in range(len(frames)):
            p, h, xp = step_mod(feats[t:t + 1], h, xp)
            ps.append(p)
        d_step = float((torch.cat(ps) - probs).abs().max())
        g = torch.Generator().manual_seed(args.seed + 7)
        xb = torch.randn(200, 5, FEATURES, generator=g)
        pb = torch.softmax(model(xb)[0], -1)
        h, xp = torch.zeros(5, HIDDEN), torch.zeros(5, FEATURES)
        ps = []
        for t in range(200):
            p, h, xp = step_mod(xb[t], h, xp)
            ps.append(p)
        d_batch = float((torch.stack(ps) - pb).abs().max())
    checks["step_vs_full_max_abs_diff_clip"] = d_step
    checks["step_vs_full_max_abs_diff_random_B5_T200"] = d_batch
    assert d_step <= 1e-6 and d_batch <= 1e-6, checks
    # the .onnx file itself (numpy interpreter, float64), stepped over the clip with h fed back
    hn, xpn = np.zeros((1, HIDDEN)), np.zeros((1, FEATURES))
    po = []
    for t in range(len(frames)):
        p, hn, xpn = run_onnx_numpy(onnx_path, {"x": feats[t:t + 1].numpy(), "h": hn, "x_prev": xpn})
        po.append(p[0])
    checks["onnx_numpy_stepped_vs_torch_full_sequence_clip_max_abs_diff"] = float(np.abs(np.array(po) - probs.numpy()).max())
    # the encoder .onnx on the clip's first 8 frames
    fo = run_onnx_numpy(os.path.join(args.out, "frame-encoder.onnx"), {"image": normalise(dec[:8], mean, std).numpy()})[0]
    checks["encoder_onnx_numpy_vs_torch_clip8_max_abs_diff"] = float(np.abs(fo - feats[:8].numpy()).max())
    clip_acc = float((probs.argmax(-1).numpy() == lab).mean())
    checks["clip_argmax_acc_all_frames"] = clip_acc
    print(f"checks: {checks}", flush=True)
    assert checks["onnx_numpy_stepped_vs_torch_full_sequence_clip_max_abs_diff"] <= 1e-5, checks
    assert checks["encoder_onnx_numpy_vs_torch_clip8_max_abs_diff"] <= 1e-5, checks
    golden = {
        "model_id": MODEL_ID, "version": VERSION, "encoder_id": ENCODER_ID,
        "clip_dir": "clip", "frame_pattern": "frame-%05d.png", "png_mode": "L (8-bit grayscale)",
        "mean": mean, "std": std, "label_names": LABELS,
        "frames": int(len(frames)), "width": SIZE, "height": SIZE,
        "labels": [LABELS[i] for i in lab],
        "features": tolist2(feats.numpy()),
        "probs": tolist2(probs.numpy()),
    }
    with open(os.path.join(args.out, "golden", "activity-clip.json"), "w") as fh:
        json.dump(golden, fh)
        fh.write("\n")

    # ---- demo clips (ingest/samples/video/<camera>/), TEST objects, own seeds ---------------
    demo = {}
    for cam, sd in (("cam-a", 7001), ("cam-b", 7002)):
        fr, lb, k = clip_with_changes(sd, xte, 150, 4)
        d = os.path.join(args.samples, cam)
        save_pngs(fr, d)
        with open(os.path.join(d, "labels.csv"), "w") as fh:
            fh.write("frame,label\n")
            for i, l in enumerate(lb):
                fh.write(f"{i},{LABELS[l]}\n")
        with torch.no_grad():
            pr = model(enc(normalise(load_pngs(d, len(fr)), mean, std))[:, None, :])[0][:, 0].argmax(-1).numpy()
        demo[cam] = {"frames": len(fr), "seed": [sd, k], "label_changes": int((lb[1:] != lb[:-1]).sum()),
                     "argmax_acc_all_frames": round(float((pr == lb).mean()), 4)}
    print(f"demo clips: {demo}", flush=True)

    report = {
        "model_id": MODEL_ID, "version": VERSION, "encoder": ENCODER_ID,
        "command": " ".join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:]),
        "seed": args.seed, "torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
        "data": {"train_streams": N_TRAIN, "heldout_streams": N_VAL, "frames_per_stream": STREAM_T,
                 "train_objects": "fashion-mnist train split", "heldout_objects": "fashion-mnist test split",
                 "train_rng": [args.seed, 11], "heldout_rng": [args.seed, 22],
                 "train_label_share": {l: round(float(s), 4) for l, s in zip(LABELS, share)},
                 "segment": [SEG_LO, SEG_HI], "speed": [SPEED_LO, SPEED_HI], "radius": [RAD_LO, RAD_HI],
                 "scale": [SCALE_LO, SCALE_HI], "p_new_object": P_NEW_OBJECT},
        "hyper": {"hidden": HIDDEN, "chunk": CHUNK, "batch": BATCH, "lr": LR, "lr_min": LR_MIN,
                  "epochs_planned": args.epochs, "steps_planned": steps_total, "steps_done": step,
                  "stopped_by_time_cap": stopped, "skip_after_change": SKIP_AFTER_CHANGE, "grad_clip": 1.0},
        "data_seconds": round(t_data, 1), "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t0, 1),
        "heldout": ev, "heldout_shuffled_frames": ev_shuf, "history": history,
        "golden_clip": {"seed": [args.seed + 500, clip_k], "frames": len(frames),
                        "label_changes": int((lab[1:] != lab[:-1]).sum())},
        "demo_clips": demo, "onnx": onnx_info, "checks": checks,
    }
    with open(os.path.join(args.out, "train-report-activity.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Train, export and document Engram's per-camera video feature forecaster (video-feature-forecaster).

    /usr/bin/python3 models/video-anomaly/train_feature_forecaster.py --seed 42 --threads 1 \
        [--minutes M] [--epochs E] [--train-streams N] [--out DIR]

  --seed     base seed of everything random (data, weights, batches, eval clips); 42 for the release
  --threads  torch threads (1 for the release: the machine is shared)
  --minutes  wall-clock cap on the training loop (default 9; a safety net, the release run ends first)
  --epochs   passes over the training streams (the LR schedule's length; default 18)
  --train-streams  number of training streams (default 256; a smoke test uses a few)
  --out      output folder (default: this script's folder)

Needs models/activity/common.py, frame-encoder.pt and frame-encoder.yaml (the FROZEN encoder
frame-encoder-cnn), numpy, torch and onnx; no onnxruntime, no PIL, no network. End to end:

1. Generates synthetic "normal motion" video streams, 64x64 uint8 gray like a camera: ONE
   Fashion-MNIST item (scale 0.7..1.05) on a black canvas moves with a motion that changes every
   40..250 frames among: constant-velocity lines (0.7..2.0 px/frame) that bounce specularly off the
   canvas borders, circles (radius 6..14 px, 0.7..1.8 px/frame), slow drift (0.1..0.4 px/frame, a
   slight curve) and still periods. Every change of speed, turn rate or heading is smooth
   (a smoothstep over 12..30 frames); only a bounce at a border changes the direction at once.
   Camera as in models/activity/train_activity.py's gen_stream: sub-pixel jitter (0.12 px),
   per-stream contrast/brightness with slow drift, per-frame flicker (1.5%), Gaussian noise,
   rounding to uint8. Training streams use Fashion-MNIST TRAIN items (RNG [seed, 11]), held-out
   streams TEST items (RNG [seed, 22]).
2. Encodes every frame with the frozen encoder (PyTorch, eval mode; x = (v/255 - mean)/std from
   frame-encoder.yaml) -> 128 raw features per frame.
3. Trains nn.GRU(128 -> 64) and a linear head over [h_t, x_t] to predict the NEXT frame's raw
   features: y_t = x_t + D * (head(GRU(xn_t)) + skip(xn_t)), xn_t = (x_t - mu) / sd; MSE on raw
   features; Adam, cosine LR 3e-3 -> 1e-4, batches of 16 streams, truncated BPTT over consecutive
   50-frame chunks of 1000-frame streams with the state carried over (detached).
   mu, sd (per-channel input statistics) and D (per-channel std of the frame-to-frame change)
   come from the training data and are folded into the weights at export.
4. Held-out evaluation against the persistence forecast (next = current) and linear extrapolation,
   and a diagnostic of the frozen encoder (how smooth its features are in the item's position).
5. Exports the step model x[B,128], h[B,64] -> y[B,128], h_out[B,64] (opset 17, dynamic batch, one
   GRU node), checks it (PyTorch step vs full sequence; the .onnx through common.run_onnx_numpy vs
   PyTorch), writes feature-gru.onnx, feature-gru.yaml, golden/feature-gru.json, the evaluation
   clips eval/*.f32 + eval/clips.json, eval/freeze-png/frame-%05d.png and train-report.json.
"""
import argparse
import json
import math
import os
import struct
import sys
import time
import zlib
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ACTIVITY = os.path.join(HERE, "..", "activity")
sys.path.insert(0, os.path.abspath(ACTIVITY))
from common import (SIZE, FEATURES, OPSET, ENCODER_ID, load_encoder, read_yaml_mean_std,  # noqa: E402
                    load_fashion_mnist, place, normalise, run_onnx_numpy, io_dims, tolist2)

MODEL_ID = "video-feature-forecaster"
VERSION = "1.0.0"
HIDDEN = 64
STATE_COMPAT = "feature-gru-h64-d128-v1"

# ---- stream generator ---------------------------------------------------------------
MODES = ["line", "circle", "drift", "still"]
MODE_P = [0.35, 0.25, 0.2, 0.2]
SEG_LO, SEG_HI = 40, 250          # frames per motion segment (inclusive)
TRANS_LO, TRANS_HI = 12, 30       # frames of a smooth transition between motions
LINE_SPEED = (0.7, 2.0)           # px / frame
CIRCLE_SPEED = (0.7, 1.8)
CIRCLE_R = (6.0, 14.0)            # px
DRIFT_SPEED = (0.1, 0.4)
DRIFT_TURN = 0.02                 # rad / frame, at most
MAX_TURN = math.pi / 2            # heading change spread over a transition, at most
SCALE_LO, SCALE_HI = 0.7, 1.05    # item size = 28 * scale px
MARGIN = 0.7                      # centre stays >= MARGIN * half-size from the border (bounce there)
JITTER = 0.12                     # camera jitter, px (sigma)
# ---- training -------------------------------------------------------------------------
N_TRAIN, N_VAL, STREAM_T = 256, 24, 1000
CHUNK = 50
BATCH = 16
LR, LR_MIN = 3e-3, 1e-4
SKIP_LOSS = 5                     # first frames of a stream not in the loss (no motion seen yet)
SKIP_EVAL = 20                    # first frames of a stream not in the evaluation (scorer start-up)
# ---- evaluation clips -----------------------------------------------------------------
CLIP_T = 300
EVENT_LO, EVENT_HI = 200, 260
CLIP_SPECS = [  # name, kind, base seed (own seeds, TEST items)
    ("normal-1", "normal", 9101), ("normal-2", "normal", 9201), ("normal-3", "normal", 9301),
    ("appear", "appear", 9401), ("freeze", "freeze", 9501), ("reverse", "reverse", 9601),
    ("teleport", "teleport", 9701)]


def smoothstep(u):
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


# =====================================================================================
# Motion
# =====================================================================================
def simulate(rng, T, scale, event=None):
    """Trajectory of one item's centre: returns (pos [T,2], info) with per-frame arrays.

    Frame t shows pos[t]; the move from t-1 to t uses the speed/heading/turn of step t.
    event: None or (kind, frame e): 'freeze' stops the item dead from frame e on (pos[e] = pos[e-1],
    for the rest of the stream); 'reverse' turns the heading by 180 degrees at once (and mirrors the
    turn) for the move into frame e; 'teleport' puts the item at another place at frame e (motion goes
    on from there). 'appear' does not touch the trajectory (the second item is drawn by render).
    Before frame e the trajectory is identical to the one without event (same RNG draws)."""
    half = 14.0 * scale
    lo, hi = MARGIN * half, SIZE - MARGIN * half
    pos = rng.uniform(lo + 4, hi - 4, 2)
    th = float(rng.uniform(0, 2 * math.pi))
    s = w = 0.0
    out = np.zeros((T, 2))
    info = {k: np.zeros(T) for k in ("speed", "turn", "trans", "bounce", "wall", "mode")}
    info["lo"], info["hi"] = lo, hi
    frozen = False
    tr, kk = None, 0
    seg_left = 0
    first = True
    mode = 3
    for t in range(T):
        if t > 0:
            if event is not None and t == event[1]:
                if event[0] == "freeze":
                    frozen = True
                elif event[0] == "reverse":
                    th += math.pi
                    w = -w
                    tr = tr._replace(w0=-tr.w0, w1=-tr.w1, dth=-tr.dth) if tr is not None else None
                elif event[0] == "teleport":
                    for _ in range(1000):
                        q = rng.uniform(lo + 6, hi - 6, 2)
                        if np.hypot(*(q - pos)) >= 22.0:
                            break
                    pos = q
            if frozen:
                s = w = 0.0
            else:
                # new segment?
                if seg_left <= 0:
                    mode, tr = new_segment(rng, pos, th, s, w, lo, hi, first)
                    first = False
                    if tr.k == 0:        # stream start: the motion is already on
                        s, w = tr.s1, tr.w1
                        th = tr.th_set if tr.th_set is not None else th
                    elif tr.th_set is not None:
                        th = tr.th_set
                    seg_left = tr.length
                    kk = 0
                if tr is not None and kk < tr.k:
                    u0, u1 = smoothstep(kk / tr.k), smoothstep((kk + 1) / tr.k)
                    s = tr.s0 + (tr.s1 - tr.s0) * u1
                    w = tr.w0 + (tr.w1 - tr.w0) * u1 + tr.dth * (u1 - u0)
                    info["trans"][t] = 1
                else:
                    s, w = tr.s1, tr.w1
                kk += 1
                seg_left -= 1
                th += w
                pos = pos + s * np.array([math.cos(th), math.sin(th)])
                # specular bounce off the borders (mirror the position, the heading and the turn)
                b = False
                for ax in (0, 1):
                    if pos[ax] < lo or pos[ax] > hi:
                        edge = lo if pos[ax] < lo else hi
                        pos[ax] = 2 * edge - pos[ax]
                        th = (math.pi - th) if ax == 0 else -th
                        w = -w
                        tr = tr._replace(w0=-tr.w0, w1=-tr.w1, dth=-tr.dth)
                        b = True
                info["bounce"][t] = b
        else:
            if event is not None and event[1] == 0:
                raise ValueError("event at frame 0")
        out[t] = pos
        info["speed"][t] = s
        info["turn"][t] = w
        info["mode"][t] = 4 if frozen else mode
        info["wall"][t] = min(pos[0] - lo, hi - pos[0], pos[1] - lo, hi - pos[1])
    return out, info


# A segment: a transition from (s0, w0) to (s1, w1) over k frames, plus a heading change dth spread
# over the transition; th_set: a new heading set at once (only when the item is at rest).
_Tr = namedtuple("_Tr", ["length", "k", "s0", "s1", "w0", "w1", "dth", "th_set"])


def new_segment(rng, pos, th, s, w, lo, hi, first):
    """Draws the next motion. Returns (mode index, _Tr)."""
    L = int(rng.integers(SEG_LO, SEG_HI + 1))
    K = 0 if first else int(rng.integers(TRANS_LO, TRANS_HI + 1))
    mode = int(rng.choice(4, p=MODE_P))
    th_set = None
    if s < 0.05:                   # (nearly) at rest: a new heading costs nothing
        th_set = float(rng.uniform(0, 2 * math.pi))
        th = th_set
    dth = 0.0 if (first or th_set is not None) else float(rng.uniform(-MAX_TURN, MAX_TURN))
    if mode == 1:                  # circle: pick radius and sense so that it fits the canvas
        sp = float(rng.uniform(*CIRCLE_SPEED))
        fit = None
        for r in (float(rng.uniform(*CIRCLE_R)), CIRCLE_R[0]):
            for sg in rng.permutation([-1.0, 1.0]):
                h2 = th + dth
                c = pos + sg * r * np.array([-math.sin(h2), math.cos(h2)])
                if lo <= c[0] - r and c[0] + r <= hi and lo <= c[1] - r and c[1] + r <= hi:
                    fit = (r, sg)
                    break
            if fit:
                break
        if fit is None:
            mode = 0
        else:
            return 1, _Tr(length=L, k=K, s0=s, s1=sp, w0=w, w1=fit[1] * sp / fit[0], dth=dth, th_set=th_set)
    if mode == 0:
        return 0, _Tr(length=L, k=K, s0=s, s1=float(rng.uniform(*LINE_SPEED)), w0=w, w1=0.0, dth=dth, th_set=th_set)
    if mode == 2:
        return 2, _Tr(length=L, k=K, s0=s, s1=float(rng.uniform(*DRIFT_SPEED)), w0=w,
                      w1=float(rng.uniform(-DRIFT_TURN, DRIFT_TURN)), dth=dth, th_set=th_set)
    return 3, _Tr(length=L, k=K, s0=s, s1=0.0, w0=w, w1=0.0, dth=0.0, th_set=th_set)


def camera(rng, T):
    """The camera of train_activity.gen_stream: jitter, contrast/brightness drift, flicker, noise."""
    jx, jy = rng.normal(0, JITTER, T), rng.normal(0, JITTER, T)
    t = np.arange(T)
    contrast = rng.uniform(0.7, 1.15) * (1 + 0.08 * np.sin(2 * np.pi * t / rng.uniform(80, 400) + rng.uniform(0, 6.3)))
    contrast = contrast * (1 + rng.normal(0, 0.015, T))
    bright = rng.uniform(0.0, 0.06) + 0.02 * np.sin(2 * np.pi * t / rng.uniform(80, 400) + rng.uniform(0, 6.3))
    sigma = rng.uniform(0.004, 0.02)
    return jx, jy, contrast, bright, sigma


def render(item, scale, pos, cam_rng, second=None):
    """uint8 frames [T,64,64] of one item at pos [T,2] through the camera; second = (item, scale,
    (x, y), first frame): a static second item drawn (max) from that frame on."""
    T = len(pos)
    jx, jy, contrast, bright, sigma = camera(cam_rng, T)
    it = torch.from_numpy(np.repeat(item[None], T, 0)).float() / 255.0
    canvas = place(it, pos[:, 0] + jx, pos[:, 1] + jy, np.full(T, scale)).numpy()
    if second is not None:
        item2, s2, (x2, y2), e = second
        n = T - e
        it2 = torch.from_numpy(np.repeat(item2[None], n, 0)).float() / 255.0
        c2 = place(it2, x2 + jx[e:], y2 + jy[e:], np.full(n, s2)).numpy()
        canvas[e:] = np.maximum(canvas[e:], c2)
    noise = cam_rng.standard_normal(canvas.shape, dtype=np.float32)
    v = (canvas * contrast[:, None, None].astype(np.float32) + bright[:, None, None].astype(np.float32)
         + np.float32(sigma) * noise)
    return np.rint(np.clip(v, 0, 1) * np.float32(255.0)).astype(np.uint8)


def gen_stream(rng, items, T):
    """One normal-motion training/held-out stream: (frames uint8 [T,64,64], info)."""
    k = int(rng.integers(len(items)))
    scale = float(rng.uniform(SCALE_LO, SCALE_HI))
    pos, info = simulate(rng, T, scale)
    return render(items[k], scale, pos, rng), info


@torch.no_grad()
def encode(enc, frames_u8, mean, std):
    out = []
    for i in range(0, len(frames_u8), 500):
        out.append(enc(normalise(frames_u8[i:i + 500], mean, std)))
    return torch.cat(out).numpy()


def make_set(rng, items, n, T, enc, mean, std, label):
    t0 = time.time()
    X = np.zeros((n, T, FEATURES), dtype=np.float32)
    M = np.zeros((n, T), dtype=np.int8)
    for i in range(n):
        fr, info = gen_stream(rng, items, T)
        X[i] = encode(enc, fr, mean, std)
        M[i] = np.where(info["trans"] > 0, 5, info["mode"]).astype(np.int8)
    print(f"{label}: {n} streams x {T} frames, {time.time() - t0:.0f}s", flush=True)
    return X, M


# =====================================================================================
# Model
# =====================================================================================
class Forecaster(nn.Module):
    """y_t = x_t + D * (head(GRU(xn_t)) + skip(xn_t)), xn_t = (x_t - mu) / sd: the next frame's raw features.

    head: Linear(64 -> 128) on the GRU's output; skip: Linear(128 -> 128, no bias) on the current
    (normalised) features. Together they are one linear head over [h_t, x_t]; the skip path lets the
    head shrink the current frame's noise in all 128 channels, which 64 hidden units cannot carry."""

    def __init__(self, mu, sd, dsc):
        super().__init__()
        self.rnn = nn.GRU(input_size=FEATURES, hidden_size=HIDDEN, num_layers=1)
        self.head = nn.Linear(HIDDEN, FEATURES)
        self.skip = nn.Linear(FEATURES, FEATURES, bias=False)
        for w in (self.head.weight, self.head.bias, self.skip.weight):
            nn.init.zeros_(w)                   # starts as the persistence forecast
        self.register_buffer("mu", torch.as_tensor(mu, dtype=torch.float32))
        self.register_buffer("sd", torch.as_tensor(sd, dtype=torch.float32))
        self.register_buffer("dsc", torch.as_tensor(dsc, dtype=torch.float32))

    def forward(self, x, h=None):               # x [T,B,128] -> y [T,B,128], h_n [1,B,64]
        xn = (x - self.mu) / self.sd
        out, hn = self.rnn(xn, h)
        return x + self.dsc * (self.head(out) + self.skip(xn)), hn


class Plain(nn.Module):
    """The exported network, the normalisation folded into the weights: y = x + head(GRU(x)) + skip(x)."""

    def __init__(self, m):
        super().__init__()
        self.rnn = nn.GRU(input_size=FEATURES, hidden_size=HIDDEN, num_layers=1)
        self.head = nn.Linear(HIDDEN, FEATURES)
        self.skip = nn.Linear(FEATURES, FEATURES)
        with torch.no_grad():
            inv = 1.0 / m.sd.double()
            mu = m.mu.double()
            dsc = m.dsc.double()
            w = m.rnn.weight_ih_l0.double()
            self.rnn.weight_ih_l0.copy_((w * inv[None, :]).float())
            self.rnn.bias_ih_l0.copy_((m.rnn.bias_ih_l0.double() - w @ (mu * inv)).float())
            self.rnn.weight_hh_l0.copy_(m.rnn.weight_hh_l0)
            self.rnn.bias_hh_l0.copy_(m.rnn.bias_hh_l0)
            self.head.weight.copy_((m.head.weight.double() * dsc[:, None]).float())
            self.head.bias.copy_((m.head.bias.double() * dsc).float())
            a = m.skip.weight.double() * dsc[:, None] * inv[None, :]
            self.skip.weight.copy_(a.float())
            self.skip.bias.copy_((-(a @ mu)).float())

    def forward(self, x, h=None):
        out, hn = self.rnn(x, h)
        return x + self.head(out) + self.skip(x), hn


class Step(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.rnn = p.rnn
        self.head = p.head
        self.skip = p.skip

    def forward(self, x, h):                    # x [B,128], h [B,64]
        out, hn = self.rnn(x.unsqueeze(0), h.unsqueeze(0))
        return x + self.head(out[0]) + self.skip(x), hn[0]


@torch.no_grad()
def predict(model, X):
    """X [N,T,128] -> forecasts [N,T,128] (y[:, t] is the forecast of frame t+1), zero start state."""
    return model(torch.from_numpy(X).transpose(0, 1))[0].transpose(0, 1).numpy()


def frame_errors(X, Y):
    """Per-frame errors of a forecaster for frames 1..T-1: err[:, t] compares Y[:, t-1] with X[:, t].
    Returns (mae [N,T-1], mse [N,T-1]) where column j is frame j+1."""
    d = Y[:, :-1].astype(np.float64) - X[:, 1:].astype(np.float64)
    return np.abs(d).mean(-1), (d * d).mean(-1)


MODE_NAMES = ["line", "circle", "drift", "still", "frozen", "transition"]


@torch.no_grad()
def evaluate(model, X, M):
    model.eval()
    fc = {"model": predict(model, X), "persistence": X,
          "linear_extrapolation": np.concatenate([X[:, :1], 2 * X[:, 1:] - X[:, :-1]], 1)}
    out = {"frames_scored": int(X.shape[0] * (X.shape[1] - SKIP_EVAL)), "skip_first_frames": SKIP_EVAL}
    sl = slice(SKIP_EVAL - 1, None)          # frames >= SKIP_EVAL
    mode = M[:, 1:][:, sl]
    for k, Y in fc.items():
        mae, mse = frame_errors(X, Y)
        mae, mse = mae[:, sl], mse[:, sl]
        out[k] = {"mse": float(mse.mean()), "mae": float(mae.mean()), "mae_median_frame": float(np.median(mae)),
                  "mae_p99_frame": float(np.quantile(mae, 0.99)), "mae_max_frame": float(mae.max()),
                  "mae_by_motion": {MODE_NAMES[i]: round(float(mae[mode == i].mean()), 5)
                                    for i in range(6) if (mode == i).any()}}
    out["motion_share"] = {MODE_NAMES[i]: round(float((mode == i).mean()), 4) for i in range(6) if (mode == i).any()}
    p, m = out["persistence"], out["model"]
    out["model_vs_persistence"] = {"mse_ratio": m["mse"] / p["mse"], "mae_ratio": m["mae"] / p["mae"],
                                   "mse_reduction_pct": 100 * (1 - m["mse"] / p["mse"]),
                                   "mae_reduction_pct": 100 * (1 - m["mae"] / p["mae"])}
    return out


# =====================================================================================
# Export and checks
# =====================================================================================
def export_onnx(step, path):
    import onnx
    ins, outs = ["x", "h"], ["y", "h_out"]
    torch.onnx.export(step, (torch.zeros(2, FEATURES), torch.zeros(2, HIDDEN)), path, opset_version=OPSET,
                      input_names=ins, output_names=outs, dynamic_axes={n: {0: "batch"} for n in ins + outs},
                      do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [nd.op_type for nd in m.graph.node]
    assert ops.count("GRU") == 1, ops
    assert sum(op in ("GRU", "LSTM", "RNN", "Loop", "Scan") for op in ops) == 1, ops
    io = io_dims(m)
    for n, size in {"x": FEATURES, "h": HIDDEN, "y": FEATURES, "h_out": HIDDEN}.items():
        assert io.get(n) == ["batch", size], (n, io.get(n))
    for vi in list(m.graph.input) + list(m.graph.output):
        assert vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [vi.name for vi in m.graph.input] == ins and [vi.name for vi in m.graph.output] == outs
    return {"ops": ops, "io": io, "bytes": os.path.getsize(path), "ir_version": m.ir_version,
            "opset": [(o.domain, o.version) for o in m.opset_import]}


def write_manifest(path, seed):
    text = (
        f"id: {MODEL_ID}\n"
        f"version: \"{VERSION}\"\n"
        "file: feature-gru.onnx\n"
        "architecture: gru\n"
        "task: forecast\n"
        f"input:  {{name: x, size: {FEATURES}}}\n"
        f"output: {{name: y, size: {FEATURES}}}\n"
        "state:\n"
        f"  - {{input: h, output: h_out, size: {HIDDEN}}}\n"
        "preprocessing: {type: none}\n"
        f"encoder: {ENCODER_ID}\n"
        f"state_compat: \"{STATE_COMPAT}\"\n"
        f"training: {{script: train_feature_forecaster.py, seed: {seed}}}\n"
    )
    with open(path, "w") as fh:
        fh.write(text)
    try:
        import yaml
        m = yaml.safe_load(text)
        assert m["id"] == MODEL_ID and m["version"] == VERSION and m["task"] == "forecast"
        assert m["input"] == {"name": "x", "size": FEATURES} and m["output"] == {"name": "y", "size": FEATURES}
        assert m["state"] == [{"input": "h", "output": "h_out", "size": HIDDEN}]
        assert m["preprocessing"] == {"type": "none"} and m["encoder"] == ENCODER_ID
        assert m["state_compat"] == STATE_COMPAT and m["training"]["seed"] == seed
    except ImportError:
        pass
    return text


# =====================================================================================
# PNG (8-bit gray), dependency-free: zlib + the five standard row filters
# =====================================================================================
def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def write_png(path, img):
    img = np.asarray(img, dtype=np.uint8)
    H, W = img.shape
    raw = bytearray()
    prev = np.zeros(W, dtype=np.int32)
    for y in range(H):
        row = img[y].astype(np.int32)
        left = np.concatenate([[0], row[:-1]])
        upleft = np.concatenate([[0], prev[:-1]])
        cands = [row, row - left, row - prev, row - (left + prev) // 2, row - _paeth(left, prev, upleft)]
        cands = [(c % 256).astype(np.uint8) for c in cands]
        f = int(np.argmin([np.abs(c.astype(np.int8).astype(np.int32)).sum() for c in cands]))
        raw.append(f)
        raw += cands[f].tobytes()
        prev = row

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as fh:
        fh.write(png)


def read_png(path):
    """Reads an 8-bit gray, non-interlaced PNG (what write_png writes) back to uint8 [H,W]."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat, W, H = 8, b"", None, None
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        tag, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if tag == b"IHDR":
            W, H, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 0 and inter == 0
        elif tag == b"IDAT":
            idat += body
        i += 12 + n
    raw = zlib.decompress(idat)
    out = np.zeros((H, W), dtype=np.int32)
    prev = np.zeros(W, dtype=np.int32)
    for y in range(H):
        f = raw[y * (W + 1)]
        r = np.frombuffer(raw, dtype=np.uint8, count=W, offset=y * (W + 1) + 1).astype(np.int32)
        if f == 0:
            cur = r
        elif f == 1:
            cur = np.cumsum(r) % 256
        elif f == 2:
            cur = (r + prev) % 256
        else:
            cur = np.zeros(W, dtype=np.int32)
            for x in range(W):
                a = int(cur[x - 1]) if x else 0
                c = int(prev[x - 1]) if x else 0
                b = int(prev[x])
                pred = (a + b) // 2 if f == 3 else int(_paeth(np.int32(a), np.int32(b), np.int32(c)))
                cur[x] = (r[x] + pred) % 256
        out[y] = cur
        prev = cur
    return out.astype(np.uint8)


def save_pngs(frames, folder):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        if f.startswith("frame-") and f.endswith(".png"):
            os.remove(os.path.join(folder, f))
    for i, fr in enumerate(frames):
        write_png(os.path.join(folder, f"frame-{i:05d}.png"), fr)


# =====================================================================================
# Evaluation clips
# =====================================================================================
def event_ok(kind, info, e):
    """Is frame e a good start for an event of this kind in this (normal) trajectory?"""
    win = slice(e - 15, e + 1)
    steady = not info["trans"][win].any() and not info["bounce"][win].any()
    if kind == "appear":
        return True
    if kind == "teleport":
        return steady and info["speed"][e - 1] >= 0.7
    if kind == "freeze":
        return (steady and info["speed"][e - 1] >= 1.2 and info["mode"][e - 1] in (0, 1)
                and info["wall"][e - 1] >= 8.0)
    if kind == "reverse":
        return (steady and info["speed"][e - 1] >= 1.2 and info["mode"][e - 1] == 0
                and info["wall"][e - 16:e].min() >= 10.0)
    raise ValueError(kind)


def make_clip(kind, base_seed, items):
    """(frames uint8 [T,64,64], event_start or None, event_end or None, seed, details)."""
    for k in range(1000):
        seed = base_seed + k
        r_obj = np.random.default_rng([seed, 2])
        item_k = int(r_obj.integers(len(items)))
        scale = float(r_obj.uniform(SCALE_LO, SCALE_HI))
        pos, info = simulate(np.random.default_rng([seed, 0]), CLIP_T, scale)
        details = {"item": item_k, "scale": round(scale, 4)}
        if kind == "normal":
            moving = (info["speed"] > 0.5).mean()
            if moving < 0.4 or len(set(info["mode"].astype(int).tolist())) < 2:
                continue
            frames = render(items[item_k], scale, pos, np.random.default_rng([seed, 1]))
            details["modes"] = sorted({MODE_NAMES[int(m)] for m in info["mode"]})
            return frames, None, None, seed, details
        e0 = int(np.random.default_rng([seed, 3]).integers(EVENT_LO, EVENT_HI - 20))
        e = next((e for e in range(e0, EVENT_HI + 1) if event_ok(kind, info, e)), None)
        if e is None:
            continue
        second = None
        if kind == "appear":
            k2 = int(r_obj.integers(len(items)))
            s2 = float(r_obj.uniform(SCALE_LO, SCALE_HI))
            spot = None
            for _ in range(200):
                q = r_obj.uniform(20, SIZE - 20, 2)
                if np.hypot(*(q - pos[e])) >= 20.0:
                    spot = q
                    break
            if spot is None:
                continue
            second = (items[k2], s2, (float(spot[0]), float(spot[1])), e)
            details.update({"second_item": k2, "second_scale": round(s2, 4),
                            "second_at": [round(float(spot[0]), 2), round(float(spot[1]), 2)]})
        else:
            pos2, info2 = simulate(np.random.default_rng([seed, 0]), CLIP_T, scale, event=(kind, e))
            assert np.array_equal(pos2[:e], pos[:e])
            if kind == "teleport":
                details["jump_px"] = round(float(np.hypot(*(pos2[e] - pos2[e - 1]))), 2)
            pos = pos2
        details["speed_before"] = round(float(info["speed"][e - 1]), 3)
        details["motion_before"] = MODE_NAMES[int(info["mode"][e - 1])]
        frames = render(items[item_k], scale, pos, np.random.default_rng([seed, 1]), second)
        end = CLIP_T - 1 if kind in ("appear", "freeze") else e
        return frames, e, end, seed, details
    raise RuntimeError(f"no clip for {kind}")


def clip_figures(x, y, e):
    """Per-frame MAE of the model (forecast y[t-1] vs x[t]) and of persistence; frame-indexed arrays."""
    T = len(x)
    em = np.full(T, np.nan)
    ep = np.full(T, np.nan)
    em[1:] = np.abs(y[:-1].astype(np.float64) - x[1:]).mean(-1)
    ep[1:] = np.abs(x[:-1].astype(np.float64) - x[1:]).mean(-1)
    out = {}
    for name, err in (("model", em), ("persistence", ep)):
        if e is None:
            pre = err[SKIP_EVAL:]
            out[name] = {"median": float(np.median(pre)), "max": float(pre.max()),
                         "p99": float(np.quantile(pre, 0.99))}
        else:
            pre = err[SKIP_EVAL:e]
            ev = err[e:e + 6]
            out[name] = {"median_before_event": float(np.median(pre)), "max_before_event": float(pre.max()),
                         "max_event_to_event_plus_5": float(ev.max()),
                         "argmax_event_window": int(e + np.argmax(ev)),
                         "event_max_over_median_before": float(ev.max() / np.median(pre)),
                         "event_max_over_max_before": float(ev.max() / pre.max())}
    return out, em, ep


# =====================================================================================
# Diagnostic: how smooth are the frozen encoder's features in the item's position?
# =====================================================================================
@torch.no_grad()
def encoder_smoothness(enc, mean, std, items, seed):
    """Noise-free straight moves (no camera at all, float frames): per-frame MAE of persistence
    (x_t) and of linear extrapolation (2 x_t - x_{t-1}) as forecasts of x_{t+1}, per speed; and the
    camera-only floor (a still item through the camera: persistence MAE). If the features were smooth
    in the position, linear extrapolation would beat persistence on these moves."""
    rng = np.random.default_rng([seed, 44])
    ks = rng.integers(len(items), size=16)
    out = {}
    for speed in (0.25, 0.5, 1.0, 2.0):
        P, L = [], []
        for k in ks:
            th = rng.uniform(0, 2 * np.pi)
            T = 12
            d = np.array([math.cos(th), math.sin(th)])
            pos = np.array([32.0, 32.0]) + speed * (np.arange(T)[:, None] - T / 2) * d
            it = torch.from_numpy(np.repeat(items[k][None], T, 0)).float() / 255.0
            c = place(it, pos[:, 0], pos[:, 1], np.full(T, 0.9)).numpy()
            x = torch.from_numpy(((c.astype(np.float64) - mean) / std).astype(np.float32))[:, None]
            f = enc(x).numpy().astype(np.float64)
            P.append(np.abs(f[2:] - f[1:-1]).mean())
            L.append(np.abs(f[2:] - (2 * f[1:-1] - f[:-2])).mean())
        out[f"speed_{speed}px"] = {"persistence_mae": round(float(np.mean(P)), 4),
                                   "linear_extrapolation_mae": round(float(np.mean(L)), 4)}
    fl = []
    for k in ks[:8]:
        T = 60
        pos = np.tile(rng.uniform(20, 44, 2), (T, 1))
        fr = render(items[k], 0.9, pos, np.random.default_rng([seed, 45, int(k)]))
        f = encode(enc, fr, mean, std).astype(np.float64)
        fl.append(np.abs(np.diff(f, axis=0)).mean())
    out["still_item_through_camera_persistence_mae"] = round(float(np.mean(fl)), 4)
    return out


# =====================================================================================
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=9.0, help="wall-clock cap on the training loop")
    ap.add_argument("--epochs", type=int, default=18, help="passes over the training streams (LR schedule length)")
    ap.add_argument("--train-streams", type=int, default=N_TRAIN)
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    n_train = args.train_streams

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    enc, mean, std = load_encoder(os.path.join(ACTIVITY, "frame-encoder.pt"))
    ym, ys = read_yaml_mean_std(os.path.join(ACTIVITY, "frame-encoder.yaml"))
    assert (ym, ys) == (mean, std), ((ym, ys), (mean, std))
    for p in enc.parameters():
        p.requires_grad_(False)
    xtr, _ = load_fashion_mnist("train")
    xte, _ = load_fashion_mnist("test")

    # ---- data ------------------------------------------------------------------------------
    Xtr, Mtr = make_set(np.random.default_rng([args.seed, 11]), xtr, n_train, STREAM_T, enc, mean, std, "train")
    Xva, Mva = make_set(np.random.default_rng([args.seed, 22]), xte, N_VAL, STREAM_T, enc, mean, std, "held-out")
    smooth = encoder_smoothness(enc, mean, std, xte, args.seed)
    print(f"encoder smoothness (noise-free moves): {smooth}", flush=True)
    t_data = time.time() - t0
    mu = Xtr.reshape(-1, FEATURES).mean(0)
    sd = Xtr.reshape(-1, FEATURES).std(0) + 1e-3
    dsc = np.diff(Xtr, axis=1).reshape(-1, FEATURES).std(0) + 1e-3
    share = {MODE_NAMES[i]: round(float((Mtr == i).mean()), 4) for i in range(6) if (Mtr == i).any()}
    print(f"train motion share: {share}", flush=True)

    # ---- train: stateful truncated BPTT over consecutive chunks ---------------------------
    model = Forecaster(mu, sd, dsc)
    groups = max(1, n_train // BATCH)
    steps_total = args.epochs * groups * (STREAM_T // CHUNK)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * min(s, steps_total) / steps_total))) / LR)
    brng = np.random.default_rng([args.seed, 33])
    base = evaluate(model, Xva, Mva)          # zero head = persistence
    print(f"held-out persistence: mse={base['persistence']['mse']:.5f} mae={base['persistence']['mae']:.5f} "
          f"linear-extrapolation: mse={base['linear_extrapolation']['mse']:.5f} "
          f"mae={base['linear_extrapolation']['mae']:.5f}", flush=True)
    t_train0 = time.time()
    deadline = t_train0 + args.minutes * 60
    step, history, stopped = 0, [], False
    for ep in range(args.epochs):
        model.train()
        perm = brng.permutation(n_train)
        tot = cnt = 0.0
        for g in range(groups):
            bi = np.sort(perm[g * BATCH:(g + 1) * BATCH])
            xb = torch.from_numpy(Xtr[bi]).transpose(0, 1)            # [T,B,128]
            h = None
            for c in range(0, STREAM_T - 1, CHUNK):
                xin = xb[c:min(c + CHUNK, STREAM_T - 1)]
                tgt = xb[c + 1:c + 1 + len(xin)]
                y, h = model(xin, h)
                h = h.detach()
                se = ((y - tgt) ** 2).mean(-1)                            # [t,B]
                if c == 0:
                    se = se[SKIP_LOSS:]
                loss = se.mean()
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
        entry = {"epoch": ep + 1, "step": step, "train_mse": round(tot / max(cnt, 1), 6), "seconds": round(el, 1)}
        if (ep + 1) % 3 == 0 or stopped or ep + 1 == args.epochs or ep < 2:
            ev = evaluate(model, Xva, Mva)
            entry["heldout_mse"] = round(ev["model"]["mse"], 6)
            entry["heldout_mae"] = round(ev["model"]["mae"], 6)
        print(f"epoch {ep + 1}/{args.epochs} {entry}", flush=True)
        history.append(entry)
        if stopped:
            break
    train_seconds = time.time() - t_train0
    print(f"trained {step}/{steps_total} steps in {train_seconds:.0f}s", flush=True)

    # ---- held-out evaluation ----------------------------------------------------------------
    model.eval()
    ev = evaluate(model, Xva, Mva)
    ev_train = evaluate(model, Xtr[:N_VAL], Mtr[:N_VAL])
    for k in ("model", "persistence", "linear_extrapolation"):
        print(f"held-out {k}: mse={ev[k]['mse']:.5f} mae={ev[k]['mae']:.5f} by motion {ev[k]['mae_by_motion']}",
              flush=True)
    print(f"model vs persistence: {ev['model_vs_persistence']}", flush=True)

    # ---- export (normalisation folded into the weights), checks ----------------------------
    out_dir = args.out
    os.makedirs(os.path.join(out_dir, "golden"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "eval"), exist_ok=True)
    plain = Plain(model).eval()
    step_mod = Step(plain).eval()
    onnx_path = os.path.join(out_dir, "feature-gru.onnx")
    onnx_info = export_onnx(step_mod, onnx_path)
    manifest = write_manifest(os.path.join(out_dir, "feature-gru.yaml"), args.seed)
    checks = {}
    with torch.no_grad():
        xv = torch.from_numpy(Xva[:4, :300]).transpose(0, 1)
        checks["folded_vs_training_model_max_abs_diff_B4_T300"] = float((plain(xv)[0] - model(xv)[0]).abs().max())

    # ---- evaluation clips (TEST items, own seeds) ---------------------------------------------
    clips, clip_report, clip_feats = [], {}, {}
    for name, kind, bseed in CLIP_SPECS:
        frames, e, e_end, seed, details = make_clip(kind, bseed, xte)
        feats = encode(enc, frames, mean, std)
        fpath = os.path.join(out_dir, "eval", f"{name}.f32")
        feats.astype("<f4").tofile(fpath)
        back = np.fromfile(fpath, dtype="<f4").reshape(-1, FEATURES)
        assert np.array_equal(back, feats)
        with torch.no_grad():
            y = plain(torch.from_numpy(feats)[:, None])[0][:, 0].numpy()
        fig, em, ep_ = clip_figures(feats, y, e)
        clips.append({"name": name, "kind": kind, "frames": int(len(frames)), "event_start": e,
                      "event_end": e_end, "seed": int(seed), "file": f"{name}.f32"})
        clip_report[name] = {"kind": kind, "event_start": e, "event_end": e_end, "seed": int(seed),
                             "details": details, "errors": fig,
                             "model_mae_event_window": None if e is None else [round(float(v), 5) for v in em[e - 3:e + 8]],
                             "persistence_mae_event_window": None if e is None else [round(float(v), 5) for v in ep_[e - 3:e + 8]]}
        clip_feats[name] = (frames, feats)
        print(f"clip {name}: e={e} seed={seed} {details} {fig}", flush=True)
    with open(os.path.join(out_dir, "eval", "clips.json"), "w") as fh:
        json.dump(clips, fh, indent=1)
        fh.write("\n")
    frames, feats = clip_feats["freeze"]
    png_dir = os.path.join(out_dir, "eval", "freeze-png")
    save_pngs(frames, png_dir)
    dec = np.stack([read_png(os.path.join(png_dir, f"frame-{i:05d}.png")) for i in range(len(frames))])
    assert np.array_equal(dec, frames), "PNG round trip is not lossless"
    checks["freeze_png_roundtrip_lossless"] = True
    checks["freeze_png_features_equal_f32"] = bool(np.array_equal(encode(enc, dec, mean, std), feats))
    fo = run_onnx_numpy(os.path.join(ACTIVITY, "frame-encoder.onnx"), {"image": normalise(dec[:8], mean, std).numpy()})[0]
    checks["encoder_onnx_numpy_vs_torch_freeze8_max_abs_diff"] = float(np.abs(fo - feats[:8]).max())

    # ---- golden vectors: single step B=3, and 50 steps of real held-out features -------------
    with torch.no_grad():
        z = torch.from_numpy(clip_feats["normal-1"][1][:50].copy())            # [50,128]
        y_full = plain(z[:, None])[0][:, 0]                                   # one full-sequence call
        y_train_model = model(z[:, None])[0][:, 0]
        h = torch.zeros(1, HIDDEN)
        ys = []
        for t in range(len(z)):
            yt, h = step_mod(z[t:t + 1], h)
            ys.append(yt)
        checks["step_vs_full_max_abs_diff_golden50"] = float((torch.cat(ys) - y_full).abs().max())
        checks["golden50_exported_vs_training_model_max_abs_diff"] = float((y_full - y_train_model).abs().max())
        g = torch.Generator().manual_seed(args.seed + 7)
        xb = torch.from_numpy(Xva[:5, :200]).transpose(0, 1) + 0.1 * torch.randn(200, 5, FEATURES, generator=g)
        yb = plain(xb)[0]
        h = torch.zeros(5, HIDDEN)
        ys = []
        for t in range(200):
            yt, h = step_mod(xb[t], h)
            ys.append(yt)
        checks["step_vs_full_max_abs_diff_B5_T200"] = float((torch.stack(ys) - yb).abs().max())
        assert checks["step_vs_full_max_abs_diff_golden50"] <= 1e-5, checks
        assert checks["step_vs_full_max_abs_diff_B5_T200"] <= 1e-5, checks
        rng = np.random.default_rng(args.seed + 1000)
        rows = rng.choice(Xva.shape[0] * STREAM_T, 3, replace=False)
        x3 = (Xva.reshape(-1, FEATURES)[rows] + rng.normal(0, 0.3, (3, FEATURES))).astype(np.float32)
        h3 = rng.uniform(-1, 1, (3, HIDDEN)).astype(np.float32)
        y3, h3o = step_mod(torch.from_numpy(x3), torch.from_numpy(h3))
    o = run_onnx_numpy(onnx_path, {"x": x3, "h": h3})
    checks["onnx_numpy_vs_torch_single_step_B3_max_abs_diff"] = max(
        float(np.abs(o[0] - y3.numpy()).max()), float(np.abs(o[1] - h3o.numpy()).max()))
    hn = np.zeros((1, HIDDEN))
    yo = []
    for t in range(len(z)):
        r = run_onnx_numpy(onnx_path, {"x": z[t:t + 1].numpy(), "h": hn})
        yo.append(r[0][0])
        hn = r[1]
    checks["onnx_numpy_stepped_vs_torch_full_sequence_golden50_max_abs_diff"] = float(
        np.abs(np.array(yo) - y_full.numpy()).max())
    print(f"checks: {checks}", flush=True)
    assert checks["onnx_numpy_vs_torch_single_step_B3_max_abs_diff"] <= 1e-5, checks
    assert checks["onnx_numpy_stepped_vs_torch_full_sequence_golden50_max_abs_diff"] <= 1e-5, checks
    golden = {
        "model_id": MODEL_ID, "version": VERSION,
        "single_step": {"x": tolist2(x3), "state_in": {"h": tolist2(h3)},
                        "output": tolist2(y3.numpy()), "state_out": {"h_out": tolist2(h3o.numpy())}},
        "sequence": {"source": "eval/normal-1.f32 frames 0..49 (PyTorch encoder features), zero start state",
                     "z": tolist2(z.numpy()), "y": tolist2(y_full.numpy())},
    }
    with open(os.path.join(out_dir, "golden", "feature-gru.json"), "w") as fh:
        json.dump(golden, fh)
        fh.write("\n")

    report = {
        "model_id": MODEL_ID, "version": VERSION, "encoder": ENCODER_ID,
        "command": " ".join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:]),
        "seed": args.seed, "torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
        "data": {"train_streams": n_train, "heldout_streams": N_VAL, "frames_per_stream": STREAM_T,
                 "train_frames": n_train * STREAM_T, "heldout_frames": N_VAL * STREAM_T,
                 "train_objects": "fashion-mnist train split (one item per stream)",
                 "heldout_objects": "fashion-mnist test split (one item per stream)",
                 "train_rng": [args.seed, 11], "heldout_rng": [args.seed, 22], "train_motion_share": share,
                 "segment": [SEG_LO, SEG_HI], "transition": [TRANS_LO, TRANS_HI], "line_speed": LINE_SPEED,
                 "circle_speed": CIRCLE_SPEED, "circle_radius": CIRCLE_R, "drift_speed": DRIFT_SPEED,
                 "mode_p": dict(zip(MODES, MODE_P)), "scale": [SCALE_LO, SCALE_HI], "jitter_px": JITTER},
        "hyper": {"hidden": HIDDEN, "chunk": CHUNK, "batch": BATCH, "lr": LR, "lr_min": LR_MIN, "loss": "mse (raw features)",
                  "skip_loss_first_frames": SKIP_LOSS, "epochs_planned": args.epochs, "steps_planned": steps_total,
                  "steps_done": step, "stopped_by_time_cap": stopped, "minutes_cap": args.minutes, "grad_clip": 1.0},
        "data_seconds": round(t_data, 1), "train_seconds": round(train_seconds, 1),
        "encoder_smoothness": smooth,
        "heldout": ev, "train_subset_same_metric": {k: ev_train[k]["mse"] for k in ("model", "persistence")},
        "history": history,
        "eval_clips": clip_report,
        "onnx": onnx_info, "checks": checks, "manifest": manifest,
    }
    report["total_seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(out_dir, "train-report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

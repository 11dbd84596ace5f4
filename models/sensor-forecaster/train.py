#!/usr/bin/env python3
"""Train, export and document Engram's 1-channel sensor forecaster (GRU or LSTM).

    /usr/bin/python3 models/sensor-forecaster/train.py --cell gru|lstm \
        [--data-extra DIR] [--seed N] [--minutes M] [--steps S]

What it does, end to end (see docs/model-contract.md for the contract it follows):

1. Generates synthetic sensor series (seasonality with clock periods (a day at a
   5/10/15/60-minute step) or periods 24..300 steps, cron-like spikes, regime changes,
   weekly-like modulation, trend, noise of many levels and shapes, level shifts,
   spikes, square waves, flat lines / stuck sensors, random walks, count-like and
   non-negative series, quantised readings, arbitrary units and offsets).
2. Optionally adds the `value` column of every `*.csv` under --data-extra. NAB is
   refused: Engram is scored on NAB, so no NAB series is trained on. A fixed subset
   of those files is held out for validation.
3. Applies the contract's `ewm-standardize` preprocessing in float64 to every
   series from its first reading, and trains nn.GRU/nn.LSTM(1 -> 64, 1 layer) +
   Linear(64 -> 1) to predict z[t+1] from z[<=t] (Huber loss on z, first 20 steps
   of every series and every training chunk are not scored).
4. Reports validation MSE on z against a last-value and a zero baseline.
5. Exports a step wrapper (x[B,1], h[B,64] (, c[B,64])) -> (y[B,1], h_out (, c_out))
   to ONNX opset 17 with a dynamic batch axis, checks it, writes the manifest,
   golden vectors and a JSON training report next to this script.
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- contract constants (docs/model-contract.md) ---------------------------------
ALPHA = 0.002
CLIP = 10.0
MIN_SCALE = 1.0e-6
REL_MIN_SCALE = 1.0e-3
HIDDEN = 64
OPSET = 17
VERSION = "2.0.0"

# ---- training constants -------------------------------------------------------------
SKIP = 20              # steps at the start of each series / chunk not scored
CHUNK = 256            # training chunk length
BATCH = 32
LR = 3e-3
LR_MIN = 1e-4
HUBER_DELTA = 1.0
N_SYNTH_TRAIN = 800
N_SYNTH_VAL = 100
EXTRA_CHUNK_SHARE = 0.2   # share of training chunks drawn from --data-extra series
EXTRA_VAL_EVERY = 5       # files i (sorted by path) with i % 5 == 4 are validation


# =====================================================================================
# Preprocessing: ewm-standardize, exact, float64
# =====================================================================================
def _scale(mean, var):
    return max(math.sqrt(var), MIN_SCALE, REL_MIN_SCALE * abs(mean))


def ewm_standardize(values):
    """Returns (z, mean_after, scale_after) as float64 arrays of len(values).

    z[t] is the model input for reading t; mean_after[t] and scale_after[t] are the
    stats after reading t was absorbed (step 5's `mean` and `s'`)."""
    n = 0
    mean = 0.0
    var = 0.0
    T = len(values)
    z = np.empty(T, dtype=np.float64)
    m_after = np.empty(T, dtype=np.float64)
    s_after = np.empty(T, dtype=np.float64)
    for i in range(T):
        x = float(values[i])
        s = max(math.sqrt(var), MIN_SCALE, REL_MIN_SCALE * abs(mean))
        if n == 0:
            zi = 0.0
        else:
            zi = (x - mean) / s
            zi = min(max(zi, -CLIP), CLIP)
        if n == 0:
            mean = x
            var = 0.0
        else:
            a = max(1.0 / (n + 1), ALPHA)
            d = x - mean
            mean = mean + a * d
            var = (1 - a) * (var + a * d * d)
        n += 1
        z[i] = zi
        m_after[i] = mean
        s_after[i] = max(math.sqrt(var), MIN_SCALE, REL_MIN_SCALE * abs(mean))
    return z, m_after, s_after


# =====================================================================================
# Synthetic data
# =====================================================================================
def _periodic(rng, t, period):
    """One unit-amplitude periodic shape with the given period (in steps)."""
    phase = rng.uniform(0, 2 * np.pi)
    u = 2 * np.pi * t / period + phase
    kind = rng.choice(["sine", "harmonics", "bump", "saw", "square", "triangle"],
                      p=[0.3, 0.2, 0.15, 0.1, 0.15, 0.1])
    if kind == "sine":
        return np.sin(u)
    if kind == "harmonics":
        k = rng.integers(2, 5)
        w = rng.normal(0, 1, k) / np.arange(1, k + 1)
        ph = rng.uniform(0, 2 * np.pi, k)
        s = sum(w[j] * np.sin((j + 1) * u + ph[j]) for j in range(k))
        return s / (np.abs(s).max() + 1e-9)
    if kind == "bump":          # daily-activity-like peak
        sharp = rng.uniform(1, 6)
        s = np.exp(sharp * (np.cos(u) - 1))
        return 2 * (s - s.mean())
    if kind == "saw":
        return 2 * ((u / (2 * np.pi)) % 1.0) - 1
    if kind == "square":
        duty = rng.uniform(0.2, 0.8)
        return np.where(((u / (2 * np.pi)) % 1.0) < duty, 1.0, -1.0)
    return 2 * np.abs(2 * ((u / (2 * np.pi)) % 1.0) - 1) - 1   # triangle


def synth_series(rng):
    """One synthetic sensor series, float64, length 1200..5000."""
    L = int(rng.integers(1200, 5001))
    t = np.arange(L, dtype=np.float64)
    archetype = rng.choice(["general", "flat", "square", "randomwalk", "spiky_low"],
                           p=[0.78, 0.04, 0.06, 0.07, 0.05])
    s = np.zeros(L)
    noise_sd = float(np.exp(rng.uniform(np.log(1e-3), np.log(2.0))))
    if archetype == "flat":
        noise_sd = 0.0 if rng.random() < 0.6 else noise_sd * 0.01
    elif archetype == "square":
        s += _periodic_square(rng, t)
        noise_sd = 0.0 if rng.random() < 0.5 else noise_sd * 0.1
    elif archetype == "randomwalk":
        s += np.cumsum(rng.normal(0, 1, L)) * rng.uniform(0.05, 0.5)
    elif archetype == "spiky_low":     # mostly idle, occasional bursts (load-balancer-like)
        s += np.abs(rng.normal(0, 0.05, L))
        nb = int(rng.integers(3, 30))
        for _ in range(nb):
            p = int(rng.integers(0, L))
            w = int(rng.integers(1, 12))
            s[p:p + w] += rng.uniform(1, 8)
        noise_sd *= 0.1
    else:
        # Seasonality: none, a clock period (a day at a 5/10/15/60-minute sampling step, so 288,
        # 144, 96 or 24 steps) or an arbitrary one, optionally with a weekly (7x) component.
        day = float(rng.choice([288, 144, 96, 24])) if rng.random() < 0.5 else rng.uniform(24, 300)
        if rng.random() < 0.8:
            s += _periodic(rng, t, day)
        if rng.random() < 0.3:      # second (e.g. weekly) period, often a multiple
            p2 = rng.uniform(24, 300) if rng.random() < 0.5 else day * rng.choice([5, 7])
            s += rng.uniform(0.2, 1.0) * _periodic(rng, t, p2)
        if rng.random() < 0.25:     # cron-like job: a spike at the same phase of every period
            cron_period = day if rng.random() < 0.7 else day * rng.choice([0.25, 0.5, 7])
            ph = rng.uniform(0, cron_period)
            w = int(rng.integers(1, 8))
            amp = rng.uniform(1, 6)
            for st in np.arange(ph, L, cron_period):
                p = int(st + rng.normal(0, 0.5))
                if 0 <= p < L:
                    s[p:p + w] += amp * rng.uniform(0.8, 1.2)
        if rng.random() < 0.2:      # regime change: the noise, amplitude or period changes mid-series
            p = int(rng.integers(L // 5, L))
            s[p:] = s[p:] * rng.uniform(0.3, 3.0) + rng.normal(0, 0.5, L - p) * rng.uniform(0, 0.5)
        if rng.random() < 0.2:      # weekday/weekend-like multiplicative modulation
            pw = rng.uniform(24, 300) * 7
            s *= 1 + rng.uniform(0.2, 0.6) * np.where(((t / pw) % 1.0) < 5 / 7, 0.0, -1.0)
        if rng.random() < 0.3:      # trend
            s += rng.normal(0, 2) * t / L
        if rng.random() < 0.2:      # random-walk component
            s += np.cumsum(rng.normal(0, 1, L)) * rng.uniform(0.005, 0.1)
        if rng.random() < 0.25:     # AR(1) component
            phi = rng.uniform(0.5, 0.99)
            e = rng.normal(0, rng.uniform(0.05, 0.5) * math.sqrt(1 - phi * phi), L)
            ar = np.zeros(L)
            for i in range(1, L):
                ar[i] = phi * ar[i - 1] + e[i]
            s += ar
    # noise
    kind = rng.choice(["gauss", "student", "uniform"], p=[0.7, 0.2, 0.1])
    if kind == "gauss":
        s += rng.normal(0, noise_sd, L)
    elif kind == "student":
        s += rng.standard_t(3, L) * noise_sd
    else:
        s += rng.uniform(-1.7, 1.7, L) * noise_sd
    spread = max(float(np.std(s)), noise_sd, 1e-3)
    # level shifts
    for _ in range(int(rng.poisson(0.7))):
        p = int(rng.integers(L // 10, L))
        s[p:] += rng.normal(0, 2) * spread
    # spikes
    for _ in range(int(rng.poisson(1.5))):
        p = int(rng.integers(L // 10, L))
        w = int(rng.integers(1, 4))
        s[p:p + w] += rng.choice([-1, 1]) * rng.uniform(3, 15) * spread
    # stuck sensor / flat segments, dropouts to zero
    if rng.random() < 0.15:
        p = int(rng.integers(L // 10, L))
        w = int(rng.integers(20, 500))
        s[p:p + w] = s[p]
    # units: offset and scale
    scale = float(np.exp(rng.uniform(np.log(1e-2), np.log(1e4))))
    r = rng.random()
    if r < 0.3:
        offset = 0.0
    elif r < 0.8:
        offset = rng.normal(0, 3)
    else:
        offset = float(np.exp(rng.uniform(np.log(3), np.log(300)))) * rng.choice([-1, 1], p=[0.2, 0.8])
    v = offset + s
    r = rng.random()
    if r < 0.15:               # count-like: Poisson counts with a rate following the shape
        lam = float(np.exp(rng.uniform(np.log(0.3), np.log(200))))
        rate = lam * np.exp(np.clip((s - s.mean()) / (np.std(s) + 1e-9) * rng.uniform(0.1, 0.8), -5, 5))
        v = rng.poisson(rate).astype(np.float64)
        if rng.random() < 0.3:
            v *= rng.choice([10.0, 1024.0, 0.5])
        return v
    v = v * scale
    if r < 0.40:               # non-negative (clip) e.g. utilisation, bytes
        v = np.maximum(v - np.quantile(v, rng.uniform(0.0, 0.3)), 0.0)
    if rng.random() < 0.2:     # quantised readings
        q = scale * float(10.0 ** rng.integers(-2, 1))
        v = np.round(v / q) * q
    if rng.random() < 0.05 and L > 200:   # dropout to zero
        p = int(rng.integers(L // 10, L))
        v[p:p + int(rng.integers(1, 30))] = 0.0
    return v


def _periodic_square(rng, t):
    period = rng.uniform(24, 300)
    duty = rng.uniform(0.2, 0.8)
    phase = rng.uniform(0, 1)
    return np.where(((t / period + phase) % 1.0) < duty, 1.0, 0.0)


# =====================================================================================
# Extra (unlabelled) data
# =====================================================================================
def load_extra(dirpath):
    """Reads only the `value` column of every *.csv under dirpath. Never labels, never NAB.

    Engram's anomaly scores are measured on NAB (docs/benchmarks.md, "Protocol"), so no NAB series
    may be trained on: a folder that looks like NAB's is refused."""
    nab_categories = {"artificialNoAnomaly", "artificialWithAnomaly", "realAWSCloudwatch", "realTraffic",
                      "realAdExchange", "realKnownCause", "realTweets"}
    for root, dirs, _ in os.walk(dirpath):
        if "nab" in os.path.abspath(root).lower().split(os.sep) or nab_categories & set(dirs):
            sys.exit(f"--data-extra {dirpath}: this looks like NAB data ({root}). The protocol in "
                     "docs/benchmarks.md forbids training on NAB. Fix: pass a folder of other series.")
    files = []
    for root, dirs, names in os.walk(dirpath):
        dirs.sort()
        if "label" in root.lower():
            continue
        for nm in sorted(names):
            if nm.lower().endswith(".csv") and "label" not in nm.lower():
                files.append(os.path.join(root, nm))
    files.sort(key=lambda p: os.path.relpath(p, dirpath))
    out = []
    for p in files:
        with open(p, newline="") as fh:
            rd = csv.DictReader(fh)
            if "value" not in (rd.fieldnames or []):
                print(f"skip (no value column): {p}", file=sys.stderr)
                continue
            vals = [float(row["value"]) for row in rd]
        out.append((os.path.relpath(p, dirpath), np.asarray(vals, dtype=np.float64)))
    return out


# =====================================================================================
# Model
# =====================================================================================
class Forecaster(nn.Module):
    """nn.GRU / nn.LSTM (input 1, hidden 64, 1 layer, seq-first) + Linear(64 -> 1)."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell
        rnn_cls = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn_cls(input_size=1, hidden_size=HIDDEN, num_layers=1)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, z, state=None):       # z: [T, B, 1]
        out, st = self.rnn(z, state)
        return self.head(out), st           # [T, B, 1]


class GruStep(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.rnn = f.rnn
        self.head = f.head

    def forward(self, x, h):                # x [B,1], h [B,64]
        out, hn = self.rnn(x.unsqueeze(0), h.unsqueeze(0))   # seq len 1, [1,B,H]
        return self.head(out[0]), hn[0]


class LstmStep(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.rnn = f.rnn
        self.head = f.head

    def forward(self, x, h, c):             # x [B,1], h [B,64], c [B,64]
        out, (hn, cn) = self.rnn(x.unsqueeze(0), (h.unsqueeze(0), c.unsqueeze(0)))
        return self.head(out[0]), hn[0], cn[0]


# =====================================================================================
# Training helpers
# =====================================================================================
def sample_batch(rng, pools):
    """pools: list of (list_of_z_arrays, probability weights within pool, pool share)."""
    xs, ys, ms = [], [], []
    shares = np.array([p[2] for p in pools])
    shares = shares / shares.sum()
    for _ in range(BATCH):
        pool = pools[rng.choice(len(pools), p=shares)]
        zs, w = pool[0], pool[1]
        z = zs[rng.choice(len(zs), p=w)]
        L = len(z)
        need = CHUNK + 1
        if L <= need:
            start = 0
        elif rng.random() < 0.2:
            start = 0                       # series start: Welford transient
        else:
            start = int(rng.integers(0, L - need + 1))
        seg = z[start:start + need]
        n = len(seg)
        x = np.zeros(CHUNK, dtype=np.float32)
        y = np.zeros(CHUNK, dtype=np.float32)
        m = np.zeros(CHUNK, dtype=np.float32)
        x[:n - 1] = seg[:-1]
        y[:n - 1] = seg[1:]
        pos = start + np.arange(CHUNK)      # index of the input reading in its series
        valid = (np.arange(CHUNK) < n - 1) & (np.arange(CHUNK) >= SKIP) & (pos >= SKIP)
        m[valid] = 1.0
        xs.append(x); ys.append(y); ms.append(m)
    to = lambda a: torch.from_numpy(np.stack(a, axis=1)[:, :, None])   # [T,B,1]
    return to(xs), to(ys), to(ms)


@torch.no_grad()
def evaluate(model, zs):
    """MSE on z[t+1] for t >= SKIP over whole series from zero state."""
    se = {"model": 0.0, "last_value": 0.0, "zero": 0.0}
    n = 0
    for z in zs:
        x = torch.from_numpy(z[:-1].astype(np.float32)).view(-1, 1, 1)
        yhat = model(x)[0].view(-1).double().numpy()
        tgt = z[1:].astype(np.float32).astype(np.float64)
        last = z[:-1].astype(np.float32).astype(np.float64)
        sl = slice(SKIP, None)
        se["model"] += float(((yhat[sl] - tgt[sl]) ** 2).sum())
        se["last_value"] += float(((last[sl] - tgt[sl]) ** 2).sum())
        se["zero"] += float((tgt[sl] ** 2).sum())
        n += len(tgt[sl])
    return {k: v / max(n, 1) for k, v in se.items()} | {"steps": n}


def fmt(d):
    return " ".join(f"{k}={v:.5f}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items())


# =====================================================================================
# Export, verification, golden vectors, manifest
# =====================================================================================
def names(cell):
    if cell == "gru":
        return ["x", "h"], ["y", "h_out"]
    return ["x", "h", "c"], ["y", "h_out", "c_out"]


def export_onnx(model, cell, path):
    import onnx
    step = (GruStep(model) if cell == "gru" else LstmStep(model)).eval()
    ins, outs = names(cell)
    args = tuple([torch.zeros(2, 1)] + [torch.zeros(2, HIDDEN) for _ in ins[1:]])
    dyn = {n: {0: "batch"} for n in ins + outs}
    torch.onnx.export(step, args, path, opset_version=OPSET, input_names=ins,
                      output_names=outs, dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [nd.op_type for nd in m.graph.node]
    want = "GRU" if cell == "gru" else "LSTM"
    assert ops.count(want) == 1, f"expected one {want} node, got {ops}"
    assert sum(op in ("GRU", "LSTM", "RNN", "Loop", "Scan") for op in ops) == 1, ops

    def dims(vi):
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
    io = {vi.name: dims(vi) for vi in list(m.graph.input) + list(m.graph.output)}
    for nme in ins + outs:
        size = 1 if nme in ("x", "y") else HIDDEN
        assert io.get(nme) == ["batch", size], f"{nme}: {io.get(nme)}"
        t = [vi for vi in list(m.graph.input) + list(m.graph.output) if vi.name == nme][0]
        assert t.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [vi.name for vi in m.graph.input] == ins, [vi.name for vi in m.graph.input]
    assert [vi.name for vi in m.graph.output] == outs, [vi.name for vi in m.graph.output]
    return step, {"ops": ops, "io": io, "bytes": os.path.getsize(path),
                  "ir_version": m.ir_version,
                  "opset": [(o.domain, o.version) for o in m.opset_import]}


# ---- a tiny numpy interpreter for the exported graph (onnxruntime is not available
# to Python here; this checks the ONNX file itself, independently of PyTorch) -------------
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def run_onnx_numpy(path, feeds):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) if numpy_helper.to_array(t).dtype.kind == "f"
           else numpy_helper.to_array(t) for t in m.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    env[""] = None
    for nd in m.graph.node:
        at = {a.name: onnx.helper.get_attribute_value(a) for a in nd.attribute}
        i = [env[n] if n else None for n in nd.input]
        op = nd.op_type
        if op == "Constant":
            v = numpy_helper.to_array(at["value"])
            out = [v.astype(np.float64) if v.dtype.kind == "f" else v]
        elif op == "Unsqueeze":
            out = [np.expand_dims(i[0], tuple(int(a) for a in i[1]))]
        elif op == "Squeeze":
            out = [np.squeeze(i[0], axis=tuple(int(a) for a in i[1]))]
        elif op == "Gather":
            out = [np.take(i[0], i[1], axis=at.get("axis", 0))]
        elif op == "Gemm":
            a, b = i[0], i[1]
            a = a.T if at.get("transA", 0) else a
            b = b.T if at.get("transB", 0) else b
            out = [at.get("alpha", 1.0) * a @ b + at.get("beta", 1.0) * (i[2] if len(i) > 2 else 0)]
        elif op in ("GRU", "LSTM"):
            allowed = {"hidden_size", "linear_before_reset"}
            assert set(at) <= allowed, at
            X, W, R, B = i[0], i[1][0], i[2][0], i[3][0]
            H = at["hidden_size"]
            assert i[4] is None if len(i) > 4 else True
            h = i[5][0]
            T = X.shape[0]
            Wb, Rb = B[:len(B) // 2], B[len(B) // 2:]
            ys = []
            if op == "GRU":
                assert at.get("linear_before_reset", 0) == 1
                for t in range(T):
                    gx = X[t] @ W.T + Wb
                    gh = h @ R.T + Rb
                    zt = _sig(gx[:, :H] + gh[:, :H])
                    rt = _sig(gx[:, H:2 * H] + gh[:, H:2 * H])
                    ht = np.tanh(gx[:, 2 * H:] + rt * gh[:, 2 * H:])
                    h = (1 - zt) * ht + zt * h
                    ys.append(h)
                out = [np.stack(ys)[:, None], h[None]]
            else:
                c = i[6][0]
                assert len(i) < 8 or i[7] is None
                for t in range(T):
                    g = X[t] @ W.T + Wb + h @ R.T + Rb      # gate order i, o, f, c
                    it, ot = _sig(g[:, :H]), _sig(g[:, H:2 * H])
                    ft, ct = _sig(g[:, 2 * H:3 * H]), np.tanh(g[:, 3 * H:])
                    c = ft * c + it * ct
                    h = ot * np.tanh(c)
                    ys.append(h)
                out = [np.stack(ys)[:, None], h[None], c[None]]
        else:
            raise ValueError(f"numpy interpreter: unsupported op {op}")
        for n, v in zip(nd.output, out):
            env[n] = v
    return [env[o.name] for o in m.graph.output]


def golden_raw():
    """Deterministic 50-step series: seasonality + noise, a spike at t=25, a level shift at t=35."""
    rng = np.random.default_rng(20240601)
    t = np.arange(50)
    raw = 50.0 + 5.0 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.4, 50)
    raw[25] += 40.0
    raw[35:] += 20.0
    return np.round(raw, 3)


@torch.no_grad()
def verify_and_golden(model, step, cell, seed, model_id, onnx_path):
    ins, outs = names(cell)
    report = {}
    # --- step wrapper, 50 steps feeding state back, vs one full-sequence call --------
    raw = golden_raw()
    z, m_after, s_after = ewm_standardize(raw)
    z32 = torch.from_numpy(z.astype(np.float32)).view(-1, 1, 1)   # [T,1,1]
    y_full = model(z32)[0].view(-1, 1)                            # [T,1]
    state = [torch.zeros(1, HIDDEN) for _ in ins[1:]]
    ys = []
    for t in range(len(raw)):
        res = step(z32[t], *state)
        ys.append(res[0])
        state = list(res[1:])
    y_step = torch.cat(ys, 0)
    d_seq = float((y_step - y_full).abs().max())
    # also a random batch with a longer sequence
    g = torch.Generator().manual_seed(seed + 7)
    zb = torch.randn(200, 5, 1, generator=g) * 2
    yb = model(zb)[0]
    state = [torch.zeros(5, HIDDEN) for _ in ins[1:]]
    ysb = []
    for t in range(200):
        res = step(zb[t], *state)
        ysb.append(res[0])
        state = list(res[1:])
    d_batch = float((torch.stack(ysb, 0) - yb).abs().max())
    report["step_vs_full_max_abs_diff_golden"] = d_seq
    report["step_vs_full_max_abs_diff_random_B5_T200"] = d_batch
    assert d_seq <= 1e-6 and d_batch <= 1e-6, report

    # --- golden JSON ------------------------------------------------------------------
    rng = np.random.default_rng(seed + 1000)
    x = rng.normal(0, 1.5, (3, 1)).astype(np.float32)
    st_in = {"h": rng.uniform(-1, 1, (3, HIDDEN)).astype(np.float32)}
    if cell == "lstm":
        st_in["c"] = rng.normal(0, 1.5, (3, HIDDEN)).astype(np.float32)
    res = step(torch.from_numpy(x), *[torch.from_numpy(st_in[n]) for n in ins[1:]])
    tolist = lambda a: [[float(v) for v in row] for row in np.asarray(a, dtype=np.float64)]
    single = {
        "x": tolist(x),
        "state_in": {n: tolist(st_in[n]) for n in ins[1:]},
        "output": tolist(res[0].numpy()),
        "state_out": {n: tolist(r.numpy()) for n, r in zip(outs[1:], res[1:])},
    }
    y64 = y_full.numpy().astype(np.float64)[:, 0]
    forecast = m_after + s_after * y64
    seq = {
        "start_ms": 1700000000000, "interval_ms": 300000,
        "raw": [[float(v)] for v in raw],
        "z": [[float(v)] for v in z],
        "y": [[float(v)] for v in y64],
        "forecast_next": [[float(v)] for v in forecast],
    }
    # --- the ONNX file itself, through the numpy interpreter, on the B=3 golden step ----
    onnx_res = run_onnx_numpy(onnx_path, {"x": x, **st_in})
    d_onnx = max(float(np.abs(a - b.numpy().astype(np.float64)).max()) for a, b in zip(onnx_res, res))
    report["onnx_numpy_vs_torch_single_step_B3_max_abs_diff"] = d_onnx
    state = {n: np.zeros((1, HIDDEN)) for n in ins[1:]}
    ys_onnx = []
    for t in range(len(raw)):
        r = run_onnx_numpy(onnx_path, {"x": z32[t].numpy(), **state})
        ys_onnx.append(float(r[0][0, 0]))
        state = {n: v for n, v in zip(ins[1:], r[1:])}
    d_onnx_seq = float(np.abs(np.array(ys_onnx) - y_full.numpy()[:, 0]).max())
    report["onnx_numpy_stepped_vs_torch_full_sequence_golden_max_abs_diff"] = d_onnx_seq
    assert d_onnx <= 1e-5 and d_onnx_seq <= 1e-5, report
    golden = {"model_id": model_id, "version": VERSION, "single_step": single, "sequence": seq}
    return golden, report


def write_manifest(path, cell, seed):
    state = "  - {input: h, output: h_out, size: 64}\n"
    if cell == "lstm":
        state += "  - {input: c, output: c_out, size: 64}\n"
    text = (
        f"id: sensor-forecaster-{cell}\n"
        f"version: \"{VERSION}\"\n"
        f"file: sensor-{cell}.onnx\n"
        f"architecture: {cell}\n"
        "task: forecast\n"
        "input:  {name: x, size: 1}\n"
        "output: {name: y, size: 1}\n"
        "state:\n" + state +
        "preprocessing:\n"
        "  type: ewm-standardize\n"
        "  alpha: 0.002\n"
        "  clip: 10.0\n"
        "  min_scale: 1.0e-6\n"
        "  rel_min_scale: 1.0e-3\n"
        f"state_compat: \"{cell}-h64-v2\"\n"
        f"training: {{script: train.py, seed: {seed}}}\n"
    )
    with open(path, "w") as fh:
        fh.write(text)
    try:   # sanity: it parses and the numbers are floats
        import yaml
        m = yaml.safe_load(text)
        p = m["preprocessing"]
        assert all(isinstance(p[k], float) for k in ("alpha", "clip", "min_scale", "rel_min_scale"))
        assert (p["alpha"], p["clip"], p["min_scale"], p["rel_min_scale"]) == (ALPHA, CLIP, MIN_SCALE, REL_MIN_SCALE)
        assert m["version"] == VERSION and m["state"][0]["size"] == HIDDEN
    except ImportError:
        pass


# =====================================================================================
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cell", choices=["gru", "lstm"], required=True)
    ap.add_argument("--data-extra", default=None, help="dir of CSVs with a `value` column (never NAB: refused)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--minutes", type=float, default=11.0, help="wall-clock cap on the training loop")
    ap.add_argument("--steps", type=int, default=2000, help="optimizer steps (LR schedule length)")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cell = args.cell
    model_id = f"sensor-forecaster-{cell}"
    t0 = time.time()

    # ---- data -----------------------------------------------------------------------
    # Synthetic data depends only on the seed (not on the cell), so both cells see the same series.
    drng = np.random.default_rng([args.seed, 1])
    synth_train = [synth_series(drng) for _ in range(N_SYNTH_TRAIN)]
    vrng = np.random.default_rng([args.seed, 2])
    synth_val = [synth_series(vrng) for _ in range(N_SYNTH_VAL)]
    extra_train, extra_val = [], []
    if args.data_extra:
        extra = load_extra(args.data_extra)
        for i, (nm, v) in enumerate(extra):
            (extra_val if i % EXTRA_VAL_EVERY == EXTRA_VAL_EVERY - 1 else extra_train).append((nm, v))
    pre = lambda vs: [ewm_standardize(v)[0] for v in vs]
    z_synth_train, z_synth_val = pre(synth_train), pre(synth_val)
    z_extra_train = pre([v for _, v in extra_train])
    z_extra_val = pre([v for _, v in extra_val])
    t_data = time.time() - t0
    print(f"data: synthetic train {len(synth_train)} series / {sum(map(len, synth_train))} steps, "
          f"val {len(synth_val)} / {sum(map(len, synth_val))}; extra train {len(extra_train)} files / "
          f"{sum(len(v) for _, v in extra_train)} steps, val {len(extra_val)} / "
          f"{sum(len(v) for _, v in extra_val)}  ({t_data:.1f}s)", flush=True)

    def weights(zs):
        w = np.array([len(z) for z in zs], dtype=np.float64)
        return w / w.sum()
    pools = [(z_synth_train, weights(z_synth_train), 1.0 - (EXTRA_CHUNK_SHARE if z_extra_train else 0.0))]
    if z_extra_train:
        pools.append((z_extra_train, weights(z_extra_train), EXTRA_CHUNK_SHARE))

    # ---- train ----------------------------------------------------------------------
    model = Forecaster(cell)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * min(s, args.steps) / args.steps))) / LR)
    loss_fn = nn.HuberLoss(reduction="none", delta=HUBER_DELTA)
    brng = np.random.default_rng([args.seed, 3])
    t_train0 = time.time()
    deadline = t_train0 + args.minutes * 60
    step = 0
    run = 0.0
    history = []
    model.train()
    while step < args.steps and time.time() < deadline:
        x, y, m = sample_batch(brng, pools)
        yhat, _ = model(x)
        loss = (loss_fn(yhat, y) * m).sum() / m.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        run = 0.98 * run + 0.02 * float(loss) if step > 1 else float(loss)
        if step % 250 == 0 or step == args.steps:
            el = time.time() - t_train0
            print(f"step {step}/{args.steps} loss(ewm)={run:.4f} lr={sched.get_last_lr()[0]:.2e} {el:.0f}s", flush=True)
            history.append({"step": step, "huber_ewm": round(run, 5), "seconds": round(el, 1)})
    train_seconds = time.time() - t_train0
    print(f"trained {step} steps in {train_seconds:.0f}s", flush=True)

    # ---- validate -------------------------------------------------------------------
    model.eval()
    val = {"synthetic": evaluate(model, z_synth_val)}
    if z_extra_val:
        val["extra"] = evaluate(model, z_extra_val)
        val["extra_train_files"] = evaluate(model, z_extra_train)   # in-sample, for reference
    for k, v in val.items():
        print(f"val[{k}]: {fmt(v)}", flush=True)

    # ---- export, verify, golden, manifest -------------------------------------------
    os.makedirs(os.path.join(args.out, "golden"), exist_ok=True)
    onnx_path = os.path.join(args.out, f"sensor-{cell}.onnx")
    step_mod, onnx_info = export_onnx(model, cell, onnx_path)
    golden, checks = verify_and_golden(model, step_mod, cell, args.seed, model_id, onnx_path)
    with open(os.path.join(args.out, "golden", f"sensor-{cell}.json"), "w") as fh:
        json.dump(golden, fh, indent=1)
        fh.write("\n")
    write_manifest(os.path.join(args.out, f"sensor-{cell}.yaml"), cell, args.seed)
    print(f"onnx: {onnx_info['bytes']} bytes, ops={onnx_info['ops']}", flush=True)
    print(f"checks: {checks}", flush=True)

    report = {
        "model_id": model_id, "version": VERSION, "cell": cell,
        "command": " ".join(["/usr/bin/python3", os.path.relpath(__file__)] + sys.argv[1:]),
        "seed": args.seed, "torch": torch.__version__, "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "hyper": {"hidden": HIDDEN, "chunk": CHUNK, "batch": BATCH, "lr": LR, "lr_min": LR_MIN,
                  "loss": f"huber(delta={HUBER_DELTA})", "skip": SKIP, "steps_planned": args.steps,
                  "steps_done": step, "minutes_cap": args.minutes, "grad_clip": 1.0,
                  "extra_chunk_share": EXTRA_CHUNK_SHARE if z_extra_train else 0.0},
        "data": {"synthetic_train_series": len(synth_train),
                 "synthetic_train_steps": int(sum(map(len, synth_train))),
                 "synthetic_val_series": len(synth_val),
                 "synthetic_val_steps": int(sum(map(len, synth_val))),
                 "data_extra_dir": args.data_extra,
                 "extra_train_files": [nm for nm, _ in extra_train],
                 "extra_val_files": [nm for nm, _ in extra_val],
                 "extra_columns_read": ["value"] if args.data_extra else [],
                 "labels_read": False},
        "train_seconds": round(train_seconds, 1), "data_seconds": round(t_data, 1),
        "total_seconds": round(time.time() - t0, 1),
        "validation_mse_z": val, "history": history,
        "onnx": onnx_info, "checks": checks,
    }
    with open(os.path.join(args.out, f"train-report-{cell}.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Replay a BIISC keypoint dump through the keypoint model and score clips as `engram bench pose` does.

    ./engram bench pose --clips ../shared/biisc/videos --threads 2 --keypoints-out /work/biisc-kp/dump.jsonl
    /usr/bin/python3 models/pose-activity/biisc_eval.py /work/biisc-kp/dump.jsonl [--onnx models/pose-activity/keypoint-gru.onnx] [--diagnose]

The dump (JSON lines, never committed: BIISC is research use only) holds every person's keypoint
record as the pipeline fed it to the model and every prediction the pipeline made. This script

1. checks the replay: steps the PyTorch model of train.py, with the weights read from the .onnx (GRU
   gates reordered), over each track's records in frame order from zero state, and compares it with the
   pipeline's predictions (1.0.0: the same top label on every frame, probabilities within ~1e-6);
2. scores clips with the Java rule (person = the longest track; walking when walk + run frames > stand
   frames; waving when the wave share > a threshold chosen leave-one-subject-out), and with the
   alternative rules below, each with 95 % Wilson intervals, overall and per side.

The travel gate (the pipeline's `travel:`, Travel.java) is applied to the replay as the pipeline applies it,
from each keypoint record's time and frame aspect ratio (dumps written before the dump had `aspect`:
give `--aspect`, for BIISC 480/290 = 1.655); `--travel-min-speed 0` replays the model alone.

Rules (clip level, over the person's frames):
  count:   walk + run top-label frames > stand frames (the bench's rule)
  meanp:   mean p(walk) + p(run) > mean p(stand)
  walk-share LOSO: walking when the share of walk + run (count: top labels; meanp: mean probability)
           is over a threshold chosen leave-one-subject-out on accuracy
Waving: share of wave top-labels (count) or mean p(wave) (meanp) > threshold chosen leave-one-subject-out
(on balanced accuracy, thresholds 0.00..0.95 step 0.05, as PoseClipScores; for meanp 0.00..0.95 step 0.01).
"""
import argparse
import json
import math
import os
import re
import sys
from collections import defaultdict

import numpy as np

LABELS = ["stand", "walk", "run", "wave", "sit_squat", "fall_lying", "other"]
NAME = re.compile(r"([A-Za-z0-9]+)_([A-Za-z]+)_([A-Za-z]+)_(STD|WLK)_(FCE|LFT|RGT)")


def load_dump(path):
    kp = defaultdict(list)      # (camera, track) -> [(seq, kp51, ts, aspect)]
    pred = defaultdict(list)    # (camera, track) -> [(seq, label, probs7)]
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            key = (r["camera"], int(r["track"]))
            if r["type"] == "kp":
                kp[key].append((int(r["seq"]), np.asarray(r["kp"], dtype=np.float32), int(r.get("ts", 0)), r.get("aspect")))
            else:
                pred[key].append((int(r["seq"]), r["label"], [r["probs"][l] for l in LABELS]))
    tracks, meta = {}, {}
    for key, rows in kp.items():
        rows.sort(key=lambda x: x[0])
        tracks[key] = (np.array([r[0] for r in rows]), np.stack([r[1] for r in rows]))
        meta[key] = (np.array([r[2] for r in rows]), np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float))
    preds = {}
    for key, rows in pred.items():
        rows.sort(key=lambda x: x[0])
        preds[key] = rows
    return tracks, preds, meta


# COCO-17 shoulders and hips, as the pipeline's Travel.java
L_SH, R_SH, L_HIP, R_HIP = 5, 6, 11, 12
MIN_OBS = 3


def travel_speeds(kp, ts, aspect, fov=60.0, tau_ms=1000.0, min_score=0.3):
    """The pipeline's travel measure (Travel.update), frame by frame: speed in torso lengths per second or nan."""
    out = np.full(len(kp), np.nan)
    f = 0.5 / np.tan(np.radians(fov) / 2)
    st = None
    for i in range(len(kp)):
        k, t, a = kp[i].astype(np.float64), int(ts[i]), float(aspect[i])
        if min(k[3 * j + 2] for j in (L_SH, R_SH, L_HIP, R_HIP)) >= min_score:
            hx = (k[3 * L_HIP] + k[3 * R_HIP]) / 2 * a
            hy = (k[3 * L_HIP + 1] + k[3 * R_HIP + 1]) / 2
            sx = (k[3 * L_SH] + k[3 * R_SH]) / 2 * a
            sy = (k[3 * L_SH + 1] + k[3 * R_SH + 1]) / 2
            torso = max(np.hypot(hx - sx, hy - sy), 1e-3)
            if st is None or t - st["t"] > 2 * tau_ms:
                st = dict(t=t, hx=hx, hy=hy, last=torso, torso=torso, vx=0.0, vy=0.0, vs=0.0, n=0)
                continue
            dt = (t - st["t"]) / 1000.0
            if dt > 0:
                w = 1 - np.exp(-dt * 1000.0 / tau_ms)
                st["vx"] += w * ((hx - st["hx"]) / st["torso"] / dt - st["vx"])
                st["vy"] += w * ((hy - st["hy"]) / st["torso"] / dt - st["vy"])
                st["vs"] += w * ((np.log(torso) - np.log(st["last"])) / dt - st["vs"])
                st["torso"] += w * (torso - st["torso"])
                st["n"] = min(st["n"] + 1, MIN_OBS)
            st.update(t=t, hx=hx, hy=hy, last=torso)
        if st is not None and st["n"] >= MIN_OBS:
            out[i] = np.hypot(np.hypot(st["vx"], st["vy"]), st["vs"] * f * a / st["torso"])
    return out


def travel_gate(probs, speed, min_speed=0.5):
    """The pipeline's gate (Travel.gate) on probs [T,7], a copy: travelling moves stand to walk; not travelling, walk and run to stand."""
    p = probs.copy()
    for i in range(len(p)):
        v = speed[i]
        if np.isnan(v):
            continue
        top = int(p[i].argmax())
        if v >= min_speed and top == 0:
            p[i, 1] += p[i, 0]
            p[i, 0] = 0
        elif v < min_speed and top in (1, 2):
            p[i, 0] += p[i, 1] + p[i, 2]
            p[i, 1] = p[i, 2] = 0
    return p


def wilson(k, n, z=1.96):
    if n == 0:
        return (float("nan"),) * 3
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return p, max(0.0, c - h), min(1.0, c + h)


def fmt(k, n):
    p, lo, hi = wilson(k, n)
    return f"{100 * p:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] ({k}/{n})"


class Binary:
    def __init__(self):
        self.tp = self.fn = self.fp = self.tn = 0

    def add(self, truth, decided):
        if truth:
            if decided:
                self.tp += 1
            else:
                self.fn += 1
        else:
            if decided:
                self.fp += 1
            else:
                self.tn += 1

    def ba(self):
        a = self.tp / max(self.tp + self.fn, 1)
        b = self.tn / max(self.tn + self.fp, 1)
        return 0.5 * (a + b)

    def f1(self):
        return 2 * self.tp / max(2 * self.tp + self.fp + self.fn, 1)

    def acc(self):
        return (self.tp + self.tn) / max(self.tp + self.tn + self.fp + self.fn, 1)

    def ba_interval(self):
        # as BinaryConfusion: mean of the two recalls' Wilson bounds
        a = wilson(self.tp, self.tp + self.fn)
        b = wilson(self.tn, self.tn + self.fp)
        return tuple(0.5 * (x + y) for x, y in zip(a, b))

    def text(self, pos, neg):
        n = self.tp + self.fn + self.fp + self.tn
        bl = self.ba_interval()
        return (f"{pos}: {self.tp} / {self.fn}   {neg}: {self.fp} / {self.tn}   (rows truth, columns decided {pos} / {neg}); "
                f"accuracy {fmt(self.tp + self.tn, n)}; balanced {100 * bl[0]:.1f}% [{100 * bl[1]:.1f}, {100 * bl[2]:.1f}]; "
                f"F1({pos}) {self.f1():.3f}")


def parse(cam):
    m = NAME.fullmatch(cam)
    return {"name": cam, "subject": m.group(1), "action": m.group(3), "walking": m.group(4) == "WLK", "side": m.group(5)}


def load_model(path):
    """The torch model of train.py with the weights of a keypoint-gru .onnx (gates reordered): train_refiner's reader."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import onnx
    import train as kg
    import train_refiner
    m = onnx.load(path)
    prev = [vi for vi in m.graph.input if vi.name == "prev"][0].type.tensor_type.shape.dim[1].dim_value
    decay = None
    if prev == 55 + kg.TRAVEL_N:               # --travel: the decay from the .onnx's metadata (train.py writes it)
        meta = {p.key: p.value for p in m.metadata_props}
        decay = float(meta.get("travel_decay", 0.8))
    elif prev != 55:
        raise SystemExit(f"{path}: prev size {prev} is neither 55 nor {55 + kg.TRAVEL_N}")
    kg.configure_travel(decay)
    if decay is not None:
        print(f"{path}: prev {prev}: --travel, decay {decay}")
    return train_refiner.load_forward(path)


def run_model(model, tracks):
    """Each track streamed alone from zero state, its records in frame order, as the pipeline does."""
    import torch
    out = {}
    with torch.no_grad():
        for key, (seqs, kp) in tracks.items():
            logits = model(torch.from_numpy(kp.reshape(len(kp), 1, -1)))[0][:, 0]
            out[key] = torch.softmax(logits, -1).numpy()
    return out


def run_torch(model_fn, tracks):
    """model_fn: kp [T,51] numpy -> probs [T,7] numpy (one stream from zero state)."""
    return {key: model_fn(kp) for key, (seqs, kp) in tracks.items()}


def clip_table(tracks, probs):
    """Per clip: the person's (longest track's) probs [T,7]."""
    by_cam = defaultdict(list)
    for key in tracks:
        by_cam[key[0]].append(key)
    clips = {}
    for cam, keys in by_cam.items():
        keys.sort(key=lambda k: (-len(tracks[k][0]), k[1]))
        clips[cam] = (probs[keys[0]], len(keys))
    return clips


def score(clips, all_cams, rule="count", verbose=True, thr_grid=None):
    """Returns dict of figures. all_cams: every clip name (clips without a person: no frames)."""
    rows = []
    for cam in sorted(all_cams):
        c = parse(cam)
        p = clips.get(cam, (np.zeros((0, 7)), 0))[0]
        if len(p) == 0:
            walk, wave, wshare = False, 0.0, 0.0
        elif rule == "count":
            top = p.argmax(1)
            walk = ((top == 1) | (top == 2)).sum() > (top == 0).sum()
            wave = float((top == 3).mean())
            wshare = float(((top == 1) | (top == 2)).mean())
        else:
            m = p.mean(0)
            walk = m[1] + m[2] > m[0]
            wave = float(m[3])
            wshare = float(m[1] + m[2])
        rows.append((c, walk, wave, wshare))
    grid = thr_grid if thr_grid is not None else [i * 0.05 for i in range(20)]

    def wave_conf(rs, t):
        b = Binary()
        for c, _, w, _ in rs:
            b.add(c["action"] == "WAVE", w > t)
        return b

    def best(rs):
        bt, bb = grid[0], -1
        for t in grid:
            v = wave_conf(rs, t).ba()
            if v > bb + 1e-12:
                bb, bt = v, t
        return bt

    subjects = sorted({r[0]["subject"] for r in rows})
    thr = {s: best([r for r in rows if r[0]["subject"] != s]) for s in subjects}

    def walk_best(rs):       # walking when the walk (+ run) share > t: t with the best accuracy (ties: lowest)
        bt, bb = 0.0, -1
        for t in [i / 100 for i in range(100)]:
            v = sum((r[3] > t) == r[0]["walking"] for r in rs)
            if v > bb:
                bb, bt = v, t
        return bt
    wthr = {s: walk_best([r for r in rows if r[0]["subject"] != s]) for s in subjects}
    res = {}
    for side in (None, "FCE", "LFT", "RGT"):
        rs = [r for r in rows if side is None or r[0]["side"] == side]
        sw = Binary()
        sl = Binary()
        wv = Binary()
        for c, walk, w, ws in rs:
            sw.add(c["walking"], walk)
            sl.add(c["walking"], ws > wthr[c["subject"]])
            wv.add(c["action"] == "WAVE", w > thr[c["subject"]])
        res[side or "all"] = (sw, wv, sl)
        if verbose:
            print(f"  [{side or 'all'}] stand/walk {sw.text('walking', 'standing')}")
            print(f"  [{side or 'all'}] walk-share LOSO {sl.text('walking', 'standing')}")
            print(f"  [{side or 'all'}] wave LOSO  {wv.text('wave', 'other')}")
    if verbose:
        print(f"  wave thresholds {thr}")
        print(f"  walk-share thresholds {wthr}")
    return res, rows, thr


def diagnose(tracks, cams):
    """Numbers behind standing vs walking: per clip person's centre speed (torso lengths / frame),
    |log scale change| per frame, share of frames with knees / ankles seen, tracks per clip, and the
    person's share of the clip's records; medians by (STD|WLK, side)."""
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import train as kg
    feat = kg.KeypointFeatures()
    by_cam = defaultdict(list)
    for key in tracks:
        by_cam[key[0]].append(key)
    stats = defaultdict(list)
    for cam, keys in by_cam.items():
        c = parse(cam)
        keys.sort(key=lambda k: (-len(tracks[k][0]), k[1]))
        seqs, kp = tracks[keys[0]]
        prev = torch.zeros(1, kg.PREV)
        f = []
        with torch.no_grad():
            for t in range(len(kp)):
                x, prev = feat(torch.from_numpy(kp[t:t + 1]), prev)
                f.append(x[0].numpy())
        f = np.array(f)
        sc = kp.reshape(-1, 17, 3)[..., 2]
        g = (("WLK" if c["walking"] else "STD"), c["side"])
        stats[g].append((np.abs(f[1:, 85:87]).sum(1).mean() if len(f) > 1 else 0, np.abs(f[1:, 87]).mean() if len(f) > 1 else 0,
                         (sc[:, 13:15] >= 0.15).mean(), (sc[:, 15:17] >= 0.15).mean(), len(keys),
                         len(seqs) / sum(len(tracks[k][0]) for k in keys)))
    print("group     clips  centre-speed  |dlogscale|  knees-seen  ankles-seen  tracks  person-share   (medians)")
    for g in sorted(stats):
        a = np.array(stats[g])
        print(f"{g[0]} {g[1]}   {len(a):4d}   " + "   ".join(f"{v:9.3f}" for v in np.median(a, 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump")
    ap.add_argument("--onnx", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "keypoint-gru.onnx"))
    ap.add_argument("--diagnose", action="store_true", help="also print the stand/walk numbers by group")
    ap.add_argument("--travel-min-speed", type=float, default=0.5, help="the travel gate's travel.min_speed (0: off), as the pipeline")
    ap.add_argument("--fov", type=float, default=60.0, help="travel.field_of_view_deg")
    ap.add_argument("--tau-ms", type=float, default=1000.0, help="travel.time_constant_ms")
    ap.add_argument("--aspect", type=float, default=None,
                    help="frame width / height for dumps written before the dump had it (BIISC: 480/290); default: the dump's, else 1")
    args = ap.parse_args()
    tracks, preds, meta = load_dump(args.dump)
    if args.diagnose:
        diagnose(tracks, {k[0] for k in tracks})
    cams = {k[0] for k in preds} | {k[0] for k in tracks}
    print(f"{len(cams)} clips, {len(tracks)} tracks, {sum(len(v[0]) for v in tracks.values())} keypoint records, "
          f"{sum(len(v) for v in preds.values())} predictions")
    # pipeline's own predictions -> probs per track (sanity)
    pipe = {k: np.array([r[2] for r in v]) for k, v in preds.items()}
    print("pipeline's predictions, count rule:")
    score(clip_table(tracks, pipe), cams)
    probs = run_model(load_model(args.onnx), tracks)
    if args.travel_min_speed > 0:
        for k in probs:
            ts, asp = meta[k]
            asp = np.where(np.isnan(asp), args.aspect if args.aspect else 1.0, asp) if args.aspect is None else np.full(len(ts), args.aspect)
            probs[k] = travel_gate(probs[k], travel_speeds(tracks[k][1], ts, asp, args.fov, args.tau_ms), args.travel_min_speed)
        print(f"travel gate on: min_speed {args.travel_min_speed}, field of view {args.fov} deg, time constant {args.tau_ms:.0f} ms")
    agree = sum(int((probs[k].argmax(1) == pipe[k].argmax(1)).sum()) for k in probs if k in pipe)
    n = sum(len(probs[k]) for k in probs if k in pipe)
    diff = max(float(np.abs(probs[k] - pipe[k]).max()) for k in probs if k in pipe and len(pipe[k]) == len(probs[k]))
    print(f"replay of {args.onnx}: top label agrees with the pipeline on {agree}/{n} frames; max prob diff {diff:.2e}")
    for rule in ("count", "meanp"):
        print(f"replay, rule {rule}:")
        score(clip_table(tracks, probs), cams, rule, thr_grid=None if rule == "count" else [i / 100 for i in range(96)])


if __name__ == "__main__":
    main()

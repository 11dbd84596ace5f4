#!/usr/bin/env python3
"""Train, export and document Engram's keypoint activity model (keypoint-gru).

    /usr/bin/python3 models/pose-activity/train.py [--seed 42] [--minutes M] [--mine-stand] [--compose] [--standardise] [--leg-atten] [--compare ONNX] [--out DIR]

Without options: the released 1.2.0 (--mine-stand --compose --standardise --leg-atten, all on by default).
--no-standardise --no-leg-atten: 1.1.0; with --no-mine-stand --no-compose as well: 1.0.0.

A GRU over one tracked person's pose keypoints, stepped once per frame (docs/model-contract.md,
"Sequence classifiers"). Per frame the ONNX step model takes the keypoints exactly as the pose
stage gives them, normalised only by the frame size: kp [N, 51] = 17 COCO keypoints x
(x / width, y / height, score). Everything else happens inside the graph (KeypointFeatures):

- a point counts as seen when its score >= SEEN_SCORE; unseen points are 0 after normalisation;
- centre: the mid-point of the seen hips (else the mean of the seen points); scale: the torso
  length, shoulder-mid to hip-mid, with a floor of 0.35 x the seen points' extent and of 0.02;
- features: normalised positions (34), score x seen (17), velocities = normalised positions minus
  the previous frame's, where the point is seen in both (34), the centre's velocity in torso units
  (2) and the log change of the scale (1): 88 in all (1.2.0: trained with every feature scaled to unit
  std over the training frames, the scale then folded into the GRU's input weights: the exported
  graph's features are 1.1.0's);
- the previous frame (normalised positions, seen flags, centre, log scale, a seen flag: 55 floats)
  is the second state pair prev -> prev_out; a frame with no seen point keeps the previous one;
  on the first frame (prev = 0, whose seen flag is 0) the velocities are 0.

Data (see MODEL_CARD.md): ../shared/mocap-cmu (real 3D motion capture, projected through random
virtual cameras with the pose model's kind of noise, 10..30 fps), ../shared/pose-keypoints (real
2D OpenPose keypoints), and synthetic 'lying' only (standing poses of pose-keypoints laid down);
1.2.0 also scales the knees' and ankles' swing about the hips in half of the walk / run segments
(--leg-atten, modified real motion, reported as '+legs' in the frames by source).
Held out: whole CMU subjects (HELD_SUBJECTS) and the last quarter of every pose-keypoints class.

--travel [--travel-decay D] (experiment, i19-travel; off by default, the released layout unchanged): EMAs
(decay D per frame, from 0) of the centre velocity (2), its magnitude (1), the log scale change (1) and the
knees' / ankles' mean |velocity| (1) are computed in the graph, carried in prev (55 -> 60; the decay is in the
.onnx's metadata, key travel_decay, which biisc_eval.py reads) and appended to the features (88 -> 93).

Writes keypoint-gru.onnx, keypoint-gru.yaml, golden/keypoint-gru.json, train-report.json.
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
import kpdata as K  # noqa: E402

MODEL_ID = "keypoint-gru"
VERSION = "1.2.0"  # 1.1.0 with --no-standardise --no-leg-atten; 1.0.0 with those and --no-mine-stand --no-compose
LABELS = ["stand", "walk", "run", "wave", "sit_squat", "fall_lying", "other"]
NCLS = len(LABELS)
L = {n: i for i, n in enumerate(LABELS)}
KP = 17
IN = KP * 3                  # 51
FEAT = 34 + 17 + 34 + 2 + 1  # 88
PREV = 34 + 17 + 2 + 1 + 1   # 55
# --travel (experiment, i19-travel): longer-horizon travel features computed in the graph and carried in prev:
# exponential moving averages (decay TRAVEL_DECAY per frame, starting at 0) of the centre's velocity in torso
# lengths (2), of its magnitude (1), of the log scale change (1) and of the knees' and ankles' mean absolute
# velocity (1); appended to the features (FEAT 93) and to prev (PREV 60). None: off (the released layout).
TRAVEL_DECAY = None
TRAVEL_N = 5
HIDDEN = 64
OPSET = 17
SEEN_SCORE = 0.15
POSE_MODEL = "movenet-multipose-lightning"

HELD_SUBJECTS = (3, 6)       # CMU subjects held out whole
HELD_FRACTION = 0.25         # last quarter of every pose-keypoints class block
CMU_VIEWS_TRAIN = 14         # random cameras per training trial
CMU_VIEWS_EVAL = 4
# Tried on BIISC and left off (they did not make frontal walkers 'walk' and cost side-view accuracy; MODEL_CARD.md):
NOISE_LEVEL = None           # e.g. (0.25, 1.0): per CMU view, a random factor on kpdata.pose_noise's level (None: 1)
CMU_VIEWS_AHEAD = 0          # extra views of each training walk with the camera ahead of or behind the walker (+-30 deg):
                             # walking toward / away from the camera, where only the scale changes
STREAM_T, N_STREAMS, BATCH = 160, 2400, 32
LR, LR_MIN = 4e-3, 2e-4
SKIP_AFTER_CHANGE = 3
EVAL_SKIP = 8                # evaluation scores frames >= 8 after a stream's start / label change


def configure_travel(decay):
    """Sets the module's layout: decay None = the released 88 features / 55 prev; else --travel."""
    global TRAVEL_DECAY, FEAT, PREV
    TRAVEL_DECAY = None if decay is None else float(decay)
    extra = 0 if decay is None else TRAVEL_N
    FEAT = 34 + 17 + 34 + 2 + 1 + extra
    PREV = 34 + 17 + 2 + 1 + 1 + extra


def cmu_label(subject, trial, desc):
    d = desc.lower()
    if d.startswith("walk") or d in ("slow walk", "brisk walk"):
        return "walk"
    if d.startswith("run"):
        return "run"
    return "other"                         # jumps, playground, dance, basketball, swordplay, ...


PK_LABEL = {"stand": "stand", "walk": "walk", "wave": "wave", "squat": "sit_squat",
            "2": "other", "3": "fall_lying", "4": "run"}   # '0'/'1' duplicate stand/walk (checked)


# =====================================================================================
# In-graph normalisation + model
# =====================================================================================
class KeypointFeatures(nn.Module):
    """kp [B,51], prev [B,55] -> features [B,88], prev_out [B,55] (see the module doc);
    with --travel (TRAVEL_DECAY set when built): prev [B,60] -> features [B,93], prev_out [B,60]."""

    def __init__(self):
        super().__init__()
        self.travel = TRAVEL_DECAY

    def forward(self, kp, prev):
        k = kp.reshape(-1, KP, 3)
        xy, s = k[..., 0:2], k[..., 2]
        seen = (s >= SEEN_SCORE).to(kp.dtype)                            # [B,17]
        sw = seen.unsqueeze(-1)
        n_all = seen.sum(1, keepdim=True)
        cen_all = (xy * sw).sum(1) / n_all.clamp(min=1.0)
        hw = seen[:, 11:13].unsqueeze(-1)
        n_hip = hw.sum(1)
        hip = (xy[:, 11:13] * hw).sum(1) / n_hip.clamp(min=1.0)
        shw = seen[:, 5:7].unsqueeze(-1)
        n_sho = shw.sum(1)
        sho = (xy[:, 5:7] * shw).sum(1) / n_sho.clamp(min=1.0)
        has_hip = (n_hip > 0).to(kp.dtype)
        centre = has_hip * hip + (1 - has_hip) * cen_all                   # [B,2]
        torso = torch.sqrt(((sho - hip) ** 2).sum(1, keepdim=True) + 1e-12) * has_hip * (n_sho > 0).to(kp.dtype)
        big = 10.0
        hi = (xy - big * (1 - sw)).amax(1)                                 # max over seen points
        lo = (xy + big * (1 - sw)).amin(1)
        ext = (hi - lo).clamp(min=0.0).amax(1, keepdim=True) * (n_all > 0).to(kp.dtype)
        scale = torch.maximum(torch.maximum(torso, 0.35 * ext), torch.full_like(torso, 0.02))
        pos = ((xy - centre.unsqueeze(1)) / scale.unsqueeze(1)).clamp(-5.0, 5.0) * sw   # [B,17,2]
        pos = pos.reshape(-1, 34)
        lsc = torch.log(scale)
        any_seen = (n_all > 0).to(kp.dtype)                               # [B,1]
        p_pos, p_seen, p_cen, p_lsc, p_any = prev[:, 0:34], prev[:, 34:51], prev[:, 51:53], prev[:, 53:54], prev[:, 54:55]
        both = seen * p_seen                                              # [B,17]
        vel = ((pos - p_pos).reshape(-1, KP, 2) * both.unsqueeze(-1)).reshape(-1, 34).clamp(-3.0, 3.0)
        okc = any_seen * p_any
        cvel = ((centre - p_cen) / scale * okc).clamp(-3.0, 3.0)
        dsc = ((lsc - p_lsc) * okc).clamp(-1.0, 1.0)
        feats = torch.cat([pos, s * seen, vel, cvel, dsc], 1)
        new = torch.cat([pos, seen, centre, lsc, any_seen], 1)
        if self.travel is not None:           # EMAs, updated only where the quantity is measured (else carried)
            d = self.travel
            e = prev[:, 55:55 + TRAVEL_N]
            cspd = torch.sqrt((cvel ** 2).sum(1, keepdim=True) + 1e-12) * okc
            legs = both[:, 13:17]
            nleg = legs.sum(1, keepdim=True)
            lvel = vel[:, 26:34].abs().sum(1, keepdim=True) / (2.0 * nleg).clamp(min=1.0)
            okl = okc * (nleg > 0).to(kp.dtype)
            x = torch.cat([cvel, cspd, dsc, lvel], 1)
            ok = torch.cat([okc, okc, okc, okc, okl], 1)
            e_new = ok * (d * e + (1 - d) * x) + (1 - ok) * e
            feats = torch.cat([feats, e_new], 1)
            new = torch.cat([new, e_new], 1)
        prev_out = any_seen * new + (1 - any_seen) * prev
        return feats, prev_out


class KeypointGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.feat = KeypointFeatures()
        self.rnn = nn.GRU(FEAT, HIDDEN)
        self.head = nn.Linear(HIDDEN, NCLS)
        self.drop = nn.Dropout(0.1)
        self.register_buffer("in_scale", torch.ones(FEAT))    # --standardise: 1 / the features' std while training; folded into the GRU

    def fold_scale(self):
        """Folds in_scale into the GRU's input weights (W_ih x diag(in_scale)) and sets it to 1: the
        same function, with the features (and the exported graph's normalisation) as in 1.1.0."""
        with torch.no_grad():
            self.rnn.weight_ih_l0.mul_(self.in_scale[None, :])
            self.in_scale.fill_(1.0)

    def features(self, kp, prev=None):
        """kp [T,B,51] -> features [T,B,88], last prev."""
        if prev is None:
            prev = torch.zeros(kp.shape[1], PREV)
        out = []
        for t in range(kp.shape[0]):
            f, prev = self.feat(kp[t], prev)
            out.append(f)
        return torch.stack(out), prev

    def forward(self, kp, h=None, prev=None):      # [T,B,51] -> logits [T,B,C], h_n, prev
        f, prev = self.features(kp, prev)
        out, hn = self.rnn(self.drop(f * self.in_scale), h)
        return self.head(out), hn, prev


class KeypointStep(nn.Module):
    """The exported step: kp [B,51], h [B,64], prev [B,55] -> probs [B,7], h_out, prev_out."""

    def __init__(self, m):
        super().__init__()
        self.feat, self.rnn, self.head = m.feat, m.rnn, m.head

    def forward(self, kp, h, prev):
        f, prev_out = self.feat(kp, prev)
        out, hn = self.rnn(f.unsqueeze(0), h.unsqueeze(0))
        return torch.softmax(self.head(out[0]), dim=-1), hn[0], prev_out


# =====================================================================================
# Data
# =====================================================================================
STILL_SPEED = 0.25           # m/s: a CMU 'other' frame is standing when its hips move slower (over 1 s) ...
STILL_UPRIGHT = 0.85         # ... and the hips are at least this share of the trial's standing hip height
STILL_MIN_S = 1.5            # a standing run must last this long (s) to be used


def still_runs(world, fps):
    """Runs [(start, end)] of frames of a CMU trial where the person stands in place (upright, hips
    nearly still): the trial's other frames stay 'other'. Real motion (arms, head, weight shifts)."""
    ua, us = K.up_axis(world)
    hz = us * world[:, 11:13, ua].mean(1) / 100.0                           # hip height, m (up to an offset)
    ground = np.percentile(us * world[:, 15:17, ua].min(1) / 100.0, 2)
    h = hz - ground
    upright = h >= STILL_UPRIGHT * np.percentile(h, 90)
    others = [a for a in range(3) if a != ua]
    hip = world[:, 11:13][:, :, others].mean(1) / 100.0                    # horizontal hip position, m
    w = max(1, int(round(fps * 0.5)))
    spd = np.zeros(len(world))
    for t in range(len(world)):
        a, b = max(0, t - w), min(len(world) - 1, t + w)
        spd[t] = np.linalg.norm(hip[b] - hip[a]) / max((b - a) / fps, 1e-6)
    still = upright & (spd < STILL_SPEED)
    runs, t = [], 0
    while t < len(still):
        if still[t]:
            e = t
            while e < len(still) and still[e]:
                e += 1
            if e - t >= STILL_MIN_S * fps:
                runs.append((t, e))
            t = e
        else:
            t += 1
    return runs


def split_still(world, runs, min_len):
    """The complement of runs, as runs of at least min_len frames."""
    out, t = [], 0
    for a, b in runs + [(len(world), len(world))]:
        if a - t >= min_len:
            out.append((t, a))
        t = b
    return out


def load_sources(seed, mine_stand=False, installed=0.0):
    """Pools of (label, kp [T,17,3], source, fps_or_None) for training and held-out evaluation.
    installed: share of the CMU views from a high camera (kpdata.INSTALLED_H), drawn with their own rng."""
    rng = np.random.default_rng([seed, 1])
    irng = np.random.default_rng([seed, 6])
    train, held = [], []
    counts = {"cmu": {}, "pose_keypoints": {}}
    for s, t, desc, path in K.cmu_trials():
        world, fps = K.cmu_coco17(path)
        lab = cmu_label(s, t, desc)
        is_held = s in HELD_SUBJECTS
        key = f"{s:02d}_{t:02d}"
        counts["cmu"][key] = {"desc": desc, "label": lab, "frames": int(len(world)), "fps": round(fps, 2),
                              "held_out": is_held}
        parts = [(lab, world)]
        if mine_stand and lab == "other" and s != 1:   # the standing-in-place stretches of 'other' trials are 'stand' (any camera);
            # subject 1 is playground climbing (sitting on bars looks 'upright' to still_runs): not mined
            runs = still_runs(world, fps)
            parts = [("stand", world[a:b]) for a, b in runs] + [("other", world[a:b]) for a, b in split_still(world, runs, int(fps))]
            counts["cmu"][key]["stand_frames"] = int(sum(b - a for a, b in runs))
        for plab, pw in parts:
            for v in range(CMU_VIEWS_EVAL if is_held else CMU_VIEWS_TRAIN):
                kp, vfps = K.cmu_stream(pw, fps, rng, level=float(rng.uniform(*NOISE_LEVEL)) if NOISE_LEVEL else 1.0,
                                        installed=bool(installed) and irng.random() < installed)
                (held if is_held else train).append((plab, kp, f"cmu:{key}", vfps))
            if plab in ("walk", "run") and CMU_VIEWS_AHEAD:
                hd = K.heading(pw)
                for v in range(2 if is_held else CMU_VIEWS_AHEAD):
                    yaw = hd + (np.pi if v % 2 else 0.0) + rng.uniform(-np.pi / 6, np.pi / 6)
                    kp, vfps = K.cmu_stream(pw, fps, rng, level=float(rng.uniform(*NOISE_LEVEL)) if NOISE_LEVEL else 1.0, yaw=yaw,
                                            installed=bool(installed) and irng.random() < installed)
                    (held if is_held else train).append((plab, kp, f"cmu:{key}", vfps))
    a, la = K.read_pose_keypoints("stand-walk-wave-squat.csv")
    b, lb = K.read_pose_keypoints("stand-walk-operate-fall.csv")
    assert np.array_equal(a[:1466], b[:1466]) and la[:1466] == ["stand"] * 744 + ["walk"] * 722
    for kp, labs, skip in ((a, la, set()), (b, lb, {"0", "1"})):
        for name, s0, e0 in K.blocks(labs):
            if name in skip:
                continue
            lab = PK_LABEL[name]
            cut = s0 + int(round((e0 - s0) * (1 - HELD_FRACTION)))
            train.append((lab, kp[s0:cut], f"pk:{name}", None))
            held.append((lab, kp[cut:e0], f"pk:{name}", None))
            counts["pose_keypoints"][name] = {"label": lab, "frames": e0 - s0, "train": cut - s0, "held_out": e0 - cut}
    return train, held, counts


def flip_lr(kp):
    idx = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    out = kp[:, idx].copy()
    seen = out[..., 2] > 0
    out[..., 0] = np.where(seen, 1.0 - out[..., 0], 0.0)
    return out


def augment_pk(kp, rng):
    """Random time stretch, affine placement in the frame, flip, scores and missed points for a
    pose-keypoints segment (which has no scores, frame rate or frame size)."""
    T = len(kp)
    f = rng.uniform(0.6, 1.6)                                   # unknown source fps
    tt = np.arange(0, T - 1, f) if T > 1 else np.zeros(1)
    i0 = np.floor(tt).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (tt - i0)[:, None]
    a, b = kp[i0], kp[i1]
    both = (a[..., 2] > 0) & (b[..., 2] > 0)
    xy = np.where(both[..., None], a[..., :2] * (1 - w[..., None]) + b[..., :2] * w[..., None], a[..., :2])
    seen = a[..., 2] > 0
    if rng.random() < 0.5:
        tmp = np.concatenate([xy, seen[..., None]], -1).astype(np.float32)
        tmp = flip_lr(tmp)
        xy, seen = tmp[..., :2], tmp[..., 2] > 0
    sc = rng.uniform(0.4, 1.6)
    sx, sy = sc * rng.uniform(0.8, 1.25), sc
    c = np.array([0.5, 0.6])
    xy = (xy - c) * [sx, sy] + c + rng.uniform(-0.3, 0.3, 2)
    size = max(0.05, sy * 0.5)
    xy = xy + rng.standard_normal(xy.shape) * rng.uniform(0.0, 0.015) * size
    vis = (xy[..., 0] >= 0) & (xy[..., 0] < 1) & (xy[..., 1] >= 0) & (xy[..., 1] < 1)
    seen = seen & vis & (rng.random(seen.shape) >= rng.uniform(0, 0.08))
    if rng.random() < 0.5:
        seen[rng.random(len(seen)) < rng.uniform(0, 0.05)] = False
    score = np.clip(rng.uniform(0.35, 0.9) + 0.15 * rng.standard_normal(seen.shape), SEEN_SCORE, 0.99)
    out = np.zeros((len(xy), KP, 3), dtype=np.float32)
    out[..., :2] = np.where(seen[..., None], xy, 0.0)
    out[..., 2] = np.where(seen, score, 0.0)
    return out


def synth_lying(stand_kp, rng, T):
    """SYNTHETIC 'lying': a standing pose of pose-keypoints laid down (rotated 65..115 degrees about
    its hips), nearly still, with small jitter and breathing-like drift."""
    fr = stand_kp[rng.integers(len(stand_kp))].copy()
    seen = fr[:, 2] > 0
    hip = fr[11:13, :2].mean(0)
    ang = np.radians(rng.uniform(65, 115) * (1 if rng.random() < 0.5 else -1))
    R = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    xy = (fr[:, :2] - hip) @ R.T
    # knees a little bent sometimes
    kp = np.zeros((T, KP, 3), dtype=np.float32)
    drift = np.cumsum(rng.standard_normal((T, 1, 2)) * 0.002, 0)
    base = xy + np.array([rng.uniform(0.3, 0.7), rng.uniform(0.5, 0.85)])
    xyt = base[None] + drift + rng.standard_normal((T, KP, 2)) * 0.004
    kp[..., :2] = np.where(seen[None, :, None], xyt, 0.0)
    kp[..., 2] = seen[None] * 1.0
    return kp


CMU_FIRST = {}               # e.g. {"stand": 0.7, "walk": 0.7}: odds of a CMU segment rather than pose-keypoints' (else even)


def sample_segment(pool_by_label, lab, n, rng, stand_train):
    """A segment of the label with n frames (or fewer if its source is shorter)."""
    if lab == "fall_lying" and rng.random() < 0.3:
        return augment_pk(synth_lying(stand_train, rng, n), rng)[:n], "synthetic:lying"
    items = pool_by_label[lab]
    # sources: pose-keypoints and CMU, weighted by CMU_FIRST (else equally) where both exist
    kinds = sorted({src.split(":")[0] for _, _, src, _ in items})
    if len(kinds) == 2 and lab in CMU_FIRST:
        kind = "cmu" if rng.random() < CMU_FIRST[lab] else "pk"
    else:
        kind = kinds[rng.integers(len(kinds))]
    cand = [it for it in items if it[2].startswith(kind)]
    _, kp, src, fps = cand[rng.integers(len(cand))]
    if kind == "pk":
        m = min(len(kp), int(n * rng.uniform(0.6, 1.6)) + 2)
        s = rng.integers(0, len(kp) - m + 1)
        seg = augment_pk(kp[s:s + m], rng)
    else:
        if rng.random() < 0.5:
            kp = flip_lr(kp)
        seg = kp
    m = min(len(seg), n)
    s = rng.integers(0, len(seg) - m + 1)
    return seg[s:s + m], src


LEGS = [13, 14, 15, 16]       # knees, ankles (COCO-17)
LEG_ATTEN = (0.5, 0.15, 1.0)  # --leg-atten: share of walk / run segments whose legs' swing is scaled, factor range


def attenuate_legs(seg, rng, lo, hi):
    """The knees' and ankles' motion relative to the hips scaled by one random factor in [lo, hi):
    each point, in torso lengths from the hip mid-point, is pulled toward its mean over the segment;
    the body's travel (hips, torso, arms, head) is unchanged. A walker coming toward a camera (or a
    short-legged, slow, low-resolution one) swings its legs little in the image but still travels:
    walking must then be read from the travel too. Frames where the hips, shoulders or the point are
    not seen keep the point as it was."""
    _, tor = _torso(seg)
    hip = seg[:, 11:13, :2].mean(1)
    out = seg.copy()
    a = rng.uniform(lo, hi)
    for j in LEGS:
        ok = (tor > 0) & (seg[:, j, 2] > 0)
        if ok.sum() < 2:
            continue
        rel = (seg[:, j, :2] - hip) / np.maximum(tor, 1e-6)[:, None]
        mean = rel[ok].mean(0)
        xy = hip + (mean + a * (rel - mean)) * tor[:, None]
        out[:, j, :2] = np.where(ok[:, None], xy, seg[:, j, :2])
    return out


ARMS = [7, 8, 9, 10]          # elbows, wrists (COCO-17): what an arm donor gives a composite
P_COMPOSE = 0.6              # share of stand / walk segments whose arms come from another sequence
WAVE_MIX = 0.5               # a composite with waving arms: target = (1 - WAVE_MIX) x body's label + WAVE_MIX x wave


def _torso(kp):
    """Per frame shoulder mid-point [T,2], torso length [T] (0 where shoulders or hips are not seen)."""
    s = kp[..., 2] > 0
    ok = s[:, 5] & s[:, 6] & s[:, 11] & s[:, 12]
    sho = kp[:, 5:7, :2].mean(1)
    hip = kp[:, 11:13, :2].mean(1)
    return kp[:, 5:7, :2], np.where(ok, np.linalg.norm(sho - hip, axis=1), 0.0)


def compose_arms(body, donor, rng):
    """The arms (elbows, wrists) of donor moved onto body: each arm point relative to its side's
    shoulder in torso lengths, placed at body's shoulder scaled by body's torso. Donor time-warped to
    body's length. Frames where either torso is unknown keep body's arms missed (score 0)."""
    T = len(body)
    d = donor[np.round(np.linspace(0, len(donor) - 1, T)).astype(int)]
    if rng.random() < 0.5:
        d = flip_lr(d)
    bs, bt = _torso(body)
    ds, dt = _torso(d)
    ok = (bt > 0) & (dt > 0)
    out = body.copy()
    for j, side in ((7, 0), (9, 0), (8, 1), (10, 1)):
        seen = ok & (d[:, j, 2] > 0) & (body[:, 5 + side, 2] > 0)
        rel = (d[:, j, :2] - ds[:, side]) / np.maximum(dt, 1e-6)[:, None]
        xy = bs[:, side] + rel * bt[:, None]
        out[:, j, :2] = np.where(seen[:, None], xy, 0.0)
        sc = body[:, j, 2] if body[:, j, 2].max() > 0 else np.full(T, 0.6, np.float32)
        out[:, j, 2] = np.where(seen, np.maximum(sc, SEEN_SCORE), 0.0)
    return out


def make_streams(pool, rng, n, T, compose=True, leg_atten=False, arng=None):
    by = {l: [] for l in LABELS}
    for it in pool:
        by[it[0]].append(it)
    stand_train = np.concatenate([it[1] for it in pool if it[2] == "pk:stand"])
    donors = {"wave": [it for it in pool if it[0] == "wave"],
              "arms": [it for it in pool if it[0] == "other" or it[2] in ("pk:stand", "pk:walk")]}
    X = np.zeros((n, T, IN), dtype=np.float32)
    Y = np.zeros((n, T), dtype=np.int64)
    P = np.zeros((n, T, NCLS), dtype=np.float32)           # soft targets
    M = np.zeros((n, T), dtype=np.float32)
    used = {}
    for i in range(n):
        t = 0
        prev = None
        while t < T:
            lab = LABELS[rng.integers(NCLS)]
            if lab == prev:
                continue
            want = int(rng.integers(24, 112))
            seg, src = sample_segment(by, lab, min(want, T - t), rng, stand_train)
            m = len(seg)
            if m < 8 and t + m < T:
                continue
            target = np.eye(NCLS, dtype=np.float32)[L[lab]]
            if leg_atten and lab in ("walk", "run") and arng.random() < LEG_ATTEN[0]:   # own rng: the other draws stay as in 1.1.0
                seg = attenuate_legs(seg, arng, LEG_ATTEN[1], LEG_ATTEN[2])
                src = src + "+legs"
            if compose and lab in ("stand", "walk") and rng.random() < P_COMPOSE:
                kind = "wave" if rng.random() < 1 / 3 else "arms"
                _, dkp, dsrc, _ = donors[kind][rng.integers(len(donors[kind]))]
                if dsrc.startswith("pk:"):
                    dm = min(len(dkp), int(m * rng.uniform(0.6, 1.6)) + 2)
                    ds0 = rng.integers(0, len(dkp) - dm + 1)
                    dkp = dkp[ds0:ds0 + dm]
                else:
                    dm = min(len(dkp), m)
                    ds0 = rng.integers(0, len(dkp) - dm + 1)
                    dkp = dkp[ds0:ds0 + dm]
                seg = compose_arms(seg, dkp, rng)
                if kind == "wave":
                    target = (1 - WAVE_MIX) * target + WAVE_MIX * np.eye(NCLS, dtype=np.float32)[L["wave"]]
                src = src + "+arms"
            X[i, t:t + m] = seg.reshape(m, IN)
            Y[i, t:t + m] = L[lab]
            P[i, t:t + m] = target
            M[i, t + SKIP_AFTER_CHANGE:t + m] = 1.0
            k = src.split(":")[0] + ("+legs" if "+legs" in src else "") + ("+arms" if src.endswith("+arms") else "")
            used[k] = used.get(k, 0) + m
            t += m
            prev = lab
    return X, Y, P, M, used


# =====================================================================================
# Evaluation
# =====================================================================================
@torch.no_grad()
def evaluate(model, held):
    """Each held-out item streamed alone from zero state; frames >= EVAL_SKIP scored."""
    model.eval()
    conf = np.zeros((NCLS, NCLS), dtype=np.int64)
    per_source = {}
    for lab, kp, src, _ in held:
        logits = model(torch.from_numpy(kp.reshape(len(kp), 1, IN)))[0][:, 0]
        pred = logits.argmax(-1).numpy()[EVAL_SKIP:]
        y = L[lab]
        np.add.at(conf, (np.full(len(pred), y), pred), 1)
        ps = per_source.setdefault(src.split(":")[0] + ":" + lab, [0, 0])
        ps[0] += int((pred == y).sum())
        ps[1] += len(pred)
    acc = float(np.trace(conf) / max(conf.sum(), 1))
    rec = {l: round(float(conf[i, i] / max(conf[i].sum(), 1)), 4) for i, l in enumerate(LABELS)}
    return {"accuracy": round(acc, 4), "frames_scored": int(conf.sum()), "per_class_recall": rec,
            "confusion": conf.tolist(),
            "per_source": {k: {"acc": round(v[0] / max(v[1], 1), 4), "frames": v[1]} for k, v in sorted(per_source.items())}}


# =====================================================================================
# Export, goldens
# =====================================================================================
def export_onnx(model, path):
    import onnx
    step = KeypointStep(model).eval()
    ins, outs = ["kp", "h", "prev"], ["probs", "h_out", "prev_out"]
    torch.onnx.export(step, (torch.rand(2, IN), torch.zeros(2, HIDDEN), torch.zeros(2, PREV)), path,
                      opset_version=OPSET, input_names=ins, output_names=outs,
                      dynamic_axes={n: {0: "batch"} for n in ins + outs}, do_constant_folding=True)
    m = onnx.load(path)
    sizes = {"kp": IN, "h": HIDDEN, "prev": PREV, "probs": NCLS, "h_out": HIDDEN, "prev_out": PREV}
    for vi in list(m.graph.input) + list(m.graph.output):     # name the feature sizes that the exporter left symbolic
        d = vi.type.tensor_type.shape.dim
        assert len(d) == 2 and d[0].dim_param == "batch", (vi.name, d)
        if d[1].dim_param:
            d[1].Clear()
            d[1].dim_value = sizes[vi.name]
    if TRAVEL_DECAY is not None:
        kv = m.metadata_props.add()
        kv.key, kv.value = "travel_decay", repr(TRAVEL_DECAY)
    onnx.save(m, path)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [nd.op_type for nd in m.graph.node]
    assert ops.count("GRU") == 1 and not any(o in ("Loop", "Scan", "LSTM", "RNN") for o in ops), ops
    io = {vi.name: [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
          for vi in list(m.graph.input) + list(m.graph.output)}
    want = {"kp": IN, "h": HIDDEN, "prev": PREV, "probs": NCLS, "h_out": HIDDEN, "prev_out": PREV}
    for n, size in want.items():
        assert io.get(n) == ["batch", size], (n, io.get(n))
    assert [vi.name for vi in m.graph.input] == ins and [vi.name for vi in m.graph.output] == outs
    return step, {"ops": sorted(set(ops)), "nodes": len(ops), "io": io, "bytes": os.path.getsize(path),
                  "opset": [(o.domain, o.version) for o in m.opset_import]}


def state_compat():
    """The manifest's state_compat: which weights may adopt a stream's stored state. A hidden state
    means something only to the weights that wrote it (or to weights fine-tuned from them), so every
    retraining from scratch gets a token of its own, and a model upgrade resets each person's state
    (announced as model-changed) instead of carrying another network's state on. 1.0.0 and 1.1.0
    shared v1 (kept, so that they rebuild byte for byte); 1.2.0 is v2."""
    lineage = "v1" if VERSION in ("1.0.0", "1.1.0") else "v2" if VERSION == "1.2.0" else VERSION
    return f"keypoint-gru-h{HIDDEN}-p{PREV}-{lineage}"


def write_manifest(path, seed):
    text = (
        f"id: {MODEL_ID}\n"
        f"version: \"{VERSION}\"\n"
        "file: keypoint-gru.onnx\n"
        "architecture: gru\n"
        "task: classify\n"
        f"input:  {{name: kp, size: {IN}}}        # 17 COCO keypoints x (x/width, y/height, score), the pose stage's order\n"
        f"output: {{name: probs, size: {NCLS}}}\n"
        f"labels: [{', '.join(LABELS)}]\n"
        "state:\n"
        f"  - {{input: h, output: h_out, size: {HIDDEN}}}          # the GRU's hidden state\n"
        f"  - {{input: prev, output: prev_out, size: {PREV}}}   # the previous frame's normalised keypoints, seen flags, centre, log scale, seen\n"
        "preprocessing: {type: none}\n"
        f"state_compat: \"{state_compat()}\"\n"
        f"training: {{script: train.py, seed: {seed}}}\n"
    )
    with open(path, "w") as fh:
        fh.write(text)
    import yaml
    m = yaml.safe_load(text)
    assert m["labels"] == LABELS and m["state"][1] == {"input": "prev", "output": "prev_out", "size": PREV}


def tolist2(a):
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float64)]


def golden_sequences(held, seed):
    """A few held-out sequences (raw step inputs), one with many missed points and missed frames."""
    rng = np.random.default_rng([seed, 77])
    out = []
    cmu_walk = next(it for it in held if it[2].startswith("cmu:") and it[0] == "walk")
    out.append(("cmu-walk-heldout", cmu_walk[1][:60]))
    parts = []
    for lab in ("wave", "sit_squat", "fall_lying"):
        it = next(it for it in held if it[2].startswith("pk:") and it[0] == lab)
        parts.append(it[1][:25])
    out.append(("pk-wave-squat-fall-heldout", np.concatenate(parts)))
    other = next(it for it in held if it[2].startswith("cmu:") and it[0] == "other")[1][:50].copy()
    miss = rng.random(other.shape[:2]) < 0.3
    other[miss] = 0.0
    other[[5, 6, 7, 20, 33]] = 0.0                           # whole missed frames
    other[10:14, 11:13] = 0.0                                # hips missed: centre falls back
    other[15:18, 5:7] = 0.0                                  # shoulders missed: scale falls back
    low = rng.random(other.shape[:2]) < 0.1                   # low-score points (< SEEN_SCORE): ignored
    other[..., 2] = np.where(low & (other[..., 2] > 0), 0.05, other[..., 2])
    out.append(("cmu-other-missed-points", other))
    return out


# =====================================================================================
def main():
    global CMU_VIEWS_AHEAD
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--minutes", type=float, default=20.0, help="wall-clock cap on the training loop (a safety net: 12 epochs take 3-5 min)")
    ap.add_argument("--streams", type=int, default=N_STREAMS)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--mine-stand", action=argparse.BooleanOptionalAction, default=True,
                    help="candidate 1.1 data: the standing-in-place stretches of CMU 'other' trials become real 'stand' from any camera")
    ap.add_argument("--compose", action=argparse.BooleanOptionalAction, default=True,
                    help="candidate 1.1 data: arm composites (another sequence's arms on stand / walk bodies; waving arms -> soft walk|stand + wave)")
    ap.add_argument("--leg-atten", action=argparse.BooleanOptionalAction, default=True,
                    help="1.2 data: in LEG_ATTEN[0] of walk / run segments the knees' and ankles' swing about the hips is scaled by U(LEG_ATTEN[1:])")
    ap.add_argument("--coco-joints", action=argparse.BooleanOptionalAction, default=False,
                    help="tried for 1.2 and left off: CMU shoulders and hips moved where a COCO pose model puts them (kpdata.COCO_CONVENTION)")
    ap.add_argument("--standardise", action=argparse.BooleanOptionalAction, default=True,
                    help="1.2 training: the GRU reads every feature scaled to unit std over the training frames (folded into its input weights for export)")
    ap.add_argument("--installed", type=float, default=0.0, help="tried for 1.2 and left off: share of CMU views from a high, installed camera (kpdata.INSTALLED_H)")
    ap.add_argument("--views-ahead", type=int, default=CMU_VIEWS_AHEAD, help="tried for 1.1 and 1.2 and left off: extra views of each CMU walk / run from ahead or behind")
    ap.add_argument("--travel", action=argparse.BooleanOptionalAction, default=False,
                    help="experiment (i19-travel): EMAs of the centre velocity, its magnitude, the log scale change and the legs' velocity in the prev state (FEAT 93, PREV 60)")
    ap.add_argument("--travel-decay", type=float, default=0.8, help="--travel: the EMAs' decay per frame")
    ap.add_argument("--compare", metavar="ONNX", help="also evaluate this keypoint-gru .onnx (e.g. the previous release) on the same held-out pool")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()

    global VERSION
    flags = (args.mine_stand, args.compose, args.standardise, args.leg_atten)
    extras = args.coco_joints or args.installed or args.views_ahead or args.travel
    configure_travel(args.travel_decay if args.travel else None)
    if flags == (True, True, True, True) and not extras:
        VERSION = "1.2.0"
    elif flags == (True, True, False, False) and not extras:
        VERSION = "1.1.0"
    elif flags == (False, False, False, False) and not extras:
        VERSION = "1.0.0"
    else:
        VERSION = VERSION + "-variant"
    CMU_VIEWS_AHEAD = args.views_ahead
    K.COCO_CONVENTION = args.coco_joints
    train_pool, held, counts = load_sources(args.seed, mine_stand=args.mine_stand, installed=args.installed)
    X, Y, P, M, used = make_streams(train_pool, np.random.default_rng([args.seed, 2]), args.streams, STREAM_T, compose=args.compose,
                                 leg_atten=args.leg_atten, arng=np.random.default_rng([args.seed, 5]))
    share = np.bincount(Y.ravel(), minlength=NCLS) / Y.size
    t_data = time.time() - t0
    print(f"data {t_data:.0f}s: {len(train_pool)} train items, {len(held)} held-out; frames by source {used}", flush=True)
    print("label share " + " ".join(f"{l}={s:.3f}" for l, s in zip(LABELS, share)), flush=True)

    model = KeypointGRU()
    # the features do not depend on the weights: computed once
    with torch.no_grad():
        Fx = []
        for i in range(0, len(X), 256):
            Fx.append(model.features(torch.from_numpy(X[i:i + 256]).transpose(0, 1))[0])
        Fx = torch.cat(Fx, 1)                                          # [T, N, 88]
    sd = None
    if args.standardise:          # every feature to unit std over the training frames (motion is ~0.01-0.1, positions ~1)
        sd = Fx.reshape(-1, FEAT).std(0).clamp(min=1e-3)
        model.in_scale.copy_(1.0 / sd)
        Fx = Fx * model.in_scale
        print("feature std " + " ".join(f"{v:.3g}" for v in sd.tolist()), flush=True)
    Yt, Mt = torch.from_numpy(Y).T, torch.from_numpy(M).T
    Pt = torch.from_numpy(P).transpose(0, 1) if args.compose else None
    groups = len(X) // BATCH
    steps_total = args.epochs * groups
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (LR_MIN + 0.5 * (LR - LR_MIN) * (1 + math.cos(math.pi * min(s, steps_total) / steps_total))) / LR)
    brng = np.random.default_rng([args.seed, 3])
    deadline = time.time() + args.minutes * 60
    t1 = time.time()
    history, step, stopped = [], 0, False
    for ep in range(args.epochs):
        model.train()
        perm = brng.permutation(len(X))
        tot = 0.0
        for g in range(groups):
            bi = torch.from_numpy(perm[g * BATCH:(g + 1) * BATCH])
            out, _ = model.rnn(model.drop(Fx[:, bi]))
            logits = model.head(out)
            if Pt is None:
                ce = F.cross_entropy(logits.reshape(-1, NCLS), Yt[:, bi].reshape(-1), reduction="none")
            else:                                                                     # soft targets (composites)
                ce = -(Pt[:, bi].reshape(-1, NCLS) * F.log_softmax(logits.reshape(-1, NCLS), -1)).sum(-1)
            m = Mt[:, bi].reshape(-1)
            loss = (ce * m).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            tot += float(loss)
            if time.time() > deadline:
                stopped = True
                break
        ev = evaluate(model, held)
        entry = {"epoch": ep + 1, "step": step, "loss": round(tot / max(g + 1, 1), 4),
                 "heldout_acc": ev["accuracy"], "seconds": round(time.time() - t1, 1)}
        print(entry, flush=True)
        history.append(entry)
        if stopped:
            break
    model.eval()
    model.fold_scale()
    ev = evaluate(model, held)
    print(json.dumps(ev["per_class_recall"]), flush=True)
    for l, row in zip(LABELS, ev["confusion"]):
        print(f"  {l:>10} {row}", flush=True)
    print(json.dumps(ev["per_source"]), flush=True)

    compared = None
    if args.compare:
        import biisc_eval
        compared = {"onnx": os.path.basename(args.compare), "heldout": evaluate(biisc_eval.load_model(args.compare), held)}
        print("compared", args.compare, json.dumps(compared["heldout"]["per_class_recall"]), json.dumps(compared["heldout"]["per_source"]), flush=True)

    # ---- export + checks -------------------------------------------------------------------
    os.makedirs(os.path.join(args.out, "golden"), exist_ok=True)
    onnx_path = os.path.join(args.out, "keypoint-gru.onnx")
    step_mod, onnx_info = export_onnx(model, onnx_path)
    write_manifest(os.path.join(args.out, "keypoint-gru.yaml"), args.seed)
    seqs = golden_sequences(held, args.seed)
    checks, gold_seqs = {}, []
    with torch.no_grad():
        for name, kp in seqs:
            x = torch.from_numpy(np.ascontiguousarray(kp.reshape(len(kp), 1, IN)))
            logits = model(x)[0][:, 0]                                      # full sequence, zero state
            probs = torch.softmax(logits, -1)
            h, pv = torch.zeros(1, HIDDEN), torch.zeros(1, PREV)
            ps = []
            for t in range(len(kp)):
                p, h, pv = step_mod(x[t], h, pv)
                ps.append(p[0])
            checks[f"step_vs_full_max_abs_diff_{name}"] = float((torch.stack(ps) - probs).abs().max())
            gold_seqs.append({"name": name, "frames": len(kp), "kp": tolist2(kp.reshape(len(kp), IN)),
                              "logits": tolist2(logits.numpy()), "probs": tolist2(probs.numpy()),
                              "argmax": [LABELS[i] for i in probs.argmax(-1).tolist()]})
        g = torch.Generator().manual_seed(args.seed + 7)
        kp3 = torch.rand(3, IN, generator=g)
        h3 = torch.randn(3, HIDDEN, generator=g) * 0.5
        pv3 = torch.cat([torch.randn(3, 34, generator=g), (torch.rand(3, 17, generator=g) > 0.3).float(),
                         torch.rand(3, 2, generator=g), torch.randn(3, 1, generator=g) - 1.5, torch.ones(3, 1)]
                        + ([torch.randn(3, TRAVEL_N, generator=g) * 0.05] if TRAVEL_DECAY is not None else []), 1)
        p3, ho3, po3 = step_mod(kp3, h3, pv3)
    assert all(v <= 1e-5 for v in checks.values()), checks
    golden = {"model_id": MODEL_ID, "version": VERSION, "label_names": LABELS,
              "note": "written by train.py from PyTorch (not ONNX Runtime); logits/probs from one nn.GRU call over the whole sequence from zero state",
              "single_step": {"x": tolist2(kp3), "state_in": {"h": tolist2(h3), "prev": tolist2(pv3)},
                              "output": tolist2(p3), "state_out": {"h_out": tolist2(ho3), "prev_out": tolist2(po3)}},
              "sequences": gold_seqs}
    with open(os.path.join(args.out, "golden", "keypoint-gru.json"), "w") as fh:
        json.dump(golden, fh)
        fh.write("\n")
    print(f"checks {checks}", flush=True)

    report = {
        "model_id": MODEL_ID, "version": VERSION, "pose_model": POSE_MODEL,
        "command": " ".join(["/usr/bin/python3", "models/pose-activity/train.py"] + sys.argv[1:]),
        "seed": args.seed, "torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
        "labels": LABELS,
        "data": {"sources": counts, "held_cmu_subjects": list(HELD_SUBJECTS), "held_pk_fraction": HELD_FRACTION,
                 "cmu_views_train": CMU_VIEWS_TRAIN, "cmu_views_heldout": CMU_VIEWS_EVAL,
                 "leg_atten": {"share": LEG_ATTEN[0], "factor": list(LEG_ATTEN[1:])} if args.leg_atten else None,
                 "train_streams": len(X), "stream_frames": STREAM_T, "train_frames_by_source": used,
                 "train_label_share": {l: round(float(s), 4) for l, s in zip(LABELS, share)},
                 "heldout_items": len(held)},
        "hyper": {"hidden": HIDDEN, "features": FEAT,
                  "standardise_feature_std": None if sd is None else [round(float(v), 5) for v in sd], "prev": PREV, "travel_decay": TRAVEL_DECAY, "seen_score": SEEN_SCORE, "batch": BATCH,
                  "lr": LR, "lr_min": LR_MIN, "epochs": args.epochs, "steps_done": step, "steps_planned": steps_total,
                  "stopped_by_time_cap": stopped, "skip_after_change": SKIP_AFTER_CHANGE, "eval_skip": EVAL_SKIP},
        "data_seconds": round(t_data, 1), "total_seconds": round(time.time() - t0, 1),
        "heldout": ev, "compared": compared, "history": history, "onnx": onnx_info, "checks": checks,
    }
    with open(os.path.join(args.out, "train-report.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

"""Data for Engram's keypoint activity model (keypoint-gru): real motion -> COCO-17 keypoint streams.

- BVH reader + forward kinematics (numpy) for ../shared/mocap-cmu (CMU mocap converted to BVH,
  iClone "CC_Base" skeleton, centimetres), mapped to the 17 COCO keypoints of the pose stage;
- random virtual perspective cameras and the pose model's kind of noise (jitter proportional to the
  body's size in the image, missed points with score 0, whole missed frames, random frame rate);
- the pose-keypoints CSVs (OpenPose COCO-18, normalised x/y, 0 = not seen) mapped to COCO-17.

All streams are float32 [T, 17, 3] = (x / width, y / height, score) per keypoint, i.e. exactly what
the ONNX step model takes per frame (flattened to 51).
"""
import csv
import os
import re

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(os.path.join(HERE, "..", "..", "..", "shared"))   # ../shared beside the repository
CMU_DIR = os.path.join(SHARED, "mocap-cmu")
PK_DIR = os.path.join(SHARED, "pose-keypoints")

COCO17 = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
          "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
          "left_knee", "right_knee", "left_ankle", "right_ankle"]


# =====================================================================================
# BVH
# =====================================================================================
def _rot(axis, deg):
    """[F,3,3] rotation matrices about a principal axis (degrees)."""
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if axis == "X":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "Y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    else:
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    return np.stack([np.stack(r, -1) for r in m], -2)


def read_bvh(path):
    """Returns (names, parents, offsets [J,3], channels per joint, motion [F, C], frame_time)."""
    names, parents, offsets, channels = [], [], [], []
    stack = []
    with open(path) as fh:
        lines = fh.read().splitlines()
    i = 0
    end_site = False
    while i < len(lines):
        tok = lines[i].split()
        i += 1
        if not tok:
            continue
        if tok[0] in ("ROOT", "JOINT"):
            names.append(tok[1])
            parents.append(stack[-1] if stack else -1)
            offsets.append(None)
            channels.append([])
            cur = len(names) - 1
        elif tok[0] == "End":
            end_site = True
        elif tok[0] == "{":
            stack.append(-2 if end_site else cur)
        elif tok[0] == "}":
            j = stack.pop()
            if j == -2:
                end_site = False
            else:
                cur = stack[-1] if stack else -1
        elif tok[0] == "OFFSET":
            if not end_site:
                offsets[cur] = [float(v) for v in tok[1:4]]
        elif tok[0] == "CHANNELS":
            channels[cur] = tok[2:2 + int(tok[1])]
        elif tok[0] == "MOTION":
            break
    nframes = int(lines[i].split(":")[1])
    ftime = float(lines[i + 1].split(":")[1])
    motion = np.loadtxt(lines[i + 2:i + 2 + nframes], dtype=np.float64, ndmin=2)
    assert motion.shape[1] == sum(len(c) for c in channels), (motion.shape, path)
    return names, np.array(parents), np.array(offsets), channels, motion, ftime


def forward_kinematics(names, parents, offsets, channels, motion):
    """World positions [F, J, 3] and rotations [F, J, 3, 3] of every joint."""
    F = motion.shape[0]
    J = len(names)
    pos = np.zeros((F, J, 3))
    rot = np.zeros((F, J, 3, 3))
    col = 0
    for j in range(J):
        local_t = np.broadcast_to(offsets[j], (F, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (F, 3, 3)).copy()
        for ch in channels[j]:
            v = motion[:, col]
            col += 1
            if ch.endswith("position"):
                local_t[:, "XYZ".index(ch[0])] += v
            else:
                local_r = local_r @ _rot(ch[0], v)
        p = parents[j]
        if p < 0:
            pos[:, j], rot[:, j] = local_t, local_r
        else:
            pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rot[:, p], local_t)
            rot[:, j] = rot[:, p] @ local_r
    return pos, rot


# COCO-17 from the CC_Base skeleton; face points are fixed points in the FacialBone frame, placed
# relative to its two eye joints (eyes at (8.19, 8.22, +-3.32) cm: local axis 0 up, 1 forward,
# 2 the person's left, checked on 02_01's T-pose and walk).
_BODY = {"left_shoulder": "CC_Base_L_Upperarm", "right_shoulder": "CC_Base_R_Upperarm",
         "left_elbow": "CC_Base_L_Forearm", "right_elbow": "CC_Base_R_Forearm",
         "left_wrist": "CC_Base_L_Hand", "right_wrist": "CC_Base_R_Hand",
         "left_hip": "CC_Base_L_Thigh", "right_hip": "CC_Base_R_Thigh",
         "left_knee": "CC_Base_L_Calf", "right_knee": "CC_Base_R_Calf",
         "left_ankle": "CC_Base_L_Foot", "right_ankle": "CC_Base_R_Foot"}
_FACE = {"nose": (4.5, 10.5, 0.0), "left_ear": (7.0, 0.0, 7.5), "right_ear": (7.0, 0.0, -7.5)}


# Where a COCO pose model puts shoulders and hips, against the skeleton's joints: real 2D keypoints
# (pose-keypoints' standing and walking people) have a longer torso for their legs than the CC_Base
# joints (ankle-to-hip height / torso 1.48 against 1.72) and narrower shoulders (shoulder width /
# torso 0.39 against 0.55, seen from ahead). COCO_CONVENTION moves the joints, in 3D, to match them:
# shoulders up along the torso by SHO_UP x the torso and toward each other to SHO_WIDTH of their
# width, hips down along the torso by HIP_DOWN x the torso, the face points up with the shoulders (the
# nose stays as high above the shoulders as in pose-keypoints). Off (False): the joints as they are (1.1.0).
COCO_CONVENTION = False
SHO_UP, HIP_DOWN, SHO_WIDTH = 0.08, 0.05, 0.8


def coco_convention(out):
    """out [F,17,3] world keypoints -> shoulders and hips moved as COCO_CONVENTION says (a copy)."""
    out = out.copy()
    sho, hip = out[:, 5:7].mean(1), out[:, 11:13].mean(1)
    up = sho - hip                                             # [F,3], one torso length
    smid = sho[:, None]
    out[:, 5:7] = smid + SHO_WIDTH * (out[:, 5:7] - smid) + SHO_UP * up[:, None]
    out[:, 0:5] = out[:, 0:5] + SHO_UP * up[:, None]
    out[:, 11:13] = out[:, 11:13] - HIP_DOWN * up[:, None]
    return out


def cmu_coco17(path):
    """Returns (world keypoints [F, 17, 3] in cm, with the first (T-pose) frame dropped, fps).
    With COCO_CONVENTION, shoulders and hips where a COCO pose model puts them (coco_convention)."""
    names, parents, offsets, channels, motion, ft = read_bvh(path)
    pos, rot = forward_kinematics(names, parents, offsets, channels, motion)
    ix = {n: k for k, n in enumerate(names)}
    out = np.zeros((pos.shape[0], 17, 3))
    fb = ix["CC_Base_FacialBone"]
    for k, n in enumerate(COCO17):
        if n in _BODY:
            out[:, k] = pos[:, ix[_BODY[n]]]
        elif n in ("left_eye", "right_eye"):
            out[:, k] = pos[:, ix["CC_Base_L_Eye" if n == "left_eye" else "CC_Base_R_Eye"]]
        else:
            out[:, k] = pos[:, fb] + np.einsum("fij,j->fi", rot[:, fb], np.array(_FACE[n]))
    return (coco_convention(out[1:]) if COCO_CONVENTION else out[1:]), 1.0 / ft


def cmu_trials():
    """[(subject, trial, description, path)] of every BVH under mocap-cmu, from cmu-index.csv."""
    desc = {}
    with open(os.path.join(CMU_DIR, "cmu-index.csv")) as fh:
        r = csv.reader(fh)
        next(r)
        for row in r:
            desc[(int(row[0]), int(row[1]))] = row[2]
    out = []
    root = os.path.join(CMU_DIR, "All_BVH", "subjects")
    for d in sorted(os.listdir(root)):
        for f in sorted(os.listdir(os.path.join(root, d))):
            m = re.match(r"(\d+)_(\d+)\.bvh$", f)
            if m:
                s, t = int(m.group(1)), int(m.group(2))
                out.append((s, t, desc.get((s, t), ""), os.path.join(root, d, f)))
    return out


# =====================================================================================
# Virtual camera + the pose model's kind of noise
# =====================================================================================
def up_axis(world):
    """Index of the vertical world axis: the one along which the ankles are lowest relative to the eyes."""
    d = (world[:, 1:3].mean(1) - world[:, 15:17].mean(1)).mean(0)
    a = int(np.argmax(np.abs(d)))
    return a, float(np.sign(d[a]))


INSTALLED_H = (2.2, 3.5)     # an installed camera's height (m): above the people, pitched down at them


def project(world, rng, width, height, yaw=None, installed=False):
    """Projects world points [T,17,3] (cm) through a random perspective camera.

    The camera looks at the motion's mean hip position from a random yaw, a random distance
    (so that the person is 15..80% of the frame height), a random height (0.5..2.5 m) and a
    random focal length; it is static for the whole sequence. installed: the camera's height is drawn from
    INSTALLED_H instead (a camera on a wall or ceiling, looking down at the person). Returns pixel coords [T,17,2] and
    a visibility mask [T,17] (in front of the camera and inside the frame)."""
    ua, us = up_axis(world)
    others = [a for a in range(3) if a != ua]
    # world -> (x right-ish, y forward-ish, z up) frame
    W = np.stack([world[..., others[0]], world[..., others[1]], us * world[..., ua]], -1) / 100.0   # metres
    ground = np.percentile(W[:, 15:17, 2], 2)
    W[..., 2] -= ground
    hips = W[:, 11:13].mean((0, 1))
    extent = np.ptp(W[:, 11:13].mean(1)[:, :2], axis=0).max()           # how far the person travels (m)
    if yaw is None:
        yaw = rng.uniform(0, 2 * np.pi)
    f = rng.uniform(0.6, 1.6) * width                                   # focal length, pixels
    body_frac = rng.uniform(0.15, 0.8)                                  # person's height / frame height
    dist = max(f * 1.7 / (body_frac * height), extent * 0.6 + 1.0)
    cam_h = rng.uniform(*INSTALLED_H) if installed else rng.uniform(0.5, 2.5)
    target = np.array([hips[0], hips[1], rng.uniform(0.6, 1.2)])
    cam = target + np.array([np.cos(yaw) * dist, np.sin(yaw) * dist, 0.0])
    cam[2] = cam_h
    fwd = target - cam
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    rel = W - cam
    xc, yc, zc = rel @ right, rel @ down, rel @ fwd
    zc_safe = np.maximum(zc, 1e-3)
    cx = width / 2 + rng.uniform(-0.15, 0.15) * width
    cy = height / 2 + rng.uniform(-0.1, 0.1) * height
    u = cx + f * xc / zc_safe
    v = cy + f * yc / zc_safe
    vis = (zc > 0.1) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
    return np.stack([u, v], -1), vis


def resample(world, fps_in, fps_out, rng):
    """Linear resampling of [T,17,3] from fps_in to fps_out, random phase."""
    T = world.shape[0]
    dur = (T - 1) / fps_in
    t = np.arange(rng.uniform(0, 1.0 / fps_out), dur, 1.0 / fps_out) * fps_in
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (t - i0)[:, None, None]
    return world[i0] * (1 - w) + world[i1] * w


def pose_noise(px, vis, rng, width, height, level=1.0):
    """The pose model's kind of noise on pixel keypoints [T,17,2] -> stream [T,17,3] (x/w, y/h, score).

    Jitter proportional to the body's size (per-stream level, face points less, wrists/ankles more,
    slowly varying bias + white noise), scores from a per-point confidence, random missed points
    (score 0, coordinates 0), short bursts of missed limbs, and occasional whole missed frames."""
    T = px.shape[0]
    seen = vis.copy()
    size = np.zeros(T)
    for t in range(T):
        p = px[t][vis[t]]
        size[t] = max(np.ptp(p[:, 1]) if len(p) > 1 else 0.0, 10.0)
    size = np.maximum(np.median(size), 10.0)
    sig = rng.uniform(0.005, 0.03) * level * size
    part = np.array([0.6, 0.6, 0.6, 0.8, 0.8, 1, 1, 1.2, 1.2, 1.6, 1.6, 1.1, 1.1, 1.2, 1.2, 1.5, 1.5])
    white = rng.standard_normal((T, 17, 2)) * sig * part[None, :, None]
    bias = np.cumsum(rng.standard_normal((T, 17, 2)), 0)
    bias = bias - np.linspace(0, 1, T)[:, None, None] * bias[-1:]     # a bounded random walk (bridge)
    bias = bias / max(np.abs(bias).max(), 1e-6) * sig * 1.5 * part[None, :, None]
    xy = px + white + bias
    base = rng.uniform(0.3, 0.9)
    score = np.clip(base + 0.15 * rng.standard_normal((T, 17)) + 0.1 * part[None] * -1 + 0.1, 0.02, 0.99)
    p_miss = rng.uniform(0.0, 0.12) * level
    miss = rng.random((T, 17)) < p_miss * part[None]
    # bursts: a limb's points missed for a few frames (occlusion)
    limbs = [[7, 9], [8, 10], [13, 15], [14, 16], [0, 1, 2, 3, 4]]
    for _ in range(rng.poisson(T / 60 * level)):
        t0 = rng.integers(T)
        miss[t0:t0 + rng.integers(2, 12), limbs[rng.integers(len(limbs))]] = True
    seen &= ~miss
    # whole missed frames (the pose model found no one, or the tracker switched)
    if rng.random() < 0.7:
        drop = rng.random(T) < rng.uniform(0.0, 0.06) * level
        seen[drop] = False
    out = np.zeros((T, 17, 3), dtype=np.float32)
    out[..., 0] = np.where(seen, xy[..., 0] / width, 0.0)
    out[..., 1] = np.where(seen, xy[..., 1] / height, 0.0)
    out[..., 2] = np.where(seen, score, 0.0)
    return out


def heading(world):
    """The direction (radians, in project()'s ground-plane axes) in which the hips travel over the trial."""
    ua, _ = up_axis(world)
    others = [a for a in range(3) if a != ua]
    d = world[-1, 11:13].mean(0)[others] - world[0, 11:13].mean(0)[others]
    return float(np.arctan2(d[1], d[0]))


def cmu_stream(world, fps_in, rng, level=1.0, yaw=None, installed=False):
    """One camera's view of a mocap trial at a random frame rate (10..30 fps): [T,17,3] float32.
    yaw: the camera's direction from the person (None: any); installed: a high camera (project())."""
    fps = float(rng.uniform(10, 30))
    w = resample(world, fps_in, fps, rng)
    width, height = [(640, 480), (1280, 720), (1920, 1080), (480, 640), (320, 240)][rng.integers(5)]
    px, vis = project(w, rng, width, height, yaw, installed)
    return pose_noise(px, vis, rng, width, height, level), fps


# =====================================================================================
# pose-keypoints (OpenPose COCO-18) -> COCO-17
# =====================================================================================
# COCO-18 order: nose, neck, r_sho, r_elb, r_wri, l_sho, l_elb, l_wri, r_hip, r_knee, r_ank,
#                l_hip, l_knee, l_ank, r_eye, l_eye, r_ear, l_ear
_C18_TO_C17 = [0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10]


def read_pose_keypoints(name):
    """Returns (kp [N,17,3] float32 (x, y, score), class strings [N]) in file order.

    Points OpenPose did not see (x = y = 0) get score 0 and coordinates 0; seen points score 1
    (the CSVs carry no confidences; the training adds score noise)."""
    rows, labels = [], []
    with open(os.path.join(PK_DIR, name)) as fh:
        r = csv.reader(fh)
        next(r)
        for row in r:
            rows.append([float(v) for v in row[:36]])
            labels.append(row[36].strip())
    a = np.array(rows).reshape(-1, 18, 2)
    kp = np.zeros((len(a), 17, 3), dtype=np.float32)
    src = a[:, _C18_TO_C17]
    seen = (src[..., 0] > 0) | (src[..., 1] > 0)
    kp[..., 0:2] = np.where(seen[..., None], src, 0.0)
    kp[..., 2] = seen
    return kp, labels


def blocks(labels):
    """[(label, start, end)] of the contiguous runs of one label."""
    out = []
    s = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[s]:
            out.append((labels[s], s, i))
            s = i
    return out

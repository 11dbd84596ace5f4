#!/usr/bin/env python3
"""Train, export and document Engram's frame encoder (frame-encoder-cnn).

    /usr/bin/python3 models/activity/train_encoder.py [--seed N] [--epochs E] [--threads T] [--minutes M]

What it does, end to end (see docs/model-contract.md, "Frame encoders (task: encode)"):

1. Reads Fashion-MNIST from the Debian package dataset-fashion-mnist
   (/usr/share/datasets/fashion-mnist, gzipped IDX): 60,000 training and 10,000 test items.
2. Training augmentation, drawn fresh for every batch: each 28x28 item is scaled by
   0.6..1.3, horizontally flipped with p = 0.5 and placed (bilinear, sub-pixel) at a random
   position of a black 64x64 canvas (mostly inside); then brightness/contrast jitter and mild
   Gaussian noise; rounded to uint8 like camera frames.
3. mean/std of the normalisation are measured on 20,000 such training canvases
   (rounded to 4 decimals) and written to the manifest.
4. Trains FeatureExtractor (stride-2 convs, BatchNorm, ReLU, a residual block, max and
   average pooling; output an 8 x 4 x 4 grid = 128 floats) with a training-only
   classification head (ReLU, 1x1 conv 8->64, ReLU, global average pool, Linear 64->10),
   cross-entropy, AdamW + one-cycle LR.
5. Reports test accuracy on the 10,000 test items (a) on the canvas with the training
   augmentation minus flips (fixed seed) and (b) centred, scale 1.0, no photometric change.
6. Exports ONLY the feature extractor (eval mode, opset 17, dynamic batch):
   image [B,1,64,64] -> features [B,128]; checks it (onnx.checker, shapes, a numpy run of the
   .onnx file against PyTorch); writes frame-encoder.onnx, frame-encoder.yaml,
   frame-encoder.pt (weights + mean/std, used by train_activity.py), golden/frame-encoder.json
   and train-report-encoder.json next to this script.
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
from common import (HERE, SIZE, FEATURES, OPSET, VERSION, ENCODER_ID, EncoderWithHead,  # noqa: E402
                    load_fashion_mnist, place, photometric, normalise, run_onnx_numpy, io_dims,
                    tolist2)

BATCH = 128
LR = 3e-3
WD = 1e-4
SCALE_LO, SCALE_HI = 0.6, 1.3


def augment(items_u8, gen, flip=True, photo=True):
    """items_u8: uint8 [B,28,28] numpy -> uint8 canvases [B,64,64] (torch)."""
    B = items_u8.shape[0]
    items = torch.from_numpy(np.ascontiguousarray(items_u8)).float() / 255.0
    s = SCALE_LO + (SCALE_HI - SCALE_LO) * torch.rand(B, generator=gen)
    half = 14.0 * s
    # centre: the item stays mostly on the canvas (at most ~a quarter of its half-size outside)
    lo = 0.75 * half
    cx = lo + (SIZE - 2 * lo) * torch.rand(B, generator=gen)
    cy = lo + (SIZE - 2 * lo) * torch.rand(B, generator=gen)
    fl = (torch.rand(B, generator=gen) < 0.5) if flip else None
    canvas = place(items, cx, cy, s, fl)
    if photo:
        return photometric(canvas, gen)
    return torch.round(canvas.clamp(0, 1) * 255.0).to(torch.uint8)


def centred(items_u8):
    B = items_u8.shape[0]
    items = torch.from_numpy(np.ascontiguousarray(items_u8)).float() / 255.0
    c = place(items, torch.full((B,), SIZE / 2.0), torch.full((B,), SIZE / 2.0), torch.ones(B))
    return torch.round(c.clamp(0, 1) * 255.0).to(torch.uint8)


@torch.no_grad()
def accuracy(model, frames_u8, labels, mean, std):
    model.eval()
    correct = 0
    per_class = np.zeros((10, 2), dtype=np.int64)
    for i in range(0, len(labels), 500):
        x = normalise(frames_u8[i:i + 500].numpy(), mean, std)
        pred = model(x).argmax(1).numpy()
        y = labels[i:i + 500]
        correct += int((pred == y).sum())
        for c in range(10):
            per_class[c, 0] += int(((pred == y) & (y == c)).sum())
            per_class[c, 1] += int((y == c).sum())
    return correct / len(labels), [round(a / b, 4) for a, b in per_class]


def export_onnx(enc, path):
    import onnx
    enc.eval()
    torch.onnx.export(enc, (torch.zeros(2, 1, SIZE, SIZE),), path, opset_version=OPSET,
                      input_names=["image"], output_names=["features"],
                      dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    io = io_dims(m)
    assert [vi.name for vi in m.graph.input] == ["image"], io
    assert [vi.name for vi in m.graph.output] == ["features"], io
    assert io["image"] == ["batch", 1, SIZE, SIZE], io
    assert io["features"] == ["batch", FEATURES], io
    for vi in list(m.graph.input) + list(m.graph.output):
        assert vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    ops = [nd.op_type for nd in m.graph.node]
    return {"ops": ops, "io": io, "bytes": os.path.getsize(path), "ir_version": m.ir_version,
            "opset": [(o.domain, o.version) for o in m.opset_import]}


def write_manifest(path, mean, std, seed):
    text = (
        f"id: {ENCODER_ID}\n"
        f"version: \"{VERSION}\"\n"
        "file: frame-encoder.onnx\n"
        "architecture: cnn\n"
        "task: encode\n"
        f"input:  {{name: image, size: {SIZE * SIZE}}}\n"
        f"image:  {{channels: 1, height: {SIZE}, width: {SIZE}, mean: {mean:.4f}, std: {std:.4f}}}\n"
        f"output: {{name: features, size: {FEATURES}}}\n"
        "state: []\n"
        f"training: {{script: train_encoder.py, seed: {seed}, data: fashion-mnist (Debian dataset-fashion-mnist)}}\n"
    )
    with open(path, "w") as fh:
        fh.write(text)
    try:
        import yaml
        m = yaml.safe_load(text)
        assert m["image"]["mean"] == mean and m["image"]["std"] == std
        assert m["version"] == VERSION and m["output"]["size"] == FEATURES
    except ImportError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=13.0, help="wall-clock cap on the training loop")
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    xtr, ytr = load_fashion_mnist("train")
    xte, yte = load_fashion_mnist("test")
    print(f"data: train {xtr.shape[0]}, test {xte.shape[0]}", flush=True)

    # ---- normalisation constants from training canvases ----------------------------------
    g = torch.Generator().manual_seed(args.seed * 1000 + 1)
    idx = np.random.default_rng([args.seed, 1]).choice(len(xtr), 20000, replace=False)
    c = augment(xtr[idx], g).double() / 255.0
    mean, std = round(float(c.mean()), 4), round(float(c.std()), 4)
    del c
    print(f"normalisation: mean={mean} std={std} (20,000 training canvases)", flush=True)

    # ---- train ---------------------------------------------------------------------------
    model = EncoderWithHead()
    n_params = sum(p.numel() for p in model.features.parameters())
    steps_per_epoch = len(xtr) // BATCH
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WD)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=total, pct_start=0.15)
    gen = torch.Generator().manual_seed(args.seed * 1000 + 2)
    prng = np.random.default_rng([args.seed, 2])
    t_train0 = time.time()
    deadline = t_train0 + args.minutes * 60
    step, history, run = 0, [], None
    stopped_early = False
    for ep in range(args.epochs):
        model.train()
        perm = prng.permutation(len(xtr))
        correct = seen = 0
        for b in range(steps_per_epoch):
            if time.time() > deadline:
                stopped_early = True
                break
            bi = perm[b * BATCH:(b + 1) * BATCH]
            x = normalise(augment(xtr[bi], gen).numpy(), mean, std)
            y = torch.from_numpy(ytr[bi].astype(np.int64))
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            run = float(loss) if run is None else 0.98 * run + 0.02 * float(loss)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(bi)
        el = time.time() - t_train0
        print(f"epoch {ep + 1}/{args.epochs} step {step} loss(ewm)={run:.4f} train_acc={correct / max(seen, 1):.4f} "
              f"{el:.0f}s", flush=True)
        history.append({"epoch": ep + 1, "step": step, "loss_ewm": round(run, 4),
                        "train_acc_aug": round(correct / max(seen, 1), 4), "seconds": round(el, 1)})
        if stopped_early:
            break
    train_seconds = time.time() - t_train0
    print(f"trained {step}/{total} steps in {train_seconds:.0f}s", flush=True)

    # ---- test ----------------------------------------------------------------------------
    model.eval()
    gt = torch.Generator().manual_seed(20240601)
    te_aug = torch.cat([augment(xte[i:i + 1000], gt, flip=False) for i in range(0, len(xte), 1000)])
    te_cen = centred(xte)
    acc_aug, pc_aug = accuracy(model, te_aug, yte, mean, std)
    acc_cen, pc_cen = accuracy(model, te_cen, yte, mean, std)
    print(f"test accuracy: canvas-augmented (no flips, seed 20240601) {acc_aug:.4f}; centred {acc_cen:.4f}", flush=True)

    # ---- export, verify, golden, manifest ------------------------------------------------
    enc = model.features.eval()
    os.makedirs(os.path.join(args.out, "golden"), exist_ok=True)
    torch.save({"state_dict": enc.state_dict(), "mean": mean, "std": std, "seed": args.seed},
               os.path.join(args.out, "frame-encoder.pt"))
    onnx_path = os.path.join(args.out, "frame-encoder.onnx")
    onnx_info = export_onnx(enc, onnx_path)
    # golden: frame 0 uniform random bytes, frames 1-2 rendered test items (seeded)
    grng = np.random.default_rng(args.seed + 1000)
    gg = torch.Generator().manual_seed(args.seed + 1000)
    f0 = grng.integers(0, 256, (1, SIZE, SIZE), dtype=np.uint8)
    f12 = augment(xte[grng.choice(len(xte), 2, replace=False)], gg, flip=False).numpy()
    frames = np.concatenate([f0, f12]).astype(np.uint8)
    x = normalise(frames, mean, std)
    with torch.no_grad():
        feats = enc(x).numpy()
        feats_b1 = torch.cat([enc(x[i:i + 1]) for i in range(3)]).numpy()
    onnx_feats = run_onnx_numpy(onnx_path, {"image": x.numpy()})[0]
    checks = {
        "onnx_numpy_vs_torch_golden_B3_max_abs_diff": float(np.abs(onnx_feats - feats.astype(np.float64)).max()),
        "torch_batch3_vs_batch1_max_abs_diff": float(np.abs(feats - feats_b1).max()),
    }
    rand_x = normalise(np.random.default_rng(args.seed + 7).integers(0, 256, (5, SIZE, SIZE)), mean, std)
    with torch.no_grad():
        rf = enc(rand_x).numpy()
    checks["onnx_numpy_vs_torch_random_B5_max_abs_diff"] = float(
        np.abs(run_onnx_numpy(onnx_path, {"image": rand_x.numpy()})[0] - rf).max())
    print(f"checks: {checks}", flush=True)
    assert checks["onnx_numpy_vs_torch_golden_B3_max_abs_diff"] <= 1e-5, checks
    assert checks["onnx_numpy_vs_torch_random_B5_max_abs_diff"] <= 1e-5, checks
    golden = {
        "model_id": ENCODER_ID, "version": VERSION,
        "image": {"channels": 1, "height": SIZE, "width": SIZE, "mean": mean, "std": std},
        "frames_u8": [[[int(v) for v in row] for row in fr] for fr in frames],   # [3][64][64], row-major (y, x)
        "features": tolist2(feats),                                             # [3][128]
    }
    with open(os.path.join(args.out, "golden", "frame-encoder.json"), "w") as fh:
        json.dump(golden, fh)
        fh.write("\n")
    write_manifest(os.path.join(args.out, "frame-encoder.yaml"), mean, std, args.seed)
    print(f"onnx: {onnx_info['bytes']} bytes, ops={sorted(set(onnx_info['ops']))}", flush=True)

    report = {
        "model_id": ENCODER_ID, "version": VERSION,
        "command": " ".join(["/usr/bin/python3", os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:]),
        "seed": args.seed, "torch": torch.__version__, "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "normalisation": {"mean": mean, "std": std, "measured_on": "20000 augmented training canvases"},
        "hyper": {"batch": BATCH, "optimizer": "AdamW", "lr_max": LR, "weight_decay": WD,
                  "schedule": "OneCycle (pct_start 0.15)", "epochs_planned": args.epochs,
                  "steps_planned": total, "steps_done": step, "stopped_by_time_cap": stopped_early,
                  "scale_range": [SCALE_LO, SCALE_HI]},
        "feature_extractor_params": n_params,
        "train_seconds": round(train_seconds, 1), "total_seconds": round(time.time() - t0, 1),
        "test": {"canvas_augmented_no_flip_seed20240601": round(acc_aug, 4), "centred_scale1": round(acc_cen, 4),
                 "per_class_canvas": pc_aug, "per_class_centred": pc_cen},
        "history": history, "onnx": onnx_info, "checks": checks,
    }
    with open(os.path.join(args.out, "train-report-encoder.json"), "w") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()

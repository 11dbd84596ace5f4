"""Writes a second set of evaluation clips, eval-check/, for the video anomaly pipeline's settings.

The scorer settings of topology/video-anomaly.yaml were chosen while looking at the clips in eval/
(written by train_feature_forecaster.py). These clips come from the same generator with other
seeds and other Fashion-MNIST TEST items, and were written after that choice: the figures on them
(models/video-anomaly/MODEL_CARD.md, VideoAnomalyTopologyTest) are the held-out check.

    /usr/bin/python3 models/video-anomaly/make_check_clips.py      # about 20 s, encoder forward passes only
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_feature_forecaster as t  # noqa: E402  (its generator, renderer and encoder)

CHECK_SPECS = [  # name, kind, base seed: other seeds than eval/'s 91xx..97xx
    ("normal-a", "normal", 19101), ("normal-b", "normal", 19201), ("normal-c", "normal", 19301),
    ("appear-a", "appear", 19401), ("appear-b", "appear", 19451),
    ("teleport-a", "teleport", 19701), ("teleport-b", "teleport", 19751),
    ("freeze-a", "freeze", 19501), ("reverse-a", "reverse", 19601)]


def main():
    torch.set_num_threads(1)
    enc, mean, std = t.load_encoder(os.path.join(t.ACTIVITY, "frame-encoder.pt"))
    xte, _ = t.load_fashion_mnist("test")
    out = os.path.join(HERE, "eval-check")
    os.makedirs(out, exist_ok=True)
    clips = []
    for name, kind, bseed in CHECK_SPECS:
        frames, e, e_end, seed, details = t.make_clip(kind, bseed, xte)
        feats = t.encode(enc, frames, mean, std)
        feats.astype("<f4").tofile(os.path.join(out, f"{name}.f32"))
        clips.append({"name": name, "kind": kind, "frames": int(len(frames)), "event_start": e, "event_end": e_end,
                      "seed": int(seed), "file": f"{name}.f32"})
        print(f"clip {name}: event at {e}, seed {seed}, {details}", flush=True)
    with open(os.path.join(out, "clips.json"), "w") as fh:
        json.dump(clips, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()

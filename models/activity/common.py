"""Shared code of Engram's video activity models (frame encoder + activity GRU).

Used by train_encoder.py and train_activity.py (see MODEL_CARD.md and
docs/model-contract.md, sections "Frame encoders" and "Sequence classifiers").

- Fashion-MNIST reader (Debian package dataset-fashion-mnist, gzipped IDX files);
- the canvas renderer: a 28x28 item placed, scaled (and optionally flipped) with
  bilinear sampling at sub-pixel positions on a 64x64 black canvas, then
  brightness/contrast jitter, noise, and rounding to uint8 as a camera would deliver;
- the contract's frame preprocessing (`x = (v/255 - mean)/std`, [B,1,H,W]);
- the encoder network (`FrameEncoder`);
- a small numpy interpreter for the exported ONNX graphs (onnxruntime is not
  available to Python here), used to check the .onnx files themselves.
"""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

SIZE = 64              # canvas / model input: 64 x 64, 1 channel
GRID_C, GRID_H, GRID_W = 8, 4, 4
FEATURES = GRID_C * GRID_H * GRID_W   # 128
OPSET = 17
VERSION = "1.0.0"
ENCODER_ID = "frame-encoder-cnn"


# =====================================================================================
# Data
# =====================================================================================
def _read_idx(path):
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    assert (magic >> 8) == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_fashion_mnist(split):
    """split: 'train' (60,000) or 'test' (10,000). Returns (images uint8 [N,28,28], labels uint8 [N])."""
    pre = "train" if split == "train" else "t10k"
    x = _read_idx(os.path.join(FMNIST_DIR, f"{pre}-images-idx3-ubyte.gz"))
    y = _read_idx(os.path.join(FMNIST_DIR, f"{pre}-labels-idx1-ubyte.gz"))
    assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28)
    return x, y


# =====================================================================================
# Rendering
# =====================================================================================
def place(items, cx, cy, scale, flip=None, size=SIZE):
    """Bilinear placement of 28x28 items on black size x size canvases.

    items: float tensor [B,28,28] in 0..1; cx, cy: item centre in pixel coordinates of the
    canvas (pixel i covers [i, i+1), so the canvas centre is size/2); scale: item size is
    28*scale pixels; flip: bool [B] (horizontal flip). Returns float [B,size,size] in 0..1."""
    B = items.shape[0]
    cx = torch.as_tensor(cx, dtype=torch.float32).reshape(B)
    cy = torch.as_tensor(cy, dtype=torch.float32).reshape(B)
    s = torch.as_tensor(scale, dtype=torch.float32).reshape(B)
    half = 14.0 * s                          # half of the item's size on the canvas, in pixels
    sx = (size / 2.0) / half                 # canvas normalised coords -> item normalised coords
    if flip is not None:
        sx = torch.where(torch.as_tensor(flip).reshape(B), -sx, sx)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = sx
    theta[:, 0, 2] = -(cx - size / 2.0) / half * torch.sign(sx)
    theta[:, 1, 1] = (size / 2.0) / half
    theta[:, 1, 2] = -(cy - size / 2.0) / half
    grid = F.affine_grid(theta, (B, 1, size, size), align_corners=False)
    out = F.grid_sample(items[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[:, 0]


def photometric(canvas, gen, strength=1.0):
    """Brightness/contrast jitter + mild Gaussian noise, then round to uint8 like a camera.

    canvas: float [B,H,W] in 0..1; gen: torch.Generator. Returns uint8 tensor [B,H,W]."""
    B = canvas.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(B, 1, 1, generator=gen)
    contrast = u(1 - 0.35 * strength, 1 + 0.25 * strength)
    bright = u(-0.02 * strength, 0.10 * strength)
    sigma = u(0.0, 0.025 * strength)
    v = canvas * contrast + bright + sigma * torch.randn(canvas.shape, generator=gen)
    return torch.round(v.clamp(0, 1) * 255.0).to(torch.uint8)


def normalise(frames_u8, mean, std):
    """The contract's step 3: x = (v/255 - mean)/std, laid out [B,1,H,W] float32.

    Computed in float64 and rounded once to float32 (the Java side may compute in float32
    or float64; the results differ by at most one float32 ulp)."""
    v = np.asarray(frames_u8, dtype=np.float64)
    x = (v / 255.0 - mean) / std
    return torch.from_numpy(x.astype(np.float32)).reshape(-1, 1, v.shape[-2], v.shape[-1])


# =====================================================================================
# Encoder
# =====================================================================================
class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(c)
        self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(x + y)


class FeatureExtractor(nn.Module):
    """[B,1,64,64] -> [B,128] = an 8 x 4 x 4 grid flattened row-major (channel, row, column).

    stem: conv 3x3/2 (1->16) 32x32 -> conv 3x3/2 (16->32) 16x16 -> residual block (32) ->
    max-pool 2 -> 8x8 -> conv 3x3 (32->32) -> avg-pool 2 -> 4x4 -> conv 1x1 (32->8) + BN.
    Average pooling at the end keeps the grid's response smooth in the object's position
    (what the activity GRU needs); no ReLU on the grid, so no feature is clipped dead."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            ResBlock(32),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.AvgPool2d(2),
            nn.Conv2d(32, GRID_C, 1, bias=False), nn.BatchNorm2d(GRID_C),
        )

    def grid(self, x):
        return self.net(x)                         # [B,8,4,4]

    def forward(self, x):
        return torch.flatten(self.net(x), 1)      # [B,128], row-major (c, y, x)


class EncoderWithHead(nn.Module):
    """Feature extractor + a training-only classification head on the grid:
    ReLU -> conv 1x1 (8->64) -> ReLU -> global average pool -> Linear(64 -> 10)."""

    def __init__(self):
        super().__init__()
        self.features = FeatureExtractor()
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(GRID_C, 64, 1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features.grid(x))


def load_encoder(path=None):
    path = path or os.path.join(HERE, "frame-encoder.pt")
    ck = torch.load(path, map_location="cpu")
    enc = FeatureExtractor()
    enc.load_state_dict(ck["state_dict"])
    enc.eval()
    return enc, float(ck["mean"]), float(ck["std"])


def read_yaml_mean_std(path):
    """mean/std from frame-encoder.yaml (tiny parser: the manifest is written by train_encoder.py)."""
    import re
    text = open(path).read()
    m = re.search(r"mean:\s*([0-9.eE+-]+)", text)
    s = re.search(r"std:\s*([0-9.eE+-]+)", text)
    return float(m.group(1)), float(s.group(1))


# =====================================================================================
# A small numpy interpreter for the exported graphs (float64)
# =====================================================================================
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _conv2d(x, w, b, strides, pads, group):
    assert group == 1
    B, C, H, W = x.shape
    O, _, kh, kw = w.shape
    pt, pl, pb, pr = pads[0], pads[1], pads[2], pads[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    sh, sw = strides
    Ho = (H + pt + pb - kh) // sh + 1
    Wo = (W + pl + pr - kw) // sw + 1
    cols = np.empty((B, C, kh, kw, Ho, Wo))
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    out = np.einsum("bcijhw,ocij->bohw", cols, w, optimize=True)
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def _pool(x, k, s, pads, kind):
    assert all(p == 0 for p in pads)
    B, C, H, W = x.shape
    Ho, Wo = (H - k[0]) // s[0] + 1, (W - k[1]) // s[1] + 1
    win = np.stack([x[:, :, i:i + s[0] * Ho:s[0], j:j + s[1] * Wo:s[1]]
                    for i in range(k[0]) for j in range(k[1])])
    return win.max(0) if kind == "max" else win.mean(0)


def run_onnx_numpy(path, feeds):
    """Runs the ONNX file with numpy in float64 (only the ops these exports use)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)

    def arr(t):
        a = numpy_helper.to_array(t)
        return a.astype(np.float64) if a.dtype.kind == "f" else a
    env = {t.name: arr(t) for t in m.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    for nd in m.graph.node:
        at = {a.name: onnx.helper.get_attribute_value(a) for a in nd.attribute}
        i = [env[n] if n else None for n in nd.input]
        op = nd.op_type
        if op == "Constant":
            out = [arr(at["value"])]
        elif op == "Unsqueeze":
            out = [np.expand_dims(i[0], tuple(int(a) for a in i[1]))]
        elif op == "Squeeze":
            out = [np.squeeze(i[0], axis=tuple(int(a) for a in i[1]))]
        elif op == "Gather":
            out = [np.take(i[0], i[1], axis=at.get("axis", 0))]
        elif op == "Gemm":
            a = i[0].T if at.get("transA", 0) else i[0]
            b = i[1].T if at.get("transB", 0) else i[1]
            out = [at.get("alpha", 1.0) * a @ b + at.get("beta", 1.0) * (i[2] if len(i) > 2 else 0)]
        elif op == "Conv":
            k = at.get("kernel_shape", i[1].shape[2:])
            out = [_conv2d(i[0], i[1], i[2] if len(i) > 2 else None, at.get("strides", [1, 1]),
                           at.get("pads", [0, 0, 0, 0]), at.get("group", 1))]
            assert list(k) == list(i[1].shape[2:])
        elif op == "BatchNormalization":
            x, sc, bi, mu, var = i[:5]
            e = at.get("epsilon", 1e-5)
            sh = (1, -1, 1, 1)
            out = [(x - mu.reshape(sh)) / np.sqrt(var.reshape(sh) + e) * sc.reshape(sh) + bi.reshape(sh)]
        elif op == "Pad":
            assert at.get("mode", b"constant") in (b"constant", "constant")
            pads = [int(v) for v in i[1]]
            n = len(pads) // 2
            cval = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
            out = [np.pad(i[0], [(pads[k], pads[k + n]) for k in range(n)], constant_values=cval)]
        elif op == "Relu":
            out = [np.maximum(i[0], 0)]
        elif op == "Add":
            out = [i[0] + i[1]]
        elif op == "Sub":
            out = [i[0] - i[1]]
        elif op == "Identity":
            out = [i[0]]
        elif op == "Concat":
            out = [np.concatenate(i, axis=at["axis"])]
        elif op == "MaxPool":
            out = [_pool(i[0], at["kernel_shape"], at.get("strides", at["kernel_shape"]), at.get("pads", [0] * 4), "max")]
        elif op == "AveragePool":
            out = [_pool(i[0], at["kernel_shape"], at.get("strides", at["kernel_shape"]), at.get("pads", [0] * 4), "avg")]
        elif op == "Flatten":
            ax = at.get("axis", 1)
            out = [i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)]
        elif op == "Softmax":
            ax = at.get("axis", -1)
            e = np.exp(i[0] - i[0].max(axis=ax, keepdims=True))
            out = [e / e.sum(axis=ax, keepdims=True)]
        elif op == "GRU":
            assert set(at) <= {"hidden_size", "linear_before_reset"}, at
            assert at.get("linear_before_reset", 0) == 1
            X, Wt, R, Bs = i[0], i[1][0], i[2][0], i[3][0]
            H = at["hidden_size"]
            assert len(i) <= 4 or i[4] is None
            h = i[5][0]
            Wb, Rb = Bs[:3 * H], Bs[3 * H:]
            ys = []
            for t in range(X.shape[0]):
                gx = X[t] @ Wt.T + Wb
                gh = h @ R.T + Rb
                zt = _sig(gx[:, :H] + gh[:, :H])
                rt = _sig(gx[:, H:2 * H] + gh[:, H:2 * H])
                ht = np.tanh(gx[:, 2 * H:] + rt * gh[:, 2 * H:])
                h = (1 - zt) * ht + zt * h
                ys.append(h)
            out = [np.stack(ys)[:, None], h[None]]
        else:
            raise ValueError(f"numpy interpreter: unsupported op {op}")
        for n, v in zip(nd.output, out):
            env[n] = v
    return [env[o.name] for o in m.graph.output]


def io_dims(model):
    def dims(vi):
        return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
    return {vi.name: dims(vi) for vi in list(model.graph.input) + list(model.graph.output)}


def tolist2(a):
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float64)]

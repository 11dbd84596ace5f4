#!/usr/bin/env python3
"""Golden vectors for the frame encoder on colour camera frames (JPEG and PNG, camera sizes).

    /usr/bin/python3 models/activity/make_camera_golden.py [--out models/activity/golden]

The Java pipeline decodes colour JPEG/PNG frames of any size and preprocesses them as
docs/model-contract.md ("Frame encoders") says: grayscale with rounded BT.601 weights, resize to
the manifest's width x height (block mean for integer factors, else bilinear with half-pixel
centres), then (v/255 - mean)/std. golden/frame-encoder.json covers only 64x64 gray frames, where
none of that happens. This script makes the reference for what users send:

1. A few colour frames: items of the held-out clip (clip/frame-*.png) composited in colour, scaled
   up, with a soft shadow, onto a coloured textured scene (wall/floor gradient, wood-like stripes,
   smooth value noise, vignette, mild sensor noise), at camera sizes. Each is written as a colour
   PNG (pure Python zlib writer) and as a colour JPEG (quality 85, 4:2:0, libjpeg defaults, through
   tools/jpeg_rgb.c, compiled here with gcc into a temporary directory) under golden/camera/.
2. Decodes each JPEG with libjpeg (the same C helper: JDCT_ISLOW, fancy upsampling, the system
   libjpeg-turbo that Debian's OpenJDK ImageIO also uses) and each PNG in Python; applies the
   contract's preprocessing in numpy (float64, in the Java code's order of operations), checks it
   against PyTorch's own ops (F.avg_pool2d / F.interpolate bilinear, align_corners=False), and runs
   the PyTorch encoder (frame-encoder.pt, eval mode; not ONNX Runtime) for the features.
3. Writes golden/frame-encoder-camera.json: per frame and encoding, the files, size, resize path,
   sha256 of the decoded RGB bytes (row-major R,G,B) and of the full-size gray bytes, the encoder
   input [64*64] and the features [128] (float32 values, shortest repr).

Checked by src/test/java/io/engram/pipeline/video/CameraFrameParityTest.java (no gcc/Python needed).
Deterministic given the same libjpeg: re-running rewrites identical files.
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, ENCODER_ID, VERSION, load_encoder, normalise, read_yaml_mean_std, run_onnx_numpy  # noqa: E402

JPEG_QUALITY = 85
SEED = 20240917
# (width, height, clip frame): camera sizes first; then a square integer factor, a small size with
# partial JPEG blocks (not a multiple of 16, odd) and an upscale. Resize path for a 64x64 encoder:
FRAMES = [
    (320, 240, 10),   # QVGA camera: 5 x 3.75 -> bilinear
    (768, 576, 40),   # PAL camera: 12 x 9 integer factors -> block mean ("area")
    (320, 320, 70),   # 5 x 5 -> block mean
    (97, 73, 95),     # non-integer, odd, partial MCUs and chroma edges -> bilinear
    (48, 36, 115),    # smaller than the input: bilinear upscale, edge clamping
]


# =====================================================================================
# PNG (8-bit gray / RGB / RGBA, not interlaced) in pure Python
# =====================================================================================
def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def write_png(path, rgb):
    """rgb: uint8 [H,W,3]. Per row the filter with the smallest sum of |residual| (zlib level 9)."""
    h, w, _ = rgb.shape
    raw = rgb.reshape(h, w * 3).astype(np.int32)
    prior = np.vstack([np.zeros((1, w * 3), np.int32), raw[:-1]])
    left = np.hstack([np.zeros((h, 3), np.int32), raw[:, :-3]])
    upleft = np.hstack([np.zeros((h, 3), np.int32), prior[:, :-3]])
    cands = [raw, raw - left, raw - prior, raw - (left + prior) // 2, raw - _paeth(left, prior, upleft)]
    cands = [c & 0xFF for c in cands]
    cost = np.stack([np.where(c < 128, c, 256 - c).sum(1) for c in cands])   # [5, H]
    best = cost.argmin(0)
    rows = bytearray()
    for y in range(h):
        rows.append(int(best[y]))
        rows += cands[best[y]][y].astype(np.uint8).tobytes()

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as fh:
        fh.write(png)


def read_png(path):
    """-> uint8 [H,W,C] (C = 1 gray, 3 RGB, 4 RGBA)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        elif tag == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and interlace == 0 and ctype in (0, 2, 6), f"{path}: unsupported PNG {hdr}"
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        if ft == 0:
            cur = line
        elif ft == 2:
            cur = (line + prev) & 0xFF
        else:   # Sub, Average, Paeth depend on the reconstructed left neighbour: sequential
            ln, pv = line.tolist(), prev.tolist()
            cl = [0] * stride
            for x in range(stride):
                a = cl[x - bpp] if x >= bpp else 0
                b = pv[x]
                c = pv[x - bpp] if x >= bpp else 0
                if ft == 1:
                    p = a
                elif ft == 3:
                    p = (a + b) >> 1
                else:
                    pp = a + b - c
                    pa, pb, pc = abs(pp - a), abs(pp - b), abs(pp - c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cl[x] = (ln[x] + p) & 0xFF
            cur = np.asarray(cl, np.int32)
        out[y] = cur
        prev = cur
    return out.reshape(h, w, bpp)


# =====================================================================================
# JPEG through libjpeg (tools/jpeg_rgb.c)
# =====================================================================================
class Jpeg:
    def __init__(self, tmp):
        self.tmp = tmp
        self.exe = os.path.join(tmp, "jpeg_rgb")
        src = os.path.join(HERE, "tools", "jpeg_rgb.c")
        subprocess.run(["gcc", "-O2", "-Wall", "-o", self.exe, src, "-ljpeg"], check=True)

    def encode(self, rgb, path, quality):
        h, w, _ = rgb.shape
        raw = os.path.join(self.tmp, "in.rgb")
        with open(raw, "wb") as fh:
            fh.write(np.ascontiguousarray(rgb, np.uint8).tobytes())
        subprocess.run([self.exe, "enc", str(w), str(h), str(quality), raw, path], check=True)

    def decode(self, path):
        raw = os.path.join(self.tmp, "out.rgb")
        r = subprocess.run([self.exe, "dec", path, raw], check=True, capture_output=True, text=True)
        w, h = (int(v) for v in r.stdout.split())
        return np.fromfile(raw, np.uint8).reshape(h, w, 3)


# =====================================================================================
# Synthetic colour scenes
# =====================================================================================
def bilinear_up(img, h, w):
    """Smooth upsampling (half-pixel centres, edge clamp) of a float [h0,w0] array to [h,w]."""
    t = torch.from_numpy(np.ascontiguousarray(img, np.float64))[None, None]
    return F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()


def value_noise(rng, h, w, cells):
    return sum(bilinear_up(rng.random((max(2, h // c), max(2, w // c))), h, w) / (i + 1)
               for i, c in enumerate(cells))


def scene(w, h, item_u8, rng):
    """A colour frame [h,w,3] uint8: a tinted clip item with a soft shadow on a textured room."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = xx / w, yy / h
    horizon = 0.55 + 0.1 * rng.random()
    wall = np.array([0.62, 0.66, 0.72]) + 0.08 * (rng.random(3) - 0.5)
    floor = np.array([0.55, 0.40, 0.26]) + 0.08 * (rng.random(3) - 0.5)
    nz = value_noise(rng, h, w, (max(4, w // 6), max(3, w // 20)))
    nz = (nz - nz.mean()) / (nz.std() + 1e-9)
    # wall: vertical light falloff + blotchy paint; floor: wood-like stripes in perspective
    wall_img = wall[None, None] * (0.85 + 0.25 * (1 - v) + 0.03 * nz)[..., None]
    depth = np.maximum(v - horizon, 1e-3)
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * ((u - 0.5) / (depth + 0.15) * 3.0 + 0.6 * nz))
    floor_img = floor[None, None] * (0.75 + 0.15 * stripes + 0.25 * (v - horizon) + 0.04 * nz)[..., None]
    edge = np.clip((v - horizon) * h / 1.5 + 0.5, 0, 1)[..., None]        # ~1.5 px soft horizon
    img = wall_img * (1 - edge) + floor_img * edge
    # the item: upscaled clip frame, tinted, with a shadow
    side = int(round(0.9 * min(w, h)))
    item = bilinear_up(item_u8.astype(np.float64) / 255.0, side, side)
    alpha = np.clip((item - 0.08) / 0.15, 0, 1)          # the clip's dark, noisy background -> transparent
    item = np.clip((item - 0.08) / max(1e-6, item.max() - 0.08), 0, 1)
    tint = np.array([0.85, 0.25, 0.2]) if rng.random() < 0.5 else np.array([0.2, 0.45, 0.85])
    tint = np.clip(tint + 0.15 * (rng.random(3) - 0.5), 0, 1)
    ox = int(rng.integers(0, max(1, w - side)))
    oy = int(rng.integers(0, max(1, h - side)))
    A = np.zeros((h, w))
    C = np.zeros((h, w, 3))
    A[oy:oy + side, ox:ox + side] = alpha
    C[oy:oy + side, ox:ox + side] = (0.25 + 0.75 * item)[..., None] * tint[None, None]
    sh = np.zeros((h, w))
    dx, dy = max(1, side // 20), max(1, side // 14)
    sh[oy + dy:oy + side, ox + dx:ox + side] = alpha[:side - dy, :side - dx]
    sh = bilinear_up(sh[::2, ::2], h, w) if min(h, w) >= 8 else sh
    img = img * (1 - 0.35 * sh)[..., None]
    img = img * (1 - A[..., None]) + C * A[..., None]
    vign = 1 - 0.25 * ((u - 0.5) ** 2 + (v - 0.5) ** 2) / 0.5
    img = img * vign[..., None] + rng.normal(0, 0.8 / 255, img.shape)     # mild sensor noise
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


# =====================================================================================
# The contract's preprocessing (docs/model-contract.md, "Frame encoders")
# =====================================================================================
def to_gray(rgb):
    """g = rint(0.299 R + 0.587 G + 0.114 B) in float64, ties to even (np.rint), as uint8."""
    if rgb.shape[-1] == 1:
        return rgb[..., 0].copy()
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    return np.rint(0.299 * r + 0.587 * g + 0.114 * b).astype(np.uint8)


def resize_path(iw, ih, ow, oh):
    if (iw, ih) == (ow, oh):
        return "none"
    if iw % ow == 0 and ih % oh == 0:
        return "area"
    return "bilinear"


def resize(gray, ow, oh):
    """float64 [oh,ow] on the 0..255 scale, in the same operations as FramePreprocessor.toInput."""
    ih, iw = gray.shape
    path = resize_path(iw, ih, ow, oh)
    g = gray.astype(np.int64)
    if path == "none":
        return g.astype(np.float64), path
    if path == "area":
        fx, fy = iw // ow, ih // oh
        s = g.reshape(oh, fy, ow, fx).sum(axis=(1, 3))
        return s.astype(np.float64) / float(fx * fy), path
    sx, sy = iw / ow, ih / oh
    src_x = np.clip((np.arange(ow) + 0.5) * sx - 0.5, 0, iw - 1)
    src_y = np.clip((np.arange(oh) + 0.5) * sy - 0.5, 0, ih - 1)
    x0 = np.floor(src_x).astype(np.int64)
    y0 = np.floor(src_y).astype(np.int64)
    x1 = np.minimum(iw - 1, x0 + 1)
    y1 = np.minimum(ih - 1, y0 + 1)
    wx = (src_x - x0)[None, :]
    wy = (src_y - y0)[:, None]
    g00, g01 = g[y0][:, x0], g[y0][:, x1]
    g10, g11 = g[y1][:, x0], g[y1][:, x1]
    top = g00 * (1 - wx) + g01 * wx
    bottom = g10 * (1 - wx) + g11 * wx
    return top * (1 - wy) + bottom * wy, path


def resize_torch(gray, ow, oh, path):
    """The same resize with PyTorch's own ops (a cross-check of the numpy reference)."""
    ih, iw = gray.shape
    t = torch.from_numpy(gray.astype(np.float64))[None, None]
    if path == "none":
        return gray.astype(np.float64)
    if path == "area":
        return F.avg_pool2d(t, kernel_size=(ih // oh, iw // ow))[0, 0].numpy()
    return F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=False)[0, 0].numpy()


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a, np.uint8).tobytes()).hexdigest()


def f32list(a):
    """float32 values as their shortest round-tripping decimals (checked: decimal -> double -> float)."""
    a = np.asarray(a, np.float32).ravel()
    out = [float(str(v)) for v in a]
    back = np.asarray(out, np.float64).astype(np.float32)
    assert np.array_equal(back.view(np.uint32), a.view(np.uint32)), "float32 round trip"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "golden"))
    args = ap.parse_args()
    torch.set_num_threads(1)

    enc, mean_pt, std_pt = load_encoder()
    mean, std = read_yaml_mean_std(os.path.join(HERE, "frame-encoder.yaml"))
    assert (mean, std) == (mean_pt, std_pt), "manifest and frame-encoder.pt disagree on mean/std"
    oh = ow = 64
    cam_dir = os.path.join(args.out, "camera")
    os.makedirs(cam_dir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    frames, checks = [], {}
    inputs_all = []
    with tempfile.TemporaryDirectory() as tmp:
        jpeg = Jpeg(tmp)
        for (w, h, clip_i) in FRAMES:
            item = read_png(os.path.join(HERE, "clip", f"frame-{clip_i:05d}.png"))[..., 0]
            rgb = scene(w, h, item, rng)
            name = f"cam-{w}x{h}"
            png_name, jpg_name = name + ".png", name + ".jpg"
            write_png(os.path.join(cam_dir, png_name), rgb)
            jpeg.encode(rgb, os.path.join(cam_dir, jpg_name), JPEG_QUALITY)
            entry = {"name": name, "width": w, "height": h, "resize": resize_path(w, h, ow, oh),
                     "source": {"clip_frame": f"clip/frame-{clip_i:05d}.png"}}
            if entry["resize"] == "area":
                entry["factors"] = [w // ow, h // oh]
            decoded = {"png": read_png(os.path.join(cam_dir, png_name)),
                       "jpeg": jpeg.decode(os.path.join(cam_dir, jpg_name))}
            assert np.array_equal(decoded["png"], rgb), "PNG writer/reader round trip"
            for kind, file_name, ctype in (("jpeg", jpg_name, "image/jpeg"), ("png", png_name, "image/png")):
                px = decoded[kind]
                assert px.shape == (h, w, 3)
                gray = to_gray(px)
                resized, path = resize(gray, ow, oh)
                rt = resize_torch(gray, ow, oh, path)
                checks[f"{name}.{kind}.resize_numpy_vs_torch_max_abs"] = float(np.abs(rt - resized).max())
                x = normalise(resized, mean, std)                          # [1,1,64,64] float32
                with torch.no_grad():
                    feats = enc(x).numpy()[0]
                inputs_all.append(x.numpy())
                entry[kind] = {
                    "file": f"camera/{file_name}", "content_type": ctype,
                    "bytes": os.path.getsize(os.path.join(cam_dir, file_name)),
                    "rgb_sha256": sha256(px), "gray_sha256": sha256(gray),
                    "gray_mean": round(float(gray.mean()), 4),
                    "input": f32list(x.numpy()), "features": f32list(feats),
                }
            d = np.abs(np.asarray(entry["jpeg"]["input"]) - np.asarray(entry["png"]["input"]))
            entry["jpeg_vs_png_input_max_abs"] = float(f"{d.max():.6g}")
            fj, fp = np.asarray(entry["jpeg"]["features"]), np.asarray(entry["png"]["features"])
            entry["jpeg_vs_png_features_max_abs"] = float(f"{np.abs(fj - fp).max():.6g}")
            frames.append(entry)
            print(f"{name}: resize={entry['resize']} jpeg {entry['jpeg']['bytes']} B, png {entry['png']['bytes']} B, "
                  f"jpeg-vs-png input {entry['jpeg_vs_png_input_max_abs']:.3g}, "
                  f"features {entry['jpeg_vs_png_features_max_abs']:.3g}", flush=True)

    # The .onnx file on the same inputs, with the float64 numpy interpreter (information only:
    # the golden features are PyTorch's).
    xs = np.concatenate(inputs_all)
    with torch.no_grad():
        ft = enc(torch.from_numpy(xs)).numpy()
    fo = run_onnx_numpy(os.path.join(HERE, "frame-encoder.onnx"), {"image": xs})[0]
    checks["onnx_numpy_vs_torch_features_max_abs"] = float(np.abs(fo - ft).max())
    b1 = np.stack([np.asarray(f[k]["features"]) for f in frames for k in ("jpeg", "png")])
    checks["torch_batch_vs_batch1_features_max_abs"] = float(np.abs(ft - b1).max())
    print(f"checks: {checks}", flush=True)
    assert max(v for k, v in checks.items() if "resize" in k) <= 1e-9, checks
    assert checks["onnx_numpy_vs_torch_features_max_abs"] <= 1e-4, checks

    golden = {
        "model_id": ENCODER_ID, "version": VERSION,
        "image": {"channels": 1, "height": oh, "width": ow, "mean": mean, "std": std},
        "command": "/usr/bin/python3 models/activity/make_camera_golden.py",
        "jpeg": {"quality": JPEG_QUALITY, "subsampling": "4:2:0", "encoder": "libjpeg-turbo via tools/jpeg_rgb.c",
                 "decoder": "libjpeg-turbo (libjpeg.so.62): JDCT_ISLOW, fancy upsampling, JCS_RGB"},
        "preprocessing": "docs/model-contract.md, Frame encoders: gray rint(0.299R+0.587G+0.114B), "
                         "area (block mean) for integer factors else bilinear half-pixel, (v/255-mean)/std",
        "checksums": "sha256 of the decoded RGB bytes (row-major R,G,B) and of the full-size gray bytes (row-major)",
        "features_from": "PyTorch frame-encoder.pt, eval mode, batch 1",
        "checks": checks,
        "frames": frames,
    }
    path = os.path.join(args.out, "frame-encoder-camera.json")
    with open(path, "w") as fh:
        json.dump(golden, fh, separators=(",", ":"))
        fh.write("\n")
    total = sum(os.path.getsize(os.path.join(cam_dir, f)) for f in os.listdir(cam_dir)) + os.path.getsize(path)
    print(f"wrote {path} ({os.path.getsize(path)} B); golden/camera + json: {total} B", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Exports the released sensor GRU forecaster in its full-sequence form, for the windowed baseline
of `./engram bench` (the way of running an RNN that Engram's stateful step replaces: rerun the
model over each stream's last T readings for every reading).

The released model is the step export of train.py (sensor-gru.onnx); its weights are read back from
that file into train.py's own `Forecaster` (nn.GRU + Linear), which is then checked against the
step model's golden vectors (made by PyTorch at training time) and exported over a whole window:

    z [T, batch, 1] (normalised readings, oldest first)  ->  y [batch, 1] (the forecast after the last)

from a zero hidden state, dynamic T and batch, opset 17. Also writes golden/sensor-gru-window.json:
PyTorch's output for a few windows, which the Java test compares ONNX Runtime with.

    /usr/bin/python3 models/sensor-forecaster/export_window.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402  (the model class and constants of the released forecaster)


def load_step_weights(path):
    """train.Forecaster('gru') with the weights of the exported step model."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    gru = [n for n in m.graph.node if n.op_type == "GRU"]
    assert len(gru) == 1, [n.op_type for n in m.graph.node]
    g = gru[0]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in g.attribute}
    assert attrs.get("linear_before_reset", 0) == 1, attrs  # PyTorch's GRU form
    W, R, B = (init[g.input[i]][0] for i in (1, 2, 3))     # [3H, I], [3H, H], [6H]
    H = train.HIDDEN

    def torch_order(a):  # ONNX gates z, r, h -> PyTorch r, z, n
        return np.concatenate([a[H:2 * H], a[0:H], a[2 * H:3 * H]], axis=0)

    f = train.Forecaster("gru")
    with torch.no_grad():
        f.rnn.weight_ih_l0.copy_(torch.from_numpy(torch_order(W)))
        f.rnn.weight_hh_l0.copy_(torch.from_numpy(torch_order(R)))
        f.rnn.bias_ih_l0.copy_(torch.from_numpy(torch_order(B[:3 * H])))
        f.rnn.bias_hh_l0.copy_(torch.from_numpy(torch_order(B[3 * H:])))
        f.head.weight.copy_(torch.from_numpy(init["head.weight"]))
        f.head.bias.copy_(torch.from_numpy(init["head.bias"]))
    return f.eval()


class Window(nn.Module):
    """The forecaster over a whole window from a zero state; the forecast after its last reading."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, z):                   # z [T, B, 1]
        y, _ = self.f(z)
        return y[-1]                         # [B, 1]


def main():
    step_onnx = os.path.join(HERE, "sensor-gru.onnx")
    out_onnx = os.path.join(HERE, "sensor-gru-window.onnx")
    f = load_step_weights(step_onnx)
    # The weights read back must give the released model's golden vectors (made by PyTorch).
    g = json.load(open(os.path.join(HERE, "golden", "sensor-gru.json")))
    seq = g["sequence"]
    z = torch.tensor(seq["z"], dtype=torch.float32).unsqueeze(1)  # [T, 1, 1]
    with torch.no_grad():
        y, _ = f(z)
    d = float(np.abs(y[:, 0, :].numpy().astype(np.float64) - np.array(seq["y"])).max())
    assert d <= 1e-5, f"weights read back differ from the released model's golden sequence: {d}"
    s = g["single_step"]
    with torch.no_grad():
        out, hn = f.rnn(torch.tensor(s["x"], dtype=torch.float32).unsqueeze(0),
                        torch.tensor(s["state_in"]["h"], dtype=torch.float32).unsqueeze(0))
        ys = f.head(out[0])
    d1 = float(np.abs(ys.numpy() - np.array(s["output"])).max())
    assert d1 <= 1e-5, d1

    win = Window(f).eval()
    T = 64
    torch.onnx.export(win, (torch.zeros(T, 2, 1),), out_onnx, opset_version=train.OPSET, input_names=["z"],
                      output_names=["y"], dynamic_axes={"z": {0: "time", 1: "batch"}, "y": {0: "batch"}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(out_onnx), full_check=True)

    # Golden windows: the golden sequence's normalised readings (repeated to T), a sine and two
    # random windows; PyTorch's forecasts after each.
    rng = np.random.default_rng(7)
    zs = np.array(seq["z"], dtype=np.float32)[:, 0]
    windows = [np.resize(zs, T).astype(np.float32),
               np.sin(np.arange(T) / 5.0).astype(np.float32),
               rng.normal(0, 1.0, T).astype(np.float32),
               rng.normal(0, 2.0, T).astype(np.float32)]
    batch = torch.from_numpy(np.stack(windows, axis=1)[:, :, None])  # [T, B, 1]
    with torch.no_grad():
        yb = win(batch).numpy()
    golden = {"model": "sensor-gru-window.onnx", "from": "sensor-gru.onnx", "T": T,
              "windows": [[float(v) for v in w] for w in windows],
              "y": [float(v) for v in yb[:, 0]],
              "readback_max_abs_diff": max(d, d1)}
    with open(os.path.join(HERE, "golden", "sensor-gru-window.json"), "w") as fh:
        json.dump(golden, fh, indent=1)
    print(f"wrote {out_onnx} ({os.path.getsize(out_onnx)} bytes) and golden/sensor-gru-window.json;"
          f" weights read back match the released model's golden vectors to {max(d, d1):.2e}")


if __name__ == "__main__":
    main()

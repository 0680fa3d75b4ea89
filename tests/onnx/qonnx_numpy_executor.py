"""An independent evaluator of QONNX graphs: the standard ONNX operators the models use and the
QONNX ones (Quant, BipolarQuant, MultiThreshold), written with NumPy from their definitions, in
float32 as ONNX evaluates them. It shares nothing with qdf's importer; the tests compare its
labels with qdf's reference model image by image."""
import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _round(x, mode):
    mode = mode.decode() if isinstance(mode, bytes) else mode
    return {"ROUND": np.round, "ROUND_TO_ZERO": np.trunc, "FLOOR": np.floor, "CEIL": np.ceil}[mode](x)


def _quant(x, scale, zp, bits, signed, narrow, mode):
    bits = float(bits)
    if signed:
        lo, hi = -(2 ** (bits - 1)) + (1 if narrow else 0), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2 ** bits - 1 - (1 if narrow else 0)
    q = np.clip(_round(x / scale + zp, mode), lo, hi)
    return ((q - zp) * scale).astype(np.float32)


def _multithreshold(x, t, out_scale, out_bias):
    # out = out_scale * #{i : x >= T[c][i]} + out_bias, channels on axis 1
    c = x.shape[1]
    t = np.broadcast_to(t, (c, t.shape[1])) if t.shape[0] == 1 else t
    shape = [1] * x.ndim
    shape[1] = c
    count = np.zeros_like(x)
    for i in range(t.shape[1]):
        count += (x >= t[:, i].reshape(shape)).astype(np.float32)
    return (out_scale * count + out_bias).astype(np.float32)


def _conv(x, w, strides, pads):
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::strides[0], ::strides[1]]  # n, c, oh, ow, k, k
    return np.einsum("ncyxij,ocij->noyx", win, w, optimize=True).astype(np.float32)


def _maxpool(x, k, strides, pads):
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp, tuple(k), axis=(2, 3))[:, :, ::strides[0], ::strides[1]]
    return win.max(axis=(4, 5)).astype(np.float32)


_initializers = {}


def run(model, image):
    """The graph's output for one image (a float32 array of the input's shape)."""
    g = model.graph
    cached = _initializers.get(id(model))
    if cached is None or cached[0] is not model:  # converted once per model (held, so that its id stays its own)
        cached = _initializers[id(model)] = (model, {t.name: numpy_helper.to_array(t) for t in g.initializer})
    env = dict(cached[1])
    real = [i for i in g.input if i.name not in env]
    env[real[0].name] = image.astype(np.float32)
    for node in g.node:
        a = _attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(a["axes"]):
                y = np.expand_dims(y, ax)
        elif op == "Squeeze":
            y = np.squeeze(x[0], axis=tuple(a["axes"]))
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif op == "Reshape":
            y = x[0].reshape([int(v) for v in x[1]])
        elif op == "Flatten":
            y = x[0].reshape(x[0].shape[0], -1)
        elif op in ("Mul", "Add", "Sub", "Div", "Pow"):
            f = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Div": np.divide, "Pow": np.power}[op]
            y = f(x[0], x[1]).astype(np.float32) if x[0].dtype != np.int64 else f(x[0], x[1])
        elif op == "Transpose":
            y = np.transpose(x[0], a.get("perm"))
        elif op == "MatMul":
            y = np.matmul(x[0], x[1]).astype(np.float32)
        elif op == "BatchNormalization":
            shape = [1] * x[0].ndim
            shape[1] = -1
            s, b, m, v = (t.reshape(shape) for t in x[1:5])
            y = ((x[0] - m) / np.sqrt(v + np.float32(a.get("epsilon", 1e-5))) * s + b).astype(np.float32)
        elif op == "BipolarQuant":
            y = (np.where(x[0] >= 0, 1.0, -1.0) * x[1]).astype(np.float32)
        elif op == "Quant":
            y = _quant(x[0], x[1], x[2], x[3], a.get("signed", 1), a.get("narrow", 0), a.get("rounding_mode", "ROUND"))
        elif op == "MultiThreshold":
            y = _multithreshold(x[0], x[1], a.get("out_scale", 1.0), a.get("out_bias", 0.0))
        elif op == "Conv":
            y = _conv(x[0], x[1], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]))
            if len(x) > 2 and x[2] is not None:
                y = y + x[2].reshape(1, -1, 1, 1)
        elif op == "MaxPool":
            y = _maxpool(x[0], a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]))
        elif op == "GlobalAveragePool":
            y = x[0].mean(axis=(2, 3), keepdims=True).astype(np.float32)
        elif op == "Gemm":
            b = x[1].T if a.get("transB", 0) else x[1]
            y = (np.float32(a.get("alpha", 1.0)) * np.matmul(x[0], b)).astype(np.float32)
            if len(x) > 2 and x[2] is not None:
                y = y + np.float32(a.get("beta", 1.0)) * x[2]
        elif op == "ReduceSum":
            y = x[0].sum(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1))).astype(np.float32)
        elif op == "TopK":
            k = int(x[1][0])
            idx = np.argsort(-x[0], axis=-1, kind="stable")[..., :k]  # ties: the lower index first
            env[node.output[0]] = np.take_along_axis(x[0], idx, axis=-1)
            y = idx.astype(np.int64)
            env[node.output[1]] = y
            continue
        elif op == "ArgMax":
            y = np.argmax(x[0], axis=a.get("axis", 0), keepdims=True)
        elif op in ("Identity", "Softmax"):
            y = x[0]  # a final Softmax does not change the top label
        else:
            raise ValueError(f"node {node.name or node.output[0]}: the NumPy evaluator does not support op {op}; "
                             "it supports the QONNX ops qdf imports and exports (docs/onnx.md)")
        env[node.output[0]] = y
    return env[g.output[0].name]


def label(model, image):
    """The top label: the index output of a TopK / ArgMax, or the argmax of scores (ties to the lowest index)."""
    out = run(model, image)
    if out.dtype == np.int64:
        return int(out.ravel()[0])
    return int(np.argmax(out.ravel()))

"""QONNX import and export, end to end through the `qdf` command line, against an independent
NumPy evaluator (qonnx_numpy_executor.py). Usage: test_qonnx.py QDF WORKDIR [PART]

Graphs are built here with onnx.helper (random weights, seeded), in the forms the ecosystem
exports: Brevitas' (domain onnx.brevitas, initializers listed as inputs, a dynamic Flatten,
ternary Quant activations, an unrolled final batch norm) and FINN's (qonnx domain, Conv, MaxPool,
MultiThreshold, TopK). Each is imported; its labels on random images through qdf's reference
model (and simulator) must equal the NumPy evaluator's, image by image: the test writes the
evaluator's labels as the label file, so `qdf eval` must report accuracy 1.0. The real models of
tests/onnx/models (their licences beside them; QDF_QONNX_DIR names another folder) are used when there."""
import gzip
import json
import os
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
import qonnx_numpy_executor as ex  # noqa: E402

QDF, WORK = sys.argv[1], sys.argv[2]
PART = sys.argv[3] if len(sys.argv) > 3 else "all"
os.makedirs(WORK, exist_ok=True)
rng = np.random.default_rng(16)
failures = []


def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def qdf(*args, expect=0):
    r = subprocess.run([QDF, *args], capture_output=True, text=True)
    if r.returncode != expect:
        print(r.stdout, r.stderr)
    return r


def write_idx(path, images, labels):
    with gzip.open(path + "-images.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, len(images), images.shape[1], images.shape[2]) + images.astype(np.uint8).tobytes())
    with open(path + "-labels", "wb") as f:  # one raw, one gzip: both forms of IDX
        f.write(struct.pack(">II", 0x801, len(labels)) + np.array(labels, dtype=np.uint8).tobytes())
    return path + "-images.gz", path + "-labels"


def agree(model_path, images, scale, what, backends=("reference",)):
    """qdf's labels equal the NumPy evaluator's on every image (accuracy 1.0 against them)."""
    m = onnx.load(model_path)
    labels = [ex.label(m, (im.astype(np.float32) * scale).reshape(1, 1, *im.shape)) for im in images]
    imf, lbf = write_idx(os.path.join(WORK, os.path.basename(model_path)), images, labels)
    for b in backends:
        r = qdf("eval", model_path, "--backend", b, "--image-file", imf, "--label-file", lbf, "--json", "--device", "zynq")
        ok = r.returncode == 0
        j = json.loads(r.stdout) if ok else {}
        ok = ok and j["accuracy"] == 1.0 and j["images"] == len(images) and "confusion" in j
        check(ok, f"{what}: qdf {b} gives the NumPy evaluator's labels on {len(images)} images "
                  f"(labels seen: {sorted(set(labels))}; qdf accuracy against them {j.get('accuracy')})")
    return labels


def init(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def brevitas_mlp(path, hidden=32, seed=1):
    """Brevitas' TFC form: ternary (2-bit narrow) input and activations, ±1 weights [out, in] transposed."""
    r = np.random.default_rng(seed)
    nodes, inits = [], []
    nodes += [helper.make_node("Shape", ["x"], ["s"], name="Shape_0"),
              helper.make_node("Gather", ["s", "gidx"], ["s0"], axis=0, name="Gather_1"),
              helper.make_node("Unsqueeze", ["s0"], ["s1"], axes=[0], name="Unsqueeze_2"),
              helper.make_node("Concat", ["s1", "minus1"], ["shape"], axis=0, name="Concat_3"),
              helper.make_node("Reshape", ["x", "shape"], ["flat"], name="Reshape_4"),
              helper.make_node("Mul", ["flat", "two"], ["x2"], name="Mul_5"),
              helper.make_node("Sub", ["x2", "one1"], ["x3"], name="Sub_6")]
    inits += [numpy_helper.from_array(np.array(0, dtype=np.int64), "gidx"), numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus1"),
              init("two", 2.0), init("one1", [1.0]), init("one", 1.0), init("zero", 0.0), init("bits2", 2.0)]
    quant = lambda i, o, n: helper.make_node("Quant", [i, "one", "zero", "bits2"], [o], domain="onnx.brevitas", name=n,
                                             narrow=1, signed=1, rounding_mode="ROUND")
    nodes.append(quant("x3", "a0", "Quant_7"))
    prev, fan = "a0", 784
    for li, out in enumerate([hidden, hidden, 10]):
        w = r.choice([-1.0, 1.0], size=(out, fan))
        inits += [init(f"w{li}", w), init(f"ws{li}", 1.0)]
        nodes += [helper.make_node("BipolarQuant", [f"w{li}", f"ws{li}"], [f"wq{li}"], domain="onnx.brevitas", name=f"BipolarQuant_{li}"),
                  helper.make_node("Transpose", [f"wq{li}"], [f"wt{li}"], perm=[1, 0], name=f"Transpose_{li}"),
                  helper.make_node("MatMul", [prev, f"wt{li}"], [f"mm{li}"], name=f"MatMul_{li}")]
        if out != 10:
            sd = np.sqrt(fan * 0.6)
            inits += [init(f"g{li}", r.uniform(-1.5, 1.5, out)), init(f"b{li}", r.uniform(-1, 1, out)),
                      init(f"m{li}", r.uniform(-sd / 3, sd / 3, out)), init(f"v{li}", r.uniform(0.5, 1.5, out) * fan * 0.6)]
            nodes += [helper.make_node("BatchNormalization", [f"mm{li}", f"g{li}", f"b{li}", f"m{li}", f"v{li}"], [f"bn{li}"],
                                       epsilon=1e-5, name=f"BatchNormalization_{li}"),
                      quant(f"bn{li}", f"a{li + 1}", f"Quant_act{li}")]
            prev, fan = f"a{li + 1}", out
        else:  # the unrolled final batch norm of [1]-shaped parameters
            inits += [init("fm", [0.45]), init("fv", [318.2]), init("half", 0.5), init("fg", [0.73]), init("fb", [-1.14])]
            nodes += [helper.make_node("Sub", ["mm2", "fm"], ["f1"], name="Sub_f"),
                      helper.make_node("Pow", ["fv", "half"], ["f2"], name="Pow_f"),
                      helper.make_node("Div", ["f1", "f2"], ["f3"], name="Div_f"),
                      helper.make_node("Mul", ["f3", "fg"], ["f4"], name="Mul_f"),
                      helper.make_node("Add", ["f4", "fb"], ["scores"], name="Add_f")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])]
    inputs += [helper.make_tensor_value_info(t.name, TensorProto.FLOAT if t.data_type == 1 else TensorProto.INT64, list(t.dims)) for t in inits]
    g = helper.make_graph(nodes, "brevitas_mlp", inputs, [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 10])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)]), path)


def finn_cnn(path, seed=2):
    """FINN's form on a 12x12 image of 0..255: /255, an 8-bit Quant, Conv, BN, a 2-bit unsigned Quant, MaxPool, a padded
    Conv, MultiThreshold to ±1, Flatten, MatMul, a negative scale, TopK."""
    r = np.random.default_rng(seed)
    D = "qonnx.custom_op.general"
    w1 = r.choice([-1.0, 1.0], size=(8, 1, 3, 3))
    w2 = r.choice([-1.0, 1.0], size=(8, 8, 3, 3))
    w3 = r.choice([-1.0, 1.0], size=(8 * 5 * 5, 10))
    inits = [init("k255", 255.0), init("s8", 1 / 255.0), init("z", 0.0), init("b8", 8.0), init("w1", w1), init("one", 1.0),
             init("g1", r.uniform(0.5, 1.5, 8) * np.where(r.random(8) < 0.25, -1, 1)), init("be1", r.uniform(0, 2, 8)),
             init("m1", r.uniform(-1, 1, 8)), init("v1", r.uniform(1, 4, 8)), init("b2", 2.0), init("w2", w2),
             init("t2", np.sort(r.uniform(-20, 20, (8, 1)), axis=1)), init("w3", w3), init("neg", -0.5),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "k")]
    n = helper.make_node
    nodes = [n("Div", ["x", "k255"], ["x1"], name="Div_0"),
             n("Quant", ["x1", "s8", "z", "b8"], ["q0"], domain=D, signed=0, narrow=0, rounding_mode="ROUND", name="Quant_in"),
             n("BipolarQuant", ["w1", "one"], ["w1q"], domain=D, name="BipolarQuant_w1"),
             n("Conv", ["q0", "w1q"], ["c1"], kernel_shape=[3, 3], strides=[1, 1], pads=[0, 0, 0, 0], name="conv1"),
             n("BatchNormalization", ["c1", "g1", "be1", "m1", "v1"], ["bn1"], epsilon=1e-5, name="bn1"),
             n("Quant", ["bn1", "one", "z", "b2"], ["a1"], domain=D, signed=0, narrow=0, rounding_mode="ROUND", name="Quant_a1"),
             n("MaxPool", ["a1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
             n("BipolarQuant", ["w2", "one"], ["w2q"], domain=D, name="BipolarQuant_w2"),
             n("Conv", ["p1", "w2q"], ["c2"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], name="conv2"),
             n("MultiThreshold", ["c2", "t2"], ["a2"], domain=D, out_scale=2.0, out_bias=-1.0, name="MultiThreshold_a2"),
             n("Flatten", ["a2"], ["f"], axis=1, name="flatten"),
             n("MatMul", ["f", "w3"], ["s"], name="fc"),
             n("Mul", ["s", "neg"], ["s2"], name="Mul_neg"),
             n("TopK", ["s2", "k"], ["vals", "idx"], axis=-1, largest=1, sorted=1, name="TopK_0")]
    g = helper.make_graph(nodes, "finn_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 12, 12])],
                          [helper.make_tensor_value_info("idx", TensorProto.INT64, [1, 1])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(D, 1)]), path)


def gap_cnn(path, seed=3):
    """A 2-bit input (a MultiThreshold at the pixel's top two bits, after a Mul by 1/255), a padded Conv, a global average
    pool, Gemm with transB and alpha, ArgMax."""
    r = np.random.default_rng(seed)
    D = "qonnx.custom_op.general"
    n = helper.make_node
    inits = [init("inv255", 1 / 255.0), init("tin", [[64 / 255.0, 128 / 255.0, 192 / 255.0]]), init("w1", r.choice([-1.0, 1.0], size=(16, 1, 3, 3))),
             init("one", 1.0), init("z", 0.0), init("b2", 2.0), init("g", r.uniform(0.2, 0.6, 16)), init("be", r.uniform(0, 2, 16)),
             init("m", r.uniform(-3, 3, 16)), init("v", r.uniform(4, 9, 16)), init("w2", [r.permutation([1.0] * 8 + [-1.0] * 8) for _ in range(10)])]  # balanced rows: the scores follow the features
    nodes = [n("Mul", ["x", "inv255"], ["x1"], name="Mul_in"),
             n("MultiThreshold", ["x1", "tin"], ["q0"], domain=D, name="MultiThreshold_in"),
             n("BipolarQuant", ["w1", "one"], ["w1q"], domain=D, name="BipolarQuant_w1"),
             n("Conv", ["q0", "w1q"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
             n("BatchNormalization", ["c1", "g", "be", "m", "v"], ["bn"], name="bn1"),
             n("Quant", ["bn", "one", "z", "b2"], ["a1"], domain=D, signed=0, narrow=0, rounding_mode="ROUND", name="Quant_a1"),
             n("GlobalAveragePool", ["a1"], ["gp"], name="gap"),
             n("Flatten", ["gp"], ["f"], axis=1, name="flatten"),
             n("Gemm", ["f", "w2"], ["s"], transB=1, alpha=0.25, name="fc"),
             n("ArgMax", ["s"], ["label"], axis=1, keepdims=1, name="ArgMax_0")]
    g = helper.make_graph(nodes, "gap_cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
                          [helper.make_tensor_value_info("label", TensorProto.INT64, [1, 1])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(D, 1)]), path)


def refused(path, must_name, what):
    r = qdf("import", path, "--out", os.path.join(WORK, "refused.qdfmodel"), expect=1)
    ok = r.returncode == 1 and all(s in r.stderr for s in must_name) and not os.path.exists(os.path.join(WORK, "refused.qdfmodel"))
    check(ok, f"{what} is refused naming {must_name}: {r.stderr.strip()[:300]}")


def mutate(src, dst, edit):
    m = onnx.load(src)
    edit(m.graph)
    onnx.save(m, dst)


def generated():
    mlp = os.path.join(WORK, "brevitas_mlp.onnx")
    brevitas_mlp(mlp)
    r = qdf("import", mlp, "--out", os.path.join(WORK, "brevitas_mlp.qdfmodel"))
    check(r.returncode == 0, "the Brevitas-form MLP imports")
    imgs = rng.integers(0, 256, size=(40, 28, 28))
    agree(mlp, imgs, 1 / 255.0, "Brevitas-form MLP (ternary input and activations)", ("reference", "sim"))
    r = qdf("eval", os.path.join(WORK, "brevitas_mlp.qdfmodel"), "--backend", "reference", "--image-file",
            os.path.join(WORK, "brevitas_mlp.onnx-images.gz"), "--label-file", os.path.join(WORK, "brevitas_mlp.onnx-labels"), "--json")
    check(r.returncode == 0 and json.loads(r.stdout)["accuracy"] == 1.0, "the imported .qdfmodel evaluates as its .onnx")
    cnn = os.path.join(WORK, "finn_cnn.onnx")
    finn_cnn(cnn)
    check(qdf("import", cnn, "--out", os.path.join(WORK, "finn_cnn.qdfmodel")).returncode == 0, "the FINN-form CNN imports")
    agree(cnn, rng.integers(0, 256, size=(40, 12, 12)), 1.0, "FINN-form CNN (Conv, MaxPool, padding, negative scales)", ("reference", "sim"))

    gap = os.path.join(WORK, "gap_cnn.onnx")
    gap_cnn(gap)
    r = qdf("import", gap, "--out", os.path.join(WORK, "gap_cnn.qdfmodel"))
    check(r.returncode == 0 and "2 bits" in r.stdout.splitlines()[1], "the global-pool CNN imports, its input 2-bit pixels")
    # images of different brightness and edges in different directions
    yy, xx = np.mgrid[0:8, 0:8] - 3.5
    th = rng.uniform(0, 2 * np.pi, size=(40, 1, 1))
    levels = rng.uniform(40, 215, size=(40, 1, 1)) + rng.uniform(0, 40, size=(40, 1, 1)) * (np.cos(th) * xx + np.sin(th) * yy)
    levels = levels + rng.normal(0, 20, size=(40, 8, 8))
    agree(gap, np.clip(np.round(levels), 0, 255).astype(np.int64), 1.0, "global-pool CNN (2-bit input, GlobalAveragePool, Gemm, ArgMax)",
          ("reference", "sim"))

    # Refusals: each names the node and its op.
    def four_bit(g):
        for nd in g.node:
            if nd.name == "BipolarQuant_1":
                nd.op_type = "Quant"
                nd.input[:] = [nd.input[0], "one", "zero", "bits4"]
        g.initializer.append(init("bits4", 4.0))
    mutate(mlp, os.path.join(WORK, "four_bit.onnx"), four_bit)
    refused(os.path.join(WORK, "four_bit.onnx"), ["MatMul_1", "4-bit"], "a 4-bit weight Quant")

    def softmax_mid(g):
        for nd in g.node:
            if nd.name == "MatMul_1":
                nd.input[0] = "sm"
        g.node.insert(13, helper.make_node("Softmax", ["a1"], ["sm"], axis=1, name="Softmax_mid"))
    mutate(mlp, os.path.join(WORK, "softmax_mid.onnx"), softmax_mid)
    refused(os.path.join(WORK, "softmax_mid.onnx"), ["Softmax_mid", "Softmax"], "a Softmax in the middle")

    def residual(g):
        g.node.append(helper.make_node("Add", ["bn0", "bn0"], ["res"], name="Add_res"))
        g.output[0].name = "res"
    mutate(mlp, os.path.join(WORK, "residual.onnx"), residual)
    refused(os.path.join(WORK, "residual.onnx"), ["Add_res", "residual"], "an Add of two data streams")


def fashion_images(n):
    """The first n Fashion-MNIST test images (Debian's dataset-fashion-mnist, as qdf eval reads them)."""
    d = os.environ.get("QDF_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz")) as f:
        b = f.read()
    return np.frombuffer(b[16:], dtype=np.uint8).reshape(-1, 28, 28)[:n].astype(np.int64)


def model_parts(p):
    """A model file's network name, layer entries and payload words (docs/model_format.md)."""
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[16:24])[0]
    h = json.loads(b[24:24 + n])
    return h["network"], h["layers"], b[24 + n:]


def export_roundtrip():
    models = os.path.join(os.path.dirname(__file__), "..", "..", "host", "models")
    for net, n in (("fashion-mlp", 300), ("fashion-cnv", 24)):
        out = os.path.join(WORK, net + ".onnx")
        check(qdf("export", net, "--out", out).returncode == 0, f"qdf export {net} (its shipped model)")
        again = os.path.join(WORK, net + "-again.qdfmodel")
        check(qdf("import", out, "--out", again).returncode == 0, f"the exported {net} imports")
        check(model_parts(os.path.join(models, net + ".qdfmodel")) == model_parts(again),
              f"{net} re-imported: the same network name, layers and weight/threshold words as its shipped model")
        agree(out, fashion_images(n), 1.0, f"exported {net}")
    out = os.path.join(WORK, "random-cnv.onnx")
    check(qdf("export", "fashion-cnv", "--random-weights", "--weights-seed", "5", "--out", out).returncode == 0,
          "qdf export fashion-cnv with random weights")
    agree(out, fashion_images(20), 1.0, "exported fashion-cnv (random weights and thresholds, 1 in 8 channels flipped)")
    r = qdf("export", "resnet-mini", "--out", os.path.join(WORK, "resnet-mini.onnx"), expect=1)
    check(r.returncode == 1 and "residual" in r.stderr and not os.path.exists(os.path.join(WORK, "resnet-mini.onnx")),
          "exporting a residual block is refused, nothing written")


def shared():
    d = os.environ.get("QDF_QONNX_DIR", os.path.join(os.path.dirname(__file__), "models"))
    if not os.path.isfile(os.path.join(d, "TFC_1W1A.onnx")):
        print(f"skipped: the published QONNX models are not in {d} (set QDF_QONNX_DIR)")
        return "skipped"
    finn = os.path.join(d, "finn_build_dataflow")
    digits = np.load(os.path.join(finn, "input.npy")).reshape(-1, 28, 28)
    expected = [int(v) for v in np.load(os.path.join(finn, "expected_output.npy")).ravel()]
    imf, lbf = write_idx(os.path.join(WORK, "finn-digits"), digits, expected)
    for name, scale in [("finn_build_dataflow/model.onnx", 1.0), ("TFC_1W1A.onnx", 1 / 255.0), ("TFC_1W2A.onnx", 1 / 255.0)]:
        p = os.path.join(d, name)
        for b in ("reference", "sim") + (("rtl",) if name != "finn_build_dataflow/model.onnx" else ()):
            r = qdf("eval", p, "--backend", b, "--image-file", imf, "--label-file", lbf, "--json", "--device", "zynq")
            check(r.returncode == 0 and json.loads(r.stdout)["accuracy"] == 1.0, f"{name}: FINN's 4 digits give {expected} on {b}")
        # and the NumPy evaluator on the digits and on noisy copies of them
        noisy = np.clip(np.repeat(digits, 6, axis=0) + rng.integers(-90, 90, size=(24, 28, 28)), 0, 255)
        w = rng.uniform(0.2, 0.8, size=(24, 1, 1))  # blends of two digits: images near the decision boundaries
        a, b = digits[rng.integers(0, 4, 24)], digits[rng.integers(0, 4, 24)]
        noisy = np.concatenate([noisy, np.round(w * a + (1 - w) * b)])
        agree(p, np.concatenate([digits, noisy]), scale, name)
    words = {}
    for name in ("finn_build_dataflow/model.onnx", "TFC_1W1A.onnx"):
        out = os.path.join(WORK, name.replace("/", "_") + ".qdfmodel")
        qdf("import", os.path.join(d, name), "--out", out)
        words[name] = model_parts(out)[2]
    check(words["TFC_1W1A.onnx"] == words["finn_build_dataflow/model.onnx"], "FINN's model.onnx imports to TFC_1W1A's weights and thresholds")
    refused(os.path.join(d, "TFC_2W2A.onnx"), ["MatMul_20", "Quant_18"], "TFC_2W2A's ternary weights")
    refused(os.path.join(d, "qkeras_jettagging.onnx"), ["MatMul_0", "Quant_6"], "the jet-tagging model's 6-bit weights")


if PART in ("all", "generated"):
    generated()
if PART in ("all", "export"):
    export_roundtrip()
skipped = PART in ("all", "shared") and shared() == "skipped"
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 77 if skipped and PART == "shared" else 0)  # 77: ctest's SKIP_RETURN_CODE

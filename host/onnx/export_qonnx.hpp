// QONNX export: a qdf network and its model written as a QONNX graph that FINN-style tools and
// any ONNX evaluator with the QONNX operators can run, and that import_qonnx() reads back to the
// identical network and weights. The graph takes the pixels as qdf does, 0..255 as floats in
// [1, C, H, W] (metadata `qdf.input_range` = "0..255"), and holds: the input's quantizer (a Quant
// of the pixel's top k bits, or a MultiThreshold at 128 for a binary input), BipolarQuant'ed ±1
// weights under MatMul and Conv, a per-channel Mul by -1 where a threshold's sign is flipped and
// a MultiThreshold per activation (out_scale 2, out_bias -1 for 1-bit ones: ±1), MaxPool,
// ReduceSum for the global pool, and TopK for label select. docs/onnx.md.
#pragma once

#include "manager/model_weights.hpp"
#include "manager/network.hpp"

#include <string>

namespace qdf::host {

// Writes atomically; a network qdf cannot express in QONNX yet (a residual block) is a UserError.
void export_qonnx(const manager::Net& net, const manager::ModelWeights& w, const std::string& path);

}  // namespace qdf::host

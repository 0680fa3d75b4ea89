// QONNX import: a graph of the FINN / Brevitas / hls4ml ecosystem (ONNX with the Quant,
// BipolarQuant and MultiThreshold operators) turned into an ordinary qdf network expression and
// its model (weights and thresholds), so that compile, sim, verify and eval take it unchanged.
//
// The importer walks the graph in its (topological) node order and keeps, for every value, either
// a constant (initializers, and whatever folds from constants: the dynamic Flatten's Shape, Gather,
// Unsqueeze, Concat, Reshape; quantized weights) or the data stream, described as a per-channel
// affine function `scale[c] * q + bias[c]` of what qdf computes at that point (q: the accumulator
// of the last conv / fully connected layer, or the value of the last activation). Scalar and
// per-channel Mul, Add, Sub, Div and batch norm only change that affine function; a quantizer
// (BipolarQuant, Quant, MultiThreshold) after an accumulator becomes an act() layer whose
// thresholds are found in floating point on the accumulator's integers (docs/onnx.md), with the
// comparison of engines/threshold_rule.hpp (`s * acc >= T`, s = -1 for a negative scale). The
// input's quantizer becomes the input format (binary, or unsigned k-bit pixels), or a 1x1 conv
// and an activation when it is a nonlinear map of one-channel pixels. docs/onnx.md lists what is
// supported; everything else is a UserError naming the node, its op and what qdf takes.
#pragma once

#include "manager/model_weights.hpp"
#include "manager/network.hpp"

#include <string>

namespace qdf::host {

// What range the model's float input has for an 8-bit pixel p: p / 255 ([0, 1], as Brevitas
// exports) or p itself (0..255, as FINN's streamlined models and qdf's export take it).
enum class InputRange { Auto, Unit, Byte };
// "auto", "unit" or "byte"; anything else is a UserError.
InputRange input_range_from_name(const std::string& name);
const char* to_string(InputRange r);

struct ImportOptions {
  // Auto: the model's metadata `qdf.input_range` ("0..1" or "0..255") when it has one, else
  // 0..255 when the input is divided by 255 (or multiplied by 1/255) before its quantizer, else 0..1.
  InputRange input_range = InputRange::Auto;
};

struct ImportedModel {
  manager::Net net;
  manager::ModelWeights weights;
  InputRange input_range = InputRange::Unit;  // the one the import assumed
};

ImportedModel import_qonnx(const std::string& path, const ImportOptions& opt = {});

// True when `path` names an ONNX file (by its extension .onnx).
bool is_onnx_path(const std::string& path);

}  // namespace qdf::host

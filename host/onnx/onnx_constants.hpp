// What the QONNX importer does with constants: attribute access, numpy-style arithmetic on
// constant tensors (broadcasting, transposes), the Quant operator's integer range and rounding,
// and the folding of a node whose inputs are all constant (the dynamic Flatten's Shape, Gather,
// Unsqueeze, Concat and Reshape; quantized and transposed weights).
#pragma once

#include "host/onnx/onnx_file.hpp"

#include <functional>
#include <string>
#include <vector>

namespace onnx {
class AttributeProto;
}

namespace qdf::host {

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name);
std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t dflt);
double attr_float(const onnx::NodeProto& n, const std::string& name, double dflt);
std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& dflt);
std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name);

// Elementwise f(a, b) with numpy broadcasting; `where` names the node in a UserError.
Tensor broadcast(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f, const std::string& where);
// The axes permuted (numpy's transpose; no perm: reversed).
Tensor transpose(const Tensor& x, std::vector<std::int64_t> perm);
// ONNX Reshape's target of `from` (0: keep that dimension, -1: the rest).
std::vector<std::int64_t> reshape_dims(const std::vector<std::int64_t>& from, const Tensor& shape, const std::string& where);

// The Quant operator's rounding_mode (ROUND: half to even, as numpy), and its integer range.
double round_by(const std::string& mode, double x, const std::string& where);
void quant_range(double bits, bool is_signed, bool narrow, double& lo, double& hi);

// A folded constant, and what quantized it (for the errors about weights).
struct Folded {
  Tensor t;
  std::string origin;  // "BipolarQuant node 'X' (BipolarQuant)", "Quant node 'X' (Quant) (4 bits)"
  int bits = 0;        // the quantizer's bit width
};
// The outputs[0] of node `n` on constant inputs; a UserError (prefixed by `where`) for an
// operator qdf does not fold.
Folded fold_constant(const onnx::NodeProto& n, const std::vector<Folded>& inputs, const std::string& where);

}  // namespace qdf::host

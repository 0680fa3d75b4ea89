// The QONNX quantizers (BipolarQuant, Quant, MultiThreshold) as monotone step functions of their
// input, for the importer to turn into qdf's thresholds (engines/threshold_rule.hpp): the level
// each gives a value, the value each level stands for, and the search for a threshold.
#pragma once

#include "host/onnx/onnx_file.hpp"

#include <functional>
#include <string>

namespace qdf::host {

// A monotone quantizer: level(y, channel) in 0 .. levels - 1, nondecreasing in y, and the value
// each level stands for.
struct Quantizer {
  int levels = 0;
  std::function<int(double, int)> level;
  std::function<double(int, int)> value;
  const Tensor* thresholds = nullptr;  // a MultiThreshold's own thresholds [C or 1, N]
};

// The node's constant input i (`what` names it in errors).
using ConstantInput = std::function<const Tensor&(int i, const std::string& what)>;
// The quantizer of node `n` over `channels` channels (scalar or per-channel parameters); a
// UserError, prefixed by `where`, for parameters qdf does not read.
Quantizer make_quantizer(const onnx::NodeProto& n, int channels, const ConstantInput& constant, const std::string& where);

// The least integer x in [-(bound+1), bound+1] with f(x) >= level, f nondecreasing (a bisection);
// bound + 1 when none: a threshold no accumulator of magnitude <= bound reaches.
std::int64_t least_reaching(const std::function<int(std::int64_t)>& f, int level, std::int64_t bound);

}  // namespace qdf::host

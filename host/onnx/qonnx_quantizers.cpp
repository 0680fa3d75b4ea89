#include "host/onnx/qonnx_quantizers.hpp"

#include "dsl/errors.hpp"
#include "host/onnx/onnx_constants.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

namespace qdf::host {

Quantizer make_quantizer(const onnx::NodeProto& n, int c_count, const ConstantInput& constant, const std::string& where) {
  auto fail = [&](const std::string& what) { return UserError(fmt::format("{}: {}", where, what)); };
  Quantizer q;
  const std::string& op = n.op_type();
  auto per_c = [&](const Tensor& t, const std::string& what) {
    if (t.v.size() == 1) return std::vector<double>(static_cast<size_t>(c_count), t.v[0]);
    if (static_cast<int>(t.v.size()) != c_count) throw fail(fmt::format("its {} has {} values for {} channels", what, t.v.size(), c_count));
    return t.v;
  };
  if (op == "BipolarQuant") {
    const std::vector<double> s = per_c(constant(1, "scale"), "scale");
    q.levels = 2;
    q.level = [](double y, int) { return y >= 0 ? 1 : 0; };
    q.value = [s](int l, int c) { return (2 * l - 1) * s[static_cast<size_t>(c)]; };
    return q;
  }
  if (op == "Quant") {
    const std::vector<double> s = per_c(constant(1, "scale"), "scale"), z = per_c(constant(2, "zero point"), "zero point");
    const Tensor& bits_t = constant(3, "bit width");
    if (bits_t.v.size() != 1) throw fail("a bit width that is not a scalar");
    const double bits = bits_t.v[0];
    if (bits < 1 || bits > 16 || bits != std::floor(bits)) throw fail(fmt::format("a bit width of {}", bits));
    double lo = 0, hi = 0;
    quant_range(bits, attr_int(n, "signed", 1) != 0, attr_int(n, "narrow", 0) != 0, lo, hi);
    const std::string mode = attr_string(n, "rounding_mode", "ROUND");
    round_by(mode, 0, where);  // an unknown mode is refused here, not in the middle of a search
    q.levels = static_cast<int>(std::min(hi - lo + 1, 1e6));
    q.level = [=](double y, int c) {
      const size_t i = static_cast<size_t>(c);
      return static_cast<int>(std::clamp(round_by(mode, y / s[i] + z[i], where), lo, hi) - lo);
    };
    q.value = [=](int l, int c) { return (lo + l - z[static_cast<size_t>(c)]) * s[static_cast<size_t>(c)]; };
    return q;
  }
  // MultiThreshold: out = out_scale * #{i : x >= T[c][i]} + out_bias.
  const Tensor& t = constant(1, "thresholds");
  if (t.shape.size() != 2 || (t.shape[0] != 1 && t.shape[0] != c_count))
    throw fail(fmt::format("thresholds of shape [{}] for {} channels; expected [C, N] or [1, N]", fmt::join(t.shape, ", "), c_count));
  if (attr_string(n, "data_layout", "NCHW") != "NCHW" && attr_string(n, "data_layout", "NCHW") != "NC")
    throw fail(fmt::format("data_layout {}; qdf reads NCHW", attr_string(n, "data_layout", "")));
  const std::int64_t levels = t.shape[1];
  const double scale = attr_float(n, "out_scale", 1.0), bias = attr_float(n, "out_bias", 0.0);
  const bool shared = t.shape[0] == 1;
  q.levels = static_cast<int>(levels + 1);
  q.thresholds = &t;
  q.level = [&t, levels, shared](double y, int c) {
    const double* row = t.v.data() + (shared ? 0 : c) * levels;
    int k = 0;
    for (std::int64_t i = 0; i < levels; ++i) k += y >= row[i];
    return k;
  };
  q.value = [=](int l, int) { return scale * l + bias; };
  return q;
}

std::int64_t least_reaching(const std::function<int(std::int64_t)>& f, int level, std::int64_t bound) {
  std::int64_t lo = -(bound + 1), hi = bound + 1;
  if (f(hi) < level) return hi;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (f(mid) >= level) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

}  // namespace qdf::host

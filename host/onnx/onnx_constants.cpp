#include "host/onnx/onnx_constants.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

namespace qdf::host {

namespace {

std::vector<std::int64_t> strides_of(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

}  // namespace

// Elementwise f(a, b) with numpy broadcasting.
Tensor broadcast(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f, const std::string& where) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  auto padded = [&](const Tensor& t) {
    std::vector<std::int64_t> s(rank - t.shape.size(), 1);
    s.insert(s.end(), t.shape.begin(), t.shape.end());
    return s;
  };
  const std::vector<std::int64_t> sa = padded(a), sb = padded(b);
  Tensor out;
  for (size_t i = 0; i < rank; ++i) {
    if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1)
      throw UserError(fmt::format("{}: shapes do not broadcast (dimension {}: {} and {})", where, i, sa[i], sb[i]));
    out.shape.push_back(std::max(sa[i], sb[i]));
  }
  const auto so = strides_of(out.shape), ta = strides_of(sa), tb = strides_of(sb);
  out.v.resize(static_cast<size_t>(out.size()));
  for (std::int64_t k = 0; k < out.size(); ++k) {
    std::int64_t ia = 0, ib = 0, rest = k;
    for (size_t i = 0; i < rank; ++i) {
      const std::int64_t idx = rest / so[i];
      rest %= so[i];
      if (sa[i] != 1) ia += idx * ta[i];
      if (sb[i] != 1) ib += idx * tb[i];
    }
    out.v[static_cast<size_t>(k)] = f(a.v[static_cast<size_t>(ia)], b.v[static_cast<size_t>(ib)]);
  }
  return out;
}

Tensor transpose(const Tensor& x, std::vector<std::int64_t> perm) {
  const size_t r = x.shape.size();
  if (perm.empty())
    for (size_t i = 0; i < r; ++i) perm.push_back(static_cast<std::int64_t>(r - 1 - i));
  Tensor out;
  for (std::int64_t p : perm) out.shape.push_back(x.shape.at(static_cast<size_t>(p)));
  const auto si = strides_of(x.shape), so = strides_of(out.shape);
  out.v.resize(x.v.size());
  for (std::int64_t k = 0; k < out.size(); ++k) {
    std::int64_t src = 0, rest = k;
    for (size_t i = 0; i < r; ++i) {
      src += (rest / so[i]) * si[static_cast<size_t>(perm[i])];
      rest %= so[i];
    }
    out.v[static_cast<size_t>(k)] = x.v[static_cast<size_t>(src)];
  }
  return out;
}

// Rounding of the Quant operator's `rounding_mode`.
double round_by(const std::string& mode, double x, const std::string& where) {
  if (mode == "ROUND") return std::nearbyint(x);  // half to even, as numpy's round
  if (mode == "ROUND_TO_ZERO") return std::trunc(x);
  if (mode == "FLOOR") return std::floor(x);
  if (mode == "CEIL") return std::ceil(x);
  throw UserError(fmt::format("{}: rounding_mode '{}' is not supported (ROUND, ROUND_TO_ZERO, FLOOR and CEIL are)", where, mode));
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t dflt) {
  const auto* a = attr(n, name);
  return a ? a->i() : dflt;
}
double attr_float(const onnx::NodeProto& n, const std::string& name, double dflt) {
  const auto* a = attr(n, name);
  return a ? a->f() : dflt;
}
std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& dflt) {
  const auto* a = attr(n, name);
  return a ? a->s() : dflt;
}
std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = attr(n, name);
  return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : std::vector<std::int64_t>{};
}

// The integer range of a Quant of `bits` bits (the QONNX definition).
void quant_range(double bits, bool is_signed, bool narrow, double& lo, double& hi) {
  if (is_signed) {
    lo = -std::ldexp(1.0, static_cast<int>(bits) - 1) + (narrow ? 1 : 0);
    hi = std::ldexp(1.0, static_cast<int>(bits) - 1) - 1;
  } else {
    lo = 0;
    hi = std::ldexp(1.0, static_cast<int>(bits)) - 1 - (narrow ? 1 : 0);
  }
}

std::vector<std::int64_t> reshape_dims(const std::vector<std::int64_t>& from, const Tensor& shape, const std::string& where) {
  std::vector<std::int64_t> to;
  std::int64_t total = 1, known = 1;
  for (std::int64_t d : from) total *= d;
  int minus = -1;
  for (size_t i = 0; i < shape.v.size(); ++i) {
    std::int64_t d = static_cast<std::int64_t>(shape.v[i]);
    if (d == 0) d = from.at(i);
    if (d == -1) minus = static_cast<int>(i);
    else known *= d;
    to.push_back(d);
  }
  if (minus >= 0) to[static_cast<size_t>(minus)] = known ? total / known : 0;
  std::int64_t got = 1;
  for (std::int64_t d : to) got *= d;
  if (got != total) throw UserError(fmt::format("{}: reshapes [{}] to [{}]", where, fmt::join(from, ", "), fmt::join(to, ", ")));
  return to;
}


Folded fold_constant(const onnx::NodeProto& n, const std::vector<Folded>& inputs, const std::string& where) {
  const std::string& op = n.op_type();
  auto in = [&](int i) -> const Tensor& {
    if (i >= static_cast<int>(inputs.size())) throw UserError(fmt::format("{}: input {} is missing", where, i));
    return inputs[static_cast<size_t>(i)].t;
  };
  auto fail = [&](const std::string& what) { return UserError(fmt::format("{}: {}", where, what)); };
  auto bin = [&](std::function<double(double, double)> f) { return Folded{broadcast(in(0), in(1), std::move(f), where), "", 0}; };
  if (op == "Identity" || op == "Cast") {
    return inputs.at(0);
  }
  if (op == "Add") return bin([](double a, double b) { return a + b; });
  if (op == "Sub") return bin([](double a, double b) { return a - b; });
  if (op == "Mul") return bin([](double a, double b) { return a * b; });
  if (op == "Div") return bin([](double a, double b) { return a / b; });
  if (op == "Pow") return bin([](double a, double b) { return std::pow(a, b); });
  if (op == "Sqrt" || op == "Neg" || op == "Reciprocal") {
    Tensor t = in(0);
    for (double& v : t.v) v = op == "Sqrt" ? std::sqrt(v) : op == "Neg" ? -v : 1 / v;
    return Folded{t, "", 0};
  }
  if (op == "Transpose") {
    const Folded& v = inputs.at(0);
    return Folded{transpose(v.t, attr_ints(n, "perm")), v.origin, v.bits};
  }
  if (op == "Reshape" || op == "Flatten") {
    const Folded& v = inputs.at(0);
    Tensor t = v.t;
    if (op == "Reshape") t.shape = reshape_dims(v.t.shape, in(1), where);
    else {
      const std::int64_t axis = attr_int(n, "axis", 1);
      std::int64_t a = 1;
      for (std::int64_t i = 0; i < axis; ++i) a *= t.shape.at(static_cast<size_t>(i));
      t.shape = {a, t.size() / std::max<std::int64_t>(a, 1)};
    }
    return Folded{t, v.origin, v.bits};
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    Tensor t = in(0);
    std::vector<std::int64_t> axes = attr_ints(n, "axes");
    if (axes.empty() && inputs.size() > 1)
      for (double a : in(1).v) axes.push_back(static_cast<std::int64_t>(a));
    if (op == "Unsqueeze") {
      const std::int64_t r = static_cast<std::int64_t>(t.shape.size() + axes.size());
      for (std::int64_t& a : axes) a = a < 0 ? a + r : a;
      std::sort(axes.begin(), axes.end());
      for (std::int64_t a : axes) t.shape.insert(t.shape.begin() + a, 1);
    } else {
      std::vector<std::int64_t> s;
      const std::int64_t r = static_cast<std::int64_t>(t.shape.size());
      for (std::int64_t i = 0; i < r; ++i) {
        const bool listed = axes.empty() ? t.shape[static_cast<size_t>(i)] == 1
                                         : std::count(axes.begin(), axes.end(), i) + std::count(axes.begin(), axes.end(), i - r) > 0;
        if (!listed) s.push_back(t.shape[static_cast<size_t>(i)]);
      }
      t.shape = s;
    }
    return Folded{t, "", 0};
  }
  if (op == "Gather") {
    const Tensor& d = in(0);
    const Tensor& idx = in(1);
    if (attr_int(n, "axis", 0) != 0 || d.shape.empty()) throw fail("a Gather of constants other than along axis 0");
    Tensor t;
    t.shape = idx.shape;
    t.shape.insert(t.shape.end(), d.shape.begin() + 1, d.shape.end());
    const std::int64_t inner = d.size() / d.shape[0];
    for (double iv : idx.v) {
      std::int64_t i = static_cast<std::int64_t>(iv);
      if (i < 0) i += d.shape[0];
      if (i < 0 || i >= d.shape[0]) throw fail(fmt::format("index {} out of range 0..{}", iv, d.shape[0] - 1));
      t.v.insert(t.v.end(), d.v.begin() + i * inner, d.v.begin() + (i + 1) * inner);
    }
    return Folded{t, "", 0};
  }
  if (op == "Concat") {
    std::int64_t axis = attr_int(n, "axis", 0);
    const Tensor& first = in(0);
    const std::int64_t r = static_cast<std::int64_t>(first.shape.size());
    if (axis < 0) axis += r;
    Tensor t;
    t.shape = first.shape;
    t.shape[static_cast<size_t>(axis)] = 0;
    std::int64_t outer = 1;
    for (std::int64_t i = 0; i < axis; ++i) outer *= first.shape[static_cast<size_t>(i)];
    for (int i = 0; i < n.input_size(); ++i) t.shape[static_cast<size_t>(axis)] += in(i).shape.at(static_cast<size_t>(axis));
    for (std::int64_t o = 0; o < outer; ++o)
      for (int i = 0; i < n.input_size(); ++i) {
        const Tensor& x = in(i);
        const std::int64_t chunk = x.size() / std::max<std::int64_t>(outer, 1);
        t.v.insert(t.v.end(), x.v.begin() + o * chunk, x.v.begin() + (o + 1) * chunk);
      }
    return Folded{t, "", 0};
  }
  if (op == "BipolarQuant") {
    Tensor t = broadcast(in(0), in(1), [](double x, double s) { return (x >= 0 ? 1.0 : -1.0) * s; }, where);
    return Folded{t, fmt::format("BipolarQuant node {}", describe_node(n)), 1};
  }
  if (op == "Quant") {
    const Tensor& bits_t = in(3);
    if (bits_t.v.size() != 1) throw fail("a bit width that is not a scalar");
    const double bits = bits_t.v[0];
    double lo = 0, hi = 0;
    quant_range(bits, attr_int(n, "signed", 1) != 0, attr_int(n, "narrow", 0) != 0, lo, hi);
    const std::string mode = attr_string(n, "rounding_mode", "ROUND");
    Tensor q = broadcast(in(0), in(1), [](double x, double s) { return x / s; }, where);
    q = broadcast(q, in(2), [&](double x, double z) { return std::clamp(round_by(mode, x + z, where), lo, hi) - z; }, where);
    q = broadcast(q, in(1), [](double x, double s) { return x * s; }, where);
    return Folded{q, fmt::format("Quant node {} ({} bits)", describe_node(n), bits), static_cast<int>(bits)};
  }
  throw fail("this operator on constants is not supported (qdf folds Constant, Identity, Cast, Shape, Gather, Unsqueeze, Squeeze, "
          "Concat, Reshape, Flatten, Transpose, Add, Sub, Mul, Div, Pow, Sqrt, Neg, Reciprocal, BipolarQuant and Quant)");
}


}  // namespace qdf::host

#include "host/onnx/import_qonnx.hpp"

#include "dsl/errors.hpp"
#include "host/onnx/onnx_constants.hpp"
#include "host/onnx/onnx_file.hpp"
#include "host/onnx/qonnx_quantizers.hpp"
#include "host/onnx/score_offsets.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <map>
#include <onnx/onnx_pb.h>
#include <set>

namespace qdf::host {

using manager::Layer;
using manager::LayerKind;
using manager::Net;
using manager::Shape;

InputRange input_range_from_name(const std::string& name) {
  if (name == "auto") return InputRange::Auto;
  if (name == "unit" || name == "0..1") return InputRange::Unit;
  if (name == "byte" || name == "0..255") return InputRange::Byte;
  throw UserError(fmt::format("input range '{}': expected auto, unit (0..1, pixel / 255) or byte (0..255)", name));
}

const char* to_string(InputRange r) {
  switch (r) {
    case InputRange::Auto: return "auto";
    case InputRange::Unit: return "0..1";
    case InputRange::Byte: return "0..255";
  }
  return "?";
}

bool is_onnx_path(const std::string& path) { return std::filesystem::path(path).extension() == ".onnx"; }

namespace {

// The domains of the QONNX operators: older Brevitas exports, qonnx, FINN.
bool custom_domain(const std::string& d) {
  return d == "onnx.brevitas" || d == "finn" || d == "qonnx.custom_op.general" || d == "finn.custom_op.general";
}

// ---------------------------------------------------------------------------------------------
// The data stream, as the affine function of what qdf computes at that point.

struct Stream {
  enum class Kind { Pixels, Acc, Act, Labels };
  Kind kind = Kind::Pixels;
  std::vector<std::int64_t> dims;  // its ONNX shape
  bool flat = false;               // ONNX holds qdf's map flattened from NCHW
  bool softmax = false;            // after a Softmax: only a graph output may follow
  std::vector<std::vector<double>> table;  // Pixels: per channel, the float of pixel value 0..255
  std::vector<double> scale, bias;         // Acc / Act: per channel, ONNX value = scale * q + bias
};

struct Value {
  bool is_const = false;
  Tensor t;
  Stream s;
  std::string origin;  // a constant made by a quantizer: "BipolarQuant node 'X'"
  int bits = 0;        // ... and its bit width (Quant)
};

std::string sanitize(const std::string& s) {
  std::string out;
  for (char ch : s) out += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-' ? ch : '_';
  return out;
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }

class Importer {
 public:
  Importer(const onnx::ModelProto& m, std::string path, const ImportOptions& opt) : m_(m), g_(m.graph()), path_(std::move(path)) {
    range_ = opt.input_range;
  }

  ImportedModel run() {
    std::set<std::string> inits;
    for (const auto& t : g_.initializer()) {
      Value v;
      v.is_const = true;
      v.t = tensor_from_proto(t, fmt::format("'{}'", t.name()));
      values_[t.name()] = std::move(v);
      inits.insert(t.name());
    }
    std::vector<const onnx::ValueInfoProto*> real_inputs;  // initializers listed as inputs (old IR) are not inputs
    for (const auto& i : g_.input())
      if (!inits.count(i.name())) real_inputs.push_back(&i);
    if (real_inputs.size() != 1)
      throw UserError(fmt::format("{}: the graph has {} inputs besides its initializers; qdf imports a network of one image input", path_,
                                  real_inputs.size()));
    open_input(*real_inputs.front());
    for (const auto& n : g_.node()) node(n);
    if (g_.output_size() != 1)
      throw UserError(fmt::format("{}: the graph has {} outputs; qdf imports a network of one output (its label)", path_, g_.output_size()));
    Value& out = value(g_.output(0).name(), "the graph output");
    if (out.is_const) throw UserError(fmt::format("{}: the graph output '{}' does not depend on the input", path_, g_.output(0).name()));
    if (out.s.kind == Stream::Kind::Acc) finish_scores(out.s, 1, nullptr);
    else if (out.s.kind != Stream::Kind::Labels)
      throw UserError(fmt::format("{}: the graph output '{}' is {}; qdf imports classifiers, whose output is per-class scores (of a "
                                  "MatMul, Gemm or Conv and what scales them), a TopK or an ArgMax",
                                  path_, g_.output(0).name(), out.s.kind == Stream::Kind::Act ? "quantized activations" : "the raw input"));
    std::string name = sanitize(g_.name());
    if (name.empty()) name = sanitize(std::filesystem::path(path_).stem().string());
    net_.name = name;
    manager::check_weights(net_, w_);
    return ImportedModel{net_, w_, range_};
  }

 private:
  const onnx::ModelProto& m_;
  const onnx::GraphProto& g_;
  std::string path_;
  InputRange range_;
  std::map<std::string, Value> values_;
  Net net_;
  manager::ModelWeights w_;
  std::set<std::string> names_;
  std::string input_name_;
  Shape input_shape_;
  bool input_placed_ = false;

  [[noreturn]] void fail(const onnx::NodeProto& n, const std::string& what) const {
    throw UserError(fmt::format("{}: node {}: {}", path_, describe_node(n), what));
  }

  Value& value(const std::string& name, const std::string& who) {
    auto it = values_.find(name);
    if (it == values_.end()) throw UserError(fmt::format("{}: {} reads '{}', which no node computes", path_, who, name));
    return it->second;
  }

  const Tensor& constant(const onnx::NodeProto& n, int i, const std::string& what) {
    if (i >= n.input_size() || n.input(i).empty()) fail(n, fmt::format("its {} (input {}) is missing", what, i));
    Value& v = value(n.input(i), describe_node(n));
    if (!v.is_const) fail(n, fmt::format("its {} ('{}') depends on the input image; qdf needs it constant", what, n.input(i)));
    return v.t;
  }

  std::string layer_name(const onnx::NodeProto& n) {
    std::string base = sanitize(n.name().empty() ? n.output(0) : n.name());
    if (base.empty()) base = "layer";
    std::string name = base;
    for (int k = 2; names_.count(name); ++k) name = fmt::format("{}_{}", base, k);
    names_.insert(name);
    return name;
  }

  int channels() const { return input_placed_ ? net_.shape().c : input_shape_.c; }
  Shape qdf_shape() const { return input_placed_ ? net_.shape() : input_shape_; }

  void open_input(const onnx::ValueInfoProto& in) {
    std::vector<std::int64_t> dims;
    for (const auto& d : in.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : 1);
    if (dims.size() == 4 && dims[0] == 1) input_shape_ = {static_cast<int>(dims[2]), static_cast<int>(dims[3]), static_cast<int>(dims[1])};
    else if (dims.size() == 2 && dims[0] == 1) input_shape_ = {1, 1, static_cast<int>(dims[1])};
    else
      throw UserError(fmt::format("{}: input '{}' has shape [{}]; qdf imports an image [1, C, H, W] or a vector [1, N]", path_, in.name(),
                                  fmt::join(dims, ", ")));
    for (std::int64_t d : dims)
      if (d < 1) throw UserError(fmt::format("{}: input '{}' has an empty shape [{}]", path_, in.name(), fmt::join(dims, ", ")));
    input_name_ = sanitize(in.name());
    if (range_ == InputRange::Auto) range_ = detect_range(in.name());
    Value v;
    v.s.kind = Stream::Kind::Pixels;
    v.s.dims = dims;
    for (int c = 0; c < input_shape_.c; ++c) {
      std::vector<double> t(256);
      for (int p = 0; p < 256; ++p) t[static_cast<size_t>(p)] = range_ == InputRange::Byte ? p : p / 255.0;
      v.s.table.push_back(std::move(t));
    }
    values_[in.name()] = std::move(v);
  }

  // docs/onnx.md: the metadata qdf's export writes, else FINN's convention (the model divides
  // its 0..255 input by 255 itself), else Brevitas' (the model takes pixel / 255).
  InputRange detect_range(const std::string& input) const {
    for (const auto& p : m_.metadata_props())
      if (p.key() == "qdf.input_range") return input_range_from_name(p.value());
    std::set<std::string> data = {input};  // values computed from the input before its first quantizer
    for (const auto& n : g_.node()) {
      bool reads = false;
      for (const auto& i : n.input()) reads |= data.count(i) > 0;
      if (!reads) continue;
      if (n.op_type() == "BipolarQuant" || n.op_type() == "Quant" || n.op_type() == "MultiThreshold") break;
      if ((n.op_type() == "Div" || n.op_type() == "Mul") && n.input_size() == 2) {
        for (const auto& t : g_.initializer())
          if (t.name() == n.input(1)) {
            const Tensor k = tensor_from_proto(t, t.name());
            if (k.v.size() == 1 && ((n.op_type() == "Div" && close(k.v[0], 255)) || (n.op_type() == "Mul" && close(k.v[0], 1 / 255.0))))
              return InputRange::Byte;
          }
      }
      for (const auto& o : n.output()) data.insert(o);
    }
    return InputRange::Unit;
  }

  // The per-channel values of constant `k` combined elementwise with stream `s`.
  std::vector<double> per_channel(const onnx::NodeProto& n, const Tensor& k, const Stream& s) {
    const int c = channels();
    if (k.v.empty()) fail(n, "an empty constant");
    if (std::all_of(k.v.begin(), k.v.end(), [&](double x) { return x == k.v[0]; })) return std::vector<double>(static_cast<size_t>(c), k.v[0]);
    if (s.flat) fail(n, "per-feature constants on a flattened map are not supported (scalar or per-channel constants before the flatten are)");
    if (k.shape.size() > s.dims.size()) fail(n, "a constant of higher rank than the data");
    const size_t off = s.dims.size() - k.shape.size();
    std::int64_t kc = 1;
    for (size_t a = 0; a < k.shape.size(); ++a) {
      if (a + off == 1) kc = k.shape[a];
      else if (k.shape[a] != 1)
        fail(n, fmt::format("a constant of shape [{}] varies along an axis other than the channels; qdf folds scalar and per-channel constants",
                            fmt::join(k.shape, ", ")));
    }
    if (kc != c) fail(n, fmt::format("a per-channel constant of {} values for {} channels", kc, c));
    return k.v;
  }

  // ---------------------------------------------------------------------------------------------
  void node(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx" && !custom_domain(n.domain()))
      fail(n, fmt::format("its domain '{}' is not one qdf reads (the standard domain, onnx.brevitas, qonnx.custom_op.general, finn)", n.domain()));
    bool all_const = true;
    for (const auto& i : n.input())
      if (!i.empty()) all_const &= value(i, describe_node(n)).is_const;
    if (op == "Constant") return set_const(n, 0, constant_attr(n));
    if (op == "Shape") {
      Value& v = value(n.input(0), describe_node(n));
      const std::vector<std::int64_t> dims = v.is_const ? v.t.shape : v.s.dims;
      return set_const(n, 0, Tensor{{static_cast<std::int64_t>(dims.size())}, std::vector<double>(dims.begin(), dims.end())});
    }
    if (all_const) {
      std::vector<Folded> in;
      for (const auto& i : n.input()) {
        if (i.empty()) break;
        const Value& v = value(i, describe_node(n));
        in.push_back(Folded{v.t, v.origin, v.bits});
      }
      Folded f = fold_constant(n, in, fmt::format("{}: node {}", path_, describe_node(n)));
      return set_const(n, 0, std::move(f.t), std::move(f.origin), f.bits);
    }
    Value& x = value(n.input(0), describe_node(n));
    if (x.is_const && !(op == "Sub" || op == "Mul" || op == "Add"))
      fail(n, "its first input is constant and its second depends on the image; qdf reads data as the first input");
    if (op != "TopK" && op != "ArgMax" && !x.is_const && x.s.softmax)
      fail(n, "it follows a Softmax; a Softmax is supported only as the graph's output (Softmax in the middle of a network is not)");
    if (!x.is_const && x.s.kind == Stream::Kind::Labels) fail(n, "it reads labels (the output of a TopK or ArgMax); nothing may follow them");
    if (op == "Identity" || op == "Dropout") return set_stream(n, 0, x.s);
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return elementwise(n);
    if (op == "BatchNormalization") return batch_norm(n, x.s);
    if (op == "Reshape" || op == "Flatten") return reshape(n, x.s);
    if (op == "Squeeze" || op == "Unsqueeze") return squeeze(n, x.s);
    if (op == "BipolarQuant" || op == "Quant" || op == "MultiThreshold") return quantize(n, x.s);
    if (op == "MatMul" || op == "Gemm") return matmul(n, x.s);
    if (op == "Conv") return convolution(n, x.s);
    if (op == "MaxPool") return max_pool(n, x.s);
    if (op == "GlobalAveragePool" || op == "ReduceSum") return global_pool(n, x.s);
    if (op == "Softmax") {
      bool is_output = false;
      for (const auto& o : g_.output()) is_output |= o.name() == n.output(0);
      bool feeds_select = false;
      for (const auto& m : g_.node())
        for (const auto& i : m.input())
          if (i == n.output(0)) feeds_select |= m.op_type() == "TopK" || m.op_type() == "ArgMax";
      if (!is_output && !feeds_select)
        fail(n, "a Softmax in the middle of the network; qdf takes a Softmax only at the output (it does not change the top label)");
      Stream s = x.s;
      s.softmax = true;
      return set_stream(n, 0, s);
    }
    if (op == "TopK" || op == "ArgMax") return select(n, x.s);
    if (op == "Concat")
      fail(n, "it joins two data streams; qdf's importer supports chains of layers (concatenations are not supported yet)");
    fail(n, "this operator is not supported on data; qdf imports MatMul, Gemm, Conv, MaxPool, GlobalAveragePool, ReduceSum, "
            "BatchNormalization, scalar or per-channel Add/Sub/Mul/Div, BipolarQuant, Quant, MultiThreshold, Reshape/Flatten, "
            "Squeeze/Unsqueeze, TopK, ArgMax and a final Softmax (docs/onnx.md)");
  }

  void set_const(const onnx::NodeProto& n, int out, Tensor t, std::string origin = "", int bits = 0) {
    Value v;
    v.is_const = true;
    v.t = std::move(t);
    v.origin = std::move(origin);
    v.bits = bits;
    values_[n.output(out)] = std::move(v);
  }
  void set_stream(const onnx::NodeProto& n, int out, Stream s) {
    Value v;
    v.s = std::move(s);
    values_[n.output(out)] = std::move(v);
  }

  Tensor constant_attr(const onnx::NodeProto& n) {
    if (const auto* a = attr(n, "value")) return tensor_from_proto(a->t(), describe_node(n));
    if (const auto* a = attr(n, "value_float")) return Tensor::scalar(a->f());
    if (const auto* a = attr(n, "value_int")) return Tensor::scalar(static_cast<double>(a->i()));
    if (const auto* a = attr(n, "value_ints"))
      return Tensor{{a->ints_size()}, std::vector<double>(a->ints().begin(), a->ints().end())};
    fail(n, "a Constant without a value, value_float, value_int or value_ints");
  }

  std::vector<std::int64_t> axes_of(const onnx::NodeProto& n) {
    std::vector<std::int64_t> axes = attr_ints(n, "axes");
    if (axes.empty() && n.input_size() > 1 && !n.input(1).empty()) {
      const Tensor& t = constant(n, 1, "axes");
      for (double v : t.v) axes.push_back(static_cast<std::int64_t>(v));
    }
    return axes;
  }

  // ---------------------------------------------------------------------------------------------
  void elementwise(const onnx::NodeProto& n) {
    const std::string& op = n.op_type();
    Value& a = value(n.input(0), describe_node(n));
    Value& b = value(n.input(1), describe_node(n));
    if (!a.is_const && !b.is_const) fail(n, "it joins two data streams; qdf's importer supports chains of layers (residual adds are not supported yet)");
    const bool data_first = !a.is_const;
    Stream s = data_first ? a.s : b.s;
    if (s.kind == Stream::Kind::Labels) fail(n, "arithmetic on labels");
    const std::vector<double> k = per_channel(n, data_first ? b.t : a.t, s);
    if (op == "Div" && !data_first) fail(n, "a constant divided by data is not an affine function of it");
    for (size_t c = 0; c < k.size(); ++c) {
      const double kc = k[c];
      if (op == "Div" && kc == 0) fail(n, "a division by 0");
      auto f = [&](double x) {
        if (op == "Add") return x + kc;
        if (op == "Mul") return x * kc;
        if (op == "Div") return x / kc;
        return data_first ? x - kc : kc - x;
      };
      if (s.kind == Stream::Kind::Pixels) {
        for (double& v : s.table[c]) v = f(v);
      } else {
        const double s0 = s.scale[c], b0 = s.bias[c];
        if (op == "Add") s.bias[c] = b0 + kc;
        else if (op == "Mul") s.scale[c] = s0 * kc, s.bias[c] = b0 * kc;
        else if (op == "Div") s.scale[c] = s0 / kc, s.bias[c] = b0 / kc;
        else if (data_first) s.bias[c] = b0 - kc;
        else s.scale[c] = -s0, s.bias[c] = kc - b0;
      }
    }
    set_stream(n, 0, s);
  }

  void batch_norm(const onnx::NodeProto& n, Stream s) {
    const double eps = attr_float(n, "epsilon", 1e-5);
    const Tensor &gamma = constant(n, 1, "scale"), &beta = constant(n, 2, "bias"), &mean = constant(n, 3, "mean"), &var = constant(n, 4, "variance");
    const size_t c = static_cast<size_t>(channels());
    for (const Tensor* t : {&gamma, &beta, &mean, &var})
      if (t->v.size() != c && t->v.size() != 1) fail(n, fmt::format("parameters of {} values for {} channels", t->v.size(), c));
    auto at = [](const Tensor& t, size_t i) { return t.v.size() == 1 ? t.v[0] : t.v[i]; };
    for (size_t i = 0; i < c; ++i) {
      const double k = at(gamma, i) / std::sqrt(at(var, i) + eps), m = at(mean, i), b = at(beta, i);
      if (s.kind == Stream::Kind::Pixels) {
        for (double& v : s.table[i]) v = (v - m) * k + b;
      } else {
        s.scale[i] *= k;
        s.bias[i] = (s.bias[i] - m) * k + b;
      }
    }
    set_stream(n, 0, s);
  }

  void reshape(const onnx::NodeProto& n, Stream s) {
    std::vector<std::int64_t> to;
    if (n.op_type() == "Reshape") to = reshape_dims(s.dims, constant(n, 1, "shape"), fmt::format("{}: node {}", path_, describe_node(n)));
    else {
      const std::int64_t axis = attr_int(n, "axis", 1);
      if (axis != 1) fail(n, fmt::format("a Flatten at axis {}; qdf flattens an image at axis 1", axis));
      std::int64_t total = 1;
      for (size_t i = 1; i < s.dims.size(); ++i) total *= s.dims[i];
      to = {s.dims.at(0), total};
    }
    const Shape q = qdf_shape();
    if (to.size() == 2 && to[0] == 1 && to[1] == q.size()) {
      s.flat = q.h * q.w > 1;
      s.dims = to;
    } else if (to == s.dims) {
    } else if (to.size() == 4 && to[0] == 1 && to[1] == q.c && to[2] == q.h && to[3] == q.w && !s.flat) {
      s.dims = to;
    } else {
      fail(n, fmt::format("reshapes the data [{}] to [{}]; qdf supports flattening an image [1, C, H, W] to [1, C*H*W]",
                          fmt::join(s.dims, ", "), fmt::join(to, ", ")));
    }
    set_stream(n, 0, s);
  }

  void squeeze(const onnx::NodeProto& n, Stream s) {
    std::vector<std::int64_t> axes = axes_of(n);
    const bool un = n.op_type() == "Unsqueeze";
    const std::int64_t r = static_cast<std::int64_t>(s.dims.size() + (un ? axes.size() : 0));
    for (std::int64_t& a : axes) a = a < 0 ? a + r : a;
    std::sort(axes.begin(), axes.end());
    if (axes.empty()) fail(n, "a Squeeze without axes");
    for (std::int64_t a : axes) {
      if (a < 2) fail(n, fmt::format("axis {}; qdf keeps the batch (0) and channel (1) axes", a));
      if (un) s.dims.insert(s.dims.begin() + a, 1);
    }
    if (!un) {
      for (size_t i = axes.size(); i-- > 0;) {
        if (s.dims.at(static_cast<size_t>(axes[i])) != 1) fail(n, fmt::format("squeezes axis {} of size {}", axes[i], s.dims[static_cast<size_t>(axes[i])]));
        s.dims.erase(s.dims.begin() + axes[i]);
      }
    }
    set_stream(n, 0, s);
  }

  // The act() layer of a quantizer's levels (1 bit for 2 levels, 2 bits for 3 or 4), and the affine
  // function of its qdf value (±1, or 0..3) that gives the quantizer's value.
  int act_bits(const onnx::NodeProto& n, const Quantizer& q, int c_count, std::vector<double>& sa, std::vector<double>& ba) {
    if (q.levels < 2 || q.levels > 4)
      fail(n, fmt::format("it quantizes activations to {} levels; qdf's activations are 1 bit (2 levels) or 2 bits (3 or 4 evenly spaced "
                          "levels)",
                          q.levels));
    const int bits = q.levels == 2 ? 1 : 2;
    sa.assign(static_cast<size_t>(c_count), 0);
    ba.assign(static_cast<size_t>(c_count), 0);
    for (int c = 0; c < c_count; ++c) {
      const double v0 = q.value(0, c), v1 = q.value(1, c);
      for (int l = 2; l < q.levels; ++l)
        if (!close(q.value(l, c) - q.value(l - 1, c), v1 - v0))
          fail(n, fmt::format("its levels are not evenly spaced ({} after {} after {}); qdf's 2-bit activations are", q.value(l, c),
                              q.value(l - 1, c), v0));
      sa[static_cast<size_t>(c)] = bits == 1 ? (v1 - v0) / 2 : v1 - v0;
      ba[static_cast<size_t>(c)] = bits == 1 ? (v1 + v0) / 2 : v0;
    }
    return bits;
  }

  // The largest |accumulator| of the last conv / fully connected layer.
  std::int64_t acc_bound() const {
    const Layer& l = net_.back();
    const std::int64_t fan_in = l.kind == LayerKind::Conv ? static_cast<std::int64_t>(l.k) * l.k * l.in.c : l.in.size();
    return fan_in * (l.in_binary ? 1 : (std::int64_t{1} << l.in_bits) - 1);
  }

  void quantize(const onnx::NodeProto& n, Stream s) {
    const int c_count = channels();
    Quantizer q = make_quantizer(
        n, c_count, [&](int i, const std::string& what) -> const Tensor& { return constant(n, i, what); },
        fmt::format("{}: node {}", path_, describe_node(n)));
    if (s.kind == Stream::Kind::Pixels) return quantize_input(n, s, q);
    if (s.kind == Stream::Kind::Act)
      fail(n, "it quantizes activations again; qdf takes one quantizer after each MatMul, Gemm or Conv (and what scales its result)");
    std::vector<double> sa, ba;
    const int bits = act_bits(n, q, c_count, sa, ba);
    const std::int64_t bound = acc_bound();
    engines::Thresholds t;
    t.channels = c_count;
    t.levels = (1 << bits) - 1;
    for (int c = 0; c < c_count; ++c) {
      const double sc = s.scale[static_cast<size_t>(c)], bc = s.bias[static_cast<size_t>(c)];
      const bool flip = sc < 0;
      t.flip.push_back(flip);
      std::vector<std::int64_t> levels;
      if (q.thresholds && std::abs(sc) == 1 && bc == 0) {
        // A MultiThreshold on the accumulator itself (as qdf's export writes, and FINN's
        // streamlined graphs hold): its thresholds taken as they are, rounded up to integers.
        const std::int64_t per = q.thresholds->shape[1];
        const double* row = q.thresholds->v.data() + (q.thresholds->shape[0] == 1 ? 0 : c) * per;
        std::vector<double> sorted(row, row + per);
        std::sort(sorted.begin(), sorted.end());
        for (double v : sorted) levels.push_back(static_cast<std::int64_t>(std::clamp(std::ceil(v), -4e18, 4e18)));
      } else {
        // In floating point, on the accumulator's integers: the least one at or past each level.
        std::function<int(std::int64_t)> f = [&](std::int64_t u) {
          const double acc = flip ? -static_cast<double>(u) : static_cast<double>(u);
          return q.level(sc * acc + bc, c);
        };
        for (int i = 1; i < q.levels; ++i) levels.push_back(least_reaching(f, i, bound));
      }
      while (static_cast<int>(levels.size()) < t.levels) levels.push_back(bound + 1);  // 3 levels of 4: the last never reached
      t.t.insert(t.t.end(), levels.begin(), levels.end());
    }
    net_.append(manager::act(bits).layers().front());
    w_.thresholds[net_.back().name] = std::move(t);
    Stream out = s;
    out.kind = Stream::Kind::Act;
    out.scale = sa;
    out.bias = ba;
    set_stream(n, 0, out);
  }

  // The input's quantizer: the input format qdf streams (binary, or the top k bits of 8-bit
  // pixels), or a 1x1 conv and an activation on 8-bit pixels of one channel.
  void quantize_input(const onnx::NodeProto& n, Stream s, const Quantizer& q) {
    const int c_count = input_shape_.c;
    std::vector<std::vector<int>> lev(static_cast<size_t>(c_count), std::vector<int>(256));
    for (int c = 0; c < c_count; ++c)
      for (int p = 0; p < 256; ++p) lev[static_cast<size_t>(c)][static_cast<size_t>(p)] = q.level(s.table[static_cast<size_t>(c)][static_cast<size_t>(p)], c);
    auto value = [&](int c, int p) { return q.value(lev[static_cast<size_t>(c)][static_cast<size_t>(p)], c); };
    Stream out = s;
    out.kind = Stream::Kind::Act;
    out.table.clear();
    out.scale.assign(static_cast<size_t>(c_count), 0);
    out.bias.assign(static_cast<size_t>(c_count), 0);
    // Binary: the pixel's bit 7 (p >= 128 is +1), as Dataset::stream gives a 1-bit input.
    bool binary = q.levels == 2;
    for (int c = 0; c < c_count && binary; ++c)
      for (int p = 0; p < 256; ++p) binary &= lev[static_cast<size_t>(c)][static_cast<size_t>(p)] == (p >= 128 ? 1 : 0);
    if (binary) {
      for (int c = 0; c < c_count; ++c) {
        out.scale[static_cast<size_t>(c)] = (value(c, 255) - value(c, 0)) / 2;
        out.bias[static_cast<size_t>(c)] = (value(c, 255) + value(c, 0)) / 2;
      }
      place_input(1, true);
      return set_stream(n, 0, out);
    }
    // k-bit unsigned: the value an affine function of p >> (8 - k).
    for (int k = 1; k <= 8; ++k) {
      bool ok = true;
      for (int c = 0; c < c_count && ok; ++c) {
        const double v0 = value(c, 0), d = value(c, 1 << (8 - k)) - v0;
        for (int p = 0; p < 256 && ok; ++p) ok = close(value(c, p), v0 + d * (p >> (8 - k))) && d != 0;
        out.scale[static_cast<size_t>(c)] = d;
        out.bias[static_cast<size_t>(c)] = v0;
      }
      if (ok) {
        place_input(k, false);
        return set_stream(n, 0, out);
      }
    }
    // A nonlinear map of one-channel pixels to 2..4 levels: 8-bit pixels, a 1x1 conv of weight +1
    // (acc = p) and the levels as thresholds on it.
    if (c_count != 1)
      fail(n, fmt::format("it maps the {}-channel input's pixels to levels that are neither binary at 128 nor an affine function of "
                          "the pixel's top k bits; qdf takes such an input quantizer only on one-channel images",
                          c_count));
    for (int p = 1; p < 256; ++p)
      if (lev[0][static_cast<size_t>(p)] < lev[0][static_cast<size_t>(p - 1)]) fail(n, "the input quantizer is not monotone in the pixel value");
    place_input(8, false);
    const std::string name = layer_name(n) + "_in";
    net_.append(manager::conv(name, 1, 1).layers().front());
    engines::BinaryMatrix one(1, 1);
    one.set(0, 0, true);
    w_.weights[name] = one;
    std::vector<double> sa, ba;
    const int bits = act_bits(n, q, 1, sa, ba);
    engines::Thresholds t;
    t.channels = 1;
    t.levels = (1 << bits) - 1;
    t.flip = {0};
    for (int i = 1; i <= t.levels; ++i) {
      std::int64_t at = 256;  // never: past the largest pixel
      for (int p = 255; p >= 0; --p)
        if (lev[0][static_cast<size_t>(p)] >= i) at = p;
      t.t.push_back(at);
    }
    net_.append(manager::act(bits).layers().front());
    w_.thresholds[net_.back().name] = t;
    out.scale = sa;
    out.bias = ba;
    set_stream(n, 0, out);
  }

  void place_input(int bits, bool binary) {
    net_ = manager::input(input_name_.empty() ? "image" : input_name_, input_shape_, bits, binary);
    names_.insert(net_.back().name);
    input_placed_ = true;
  }

  void require_act(const onnx::NodeProto& n, const Stream& s) {
    if (s.kind == Stream::Kind::Pixels)
      fail(n, "the input reaches it without a quantizer; qdf's input is binary or unsigned fixed-point pixels (a BipolarQuant, Quant or "
              "MultiThreshold on the input)");
    if (s.kind == Stream::Kind::Acc)
      fail(n, "its input is the unquantized result of a previous layer; qdf needs an activation quantizer (BipolarQuant, Quant or "
              "MultiThreshold) between two layers");
  }

  // ±1 weights: every value ±ws for one ws > 0.
  double weight_scale(const onnx::NodeProto& n, const Value& w) {
    if (w.bits > 2)
      fail(n, fmt::format("its weights come from {}, {}-bit weights; qdf's weights are ±1 (BipolarQuant, or values ±s)", w.origin, w.bits));
    const double ws = w.t.v.empty() ? 0 : std::abs(w.t.v[0]);
    std::set<double> found;
    for (double v : w.t.v) found.insert(v);
    if (ws == 0 || !std::all_of(w.t.v.begin(), w.t.v.end(), [&](double v) { return close(std::abs(v), ws); })) {
      std::vector<double> some(found.begin(), found.end());
      if (some.size() > 6) some.resize(6);
      fail(n, fmt::format("its weights{} take the values {{{}{}}}; qdf's weights are ±1 (BipolarQuant, or any quantizer whose values are "
                          "±s): ternary, 4-bit and 8-bit weights are not supported",
                          w.origin.empty() ? "" : " (from " + w.origin + ")", fmt::join(some, ", "), found.size() > 6 ? ", ..." : ""));
    }
    return ws;
  }

  double uniform_scale(const onnx::NodeProto& n, const Stream& s) {
    for (double v : s.scale)
      if (!close(v, s.scale[0]))
        fail(n, "its input activations have different scales per channel; qdf's layers need one scale for all their inputs");
    if (s.scale[0] == 0) fail(n, "its input activations have a scale of 0");
    return s.scale[0];
  }

  void matmul(const onnx::NodeProto& n, Stream s) {
    Value wv = value(n.input(1), describe_node(n));
    if (!wv.is_const) fail(n, "its weights depend on the input image");
    weight_scale(n, wv);  // unsupported weights first: the reason a model cannot be mapped at all
    require_act(n, s);
    double alpha = 1;
    if (n.op_type() == "Gemm") {
      if (attr_int(n, "transA", 0) != 0) fail(n, "transA = 1");
      if (attr_int(n, "transB", 0) != 0) wv.t = transpose(wv.t, {1, 0});
      alpha = attr_float(n, "alpha", 1.0);
    }
    const Tensor& w = wv.t;
    if (w.shape.size() != 2) fail(n, fmt::format("weights of shape [{}]; expected [inputs, outputs]", fmt::join(w.shape, ", ")));
    const Shape in = net_.shape();
    if (in.h * in.w > 1 && !s.flat) fail(n, "a matrix product on an unflattened image; flatten it first (Flatten or Reshape to [1, C*H*W])");
    const std::int64_t rows = w.shape[1], cols = w.shape[0];
    if (cols != in.size()) fail(n, fmt::format("weights for {} inputs, but the data has {} values", cols, in.size()));
    const double ws = weight_scale(n, wv), sa = uniform_scale(n, s);
    const std::string name = layer_name(n);
    engines::BinaryMatrix m(static_cast<int>(rows), static_cast<int>(cols));
    std::vector<double> bias(static_cast<size_t>(rows), 0);
    const std::int64_t hw = static_cast<std::int64_t>(in.h) * in.w;
    for (std::int64_t j = 0; j < cols; ++j) {  // j: qdf's column, (row, column, channel); i: ONNX's NCHW feature
      const std::int64_t pix = j / in.c, ch = j % in.c, i = in.h * in.w > 1 ? ch * hw + pix : j;
      for (std::int64_t r = 0; r < rows; ++r) {
        const bool plus = w.v[static_cast<size_t>(i * rows + r)] > 0;
        m.set(static_cast<int>(r), static_cast<int>(j), plus);
        bias[static_cast<size_t>(r)] += (plus ? ws : -ws) * s.bias[static_cast<size_t>(ch)];
      }
    }
    net_.append(manager::fc(name, static_cast<int>(rows)).layers().front());
    w_.weights[name] = std::move(m);
    Stream out;
    out.kind = Stream::Kind::Acc;
    out.dims = {1, rows};
    out.scale.assign(static_cast<size_t>(rows), alpha * ws * sa);
    out.bias = bias;
    for (double& b : out.bias) b *= alpha;
    if (n.op_type() == "Gemm" && n.input_size() > 2 && !n.input(2).empty()) {
      const std::vector<double> c = per_channel(n, constant(n, 2, "bias C"), out);
      const double beta = attr_float(n, "beta", 1.0);
      for (size_t r = 0; r < c.size(); ++r) out.bias[r] += beta * c[r];
    }
    set_stream(n, 0, out);
  }

  void check_square(const onnx::NodeProto& n, const std::vector<std::int64_t>& v, const char* what, std::int64_t dflt, std::int64_t& out) {
    out = v.empty() ? dflt : v[0];
    for (std::int64_t x : v)
      if (x != out) fail(n, fmt::format("{} [{}]; qdf's windows are square, with equal strides and padding on every side", what, fmt::join(v, ", ")));
  }

  void window_attrs(const onnx::NodeProto& n, std::int64_t& k, std::int64_t& st, std::int64_t& pad) {
    if (attr_string(n, "auto_pad", "NOTSET") != "NOTSET") fail(n, "auto_pad; qdf reads explicit pads");
    std::int64_t dil = 1;
    check_square(n, attr_ints(n, "dilations"), "dilations", 1, dil);
    if (dil != 1) fail(n, "dilated windows are not supported");
    check_square(n, attr_ints(n, "kernel_shape"), "kernel_shape", 0, k);
    check_square(n, attr_ints(n, "strides"), "strides", 1, st);
    check_square(n, attr_ints(n, "pads"), "pads", 0, pad);
    if (attr_int(n, "ceil_mode", 0) != 0) fail(n, "ceil_mode = 1; qdf's windows round down");
  }

  void convolution(const onnx::NodeProto& n, Stream s) {
    if (n.input_size() > 1 && value(n.input(1), describe_node(n)).is_const) weight_scale(n, value(n.input(1), describe_node(n)));
    require_act(n, s);
    if (s.flat || s.dims.size() != 4) fail(n, "a convolution of data that is not an image [1, C, H, W]");
    if (attr_int(n, "group", 1) != 1) fail(n, "grouped or depthwise convolution is not supported");
    const Value& wv = value(n.input(1), describe_node(n));
    if (!wv.is_const) fail(n, "its weights depend on the input image");
    const Tensor& w = wv.t;
    const Shape in = net_.shape();
    if (w.shape.size() != 4 || w.shape[1] != in.c || w.shape[2] != w.shape[3])
      fail(n, fmt::format("weights of shape [{}] for {} input channels; expected [O, C, K, K]", fmt::join(w.shape, ", "), in.c));
    std::int64_t k = w.shape[2], st = 1, pad = 0;
    window_attrs(n, k, st, pad);
    if (k != w.shape[2]) fail(n, "kernel_shape differs from the weights' shape");
    const double ws = weight_scale(n, wv), sa = uniform_scale(n, s);
    const Layer& prev = net_.back();
    // ONNX pads with 0; qdf pads the zero bit (-1 of a binary map, 0 of an unsigned one): the same
    // only where that level stands for 0.
    const int pad_level = prev.out_binary ? -1 : 0;
    if (pad > 0)
      for (int c = 0; c < in.c; ++c) {
        const double padded = sa * pad_level + s.bias[static_cast<size_t>(c)];
        if (std::abs(padded) > 1e-9 * std::max(1.0, std::abs(sa)))
          fail(n, fmt::format("padding: ONNX pads with 0, but qdf pads a {} map with its level {}, which stands for {} here; padded "
                              "convolutions need activations whose lowest level means 0",
                              prev.out_binary ? "binary" : "unsigned", pad_level, padded));
      }
    const std::int64_t o_count = w.shape[0];
    const std::string name = layer_name(n);
    const int cols = static_cast<int>(k * k * in.c);
    engines::BinaryMatrix m(static_cast<int>(o_count), cols);
    std::vector<double> bias(static_cast<size_t>(o_count), 0);
    for (std::int64_t o = 0; o < o_count; ++o)
      for (std::int64_t c = 0; c < in.c; ++c)
        for (std::int64_t ky = 0; ky < k; ++ky)
          for (std::int64_t kx = 0; kx < k; ++kx) {
            const bool plus = w.v[static_cast<size_t>(((o * in.c + c) * k + ky) * k + kx)] > 0;
            m.set(static_cast<int>(o), static_cast<int>((ky * k + kx) * in.c + c), plus);
            bias[static_cast<size_t>(o)] += (plus ? ws : -ws) * s.bias[static_cast<size_t>(c)];
          }
    net_.append(manager::conv(name, static_cast<int>(k), static_cast<int>(o_count), static_cast<int>(st), static_cast<int>(pad)).layers().front());
    w_.weights[name] = std::move(m);
    Stream out;
    out.kind = Stream::Kind::Acc;
    const Shape o = net_.shape();
    out.dims = {1, o.c, o.h, o.w};
    out.scale.assign(static_cast<size_t>(o_count), ws * sa);
    out.bias = bias;
    if (n.input_size() > 2 && !n.input(2).empty()) {
      const Tensor& b = constant(n, 2, "bias");
      if (static_cast<std::int64_t>(b.v.size()) != o_count) fail(n, "a bias of the wrong size");
      for (size_t i = 0; i < b.v.size(); ++i) out.bias[i] += b.v[i];
    }
    set_stream(n, 0, out);
  }

  void max_pool(const onnx::NodeProto& n, Stream s) {
    if (s.kind == Stream::Kind::Acc)
      fail(n, "a max pool of unquantized results; qdf pools activations: put the quantizer before the pool");
    require_act(n, s);
    if (s.flat || s.dims.size() != 4) fail(n, "a max pool of data that is not an image [1, C, H, W]");
    if (n.output_size() > 1 && !n.output(1).empty()) fail(n, "its Indices output is not supported");
    for (double v : s.scale)
      if (v <= 0) fail(n, "a max pool of activations with a negative scale (the max would be the min of qdf's values)");
    std::int64_t k = 0, st = 1, pad = 0;
    window_attrs(n, k, st, pad);
    net_.append(manager::maxpool(static_cast<int>(k), static_cast<int>(st), static_cast<int>(pad)).layers().front());
    const Shape o = net_.shape();
    s.dims = {1, o.c, o.h, o.w};
    set_stream(n, 0, s);
  }

  void global_pool(const onnx::NodeProto& n, Stream s) {
    require_act(n, s);
    if (s.flat || s.dims.size() != 4) fail(n, "a global pool of data that is not an image [1, C, H, W]");
    if (n.op_type() == "ReduceSum") {
      std::vector<std::int64_t> axes = axes_of(n);
      for (std::int64_t& a : axes) a = a < 0 ? a + 4 : a;
      std::sort(axes.begin(), axes.end());
      if (axes != std::vector<std::int64_t>{2, 3} || attr_int(n, "keepdims", 1) != 1)
        fail(n, "a ReduceSum other than over the rows and columns of an image (axes 2, 3, keepdims 1)");
    }
    const Shape in = net_.shape();
    const double hw = static_cast<double>(in.h) * in.w;
    net_.append(manager::global_pool().layers().front());
    for (size_t c = 0; c < s.scale.size(); ++c) {
      if (n.op_type() == "GlobalAveragePool") s.scale[c] /= hw;
      else s.bias[c] *= hw;
    }
    s.dims = {1, in.c, 1, 1};
    set_stream(n, 0, s);
  }

  void select(const onnx::NodeProto& n, Stream s) {
    if (s.kind != Stream::Kind::Acc)
      fail(n, "it selects among values that are not the scores of a MatMul, Gemm or Conv; qdf's label select takes those");
    std::int64_t k = 1;
    std::int64_t axis = attr_int(n, "axis", n.op_type() == "TopK" ? -1 : 0);
    if (axis < 0) axis += static_cast<std::int64_t>(s.dims.size());
    if (axis != 1) fail(n, fmt::format("axis {}; qdf selects among the channels (axis 1)", axis));
    if (n.op_type() == "TopK") {
      if (attr_int(n, "largest", 1) != 1) fail(n, "largest = 0 (the smallest scores)");
      if (attr_int(n, "sorted", 1) != 1) fail(n, "sorted = 0");
      const Tensor& kt = constant(n, 1, "K");
      k = static_cast<std::int64_t>(kt.v.at(0));
      for (const auto& m : g_.node())
        for (const auto& i : m.input())
          if (i == n.output(0)) fail(n, "its values output is used; qdf's label select gives the indices only");
      for (const auto& o : g_.output())
        if (o.name() == n.output(0)) fail(n, "its values output is a graph output; qdf's label select gives the indices only");
    } else if (attr_int(n, "select_last_index", 0) != 0) {
      fail(n, "select_last_index = 1; qdf breaks ties to the lowest index");
    }
    finish_scores(s, static_cast<int>(k), &n);
    Stream out;
    out.kind = Stream::Kind::Labels;
    out.dims = {1, k};
    set_stream(n, n.op_type() == "TopK" ? 1 : 0, out);
  }

  // The scores `scale[c] * acc[c] + bias[c]` ranked as qdf's label select ranks acc: one scale
  // for all classes (a negative one negates the last layer's weights), and per-class offsets,
  // when there are any, added by constant channels of the layer before (score_offsets.hpp).
  void finish_scores(Stream& s, int k, const onnx::NodeProto* n) {
    const std::string where = n ? fmt::format("{}: node {}", path_, describe_node(*n)) : fmt::format("{}: the graph output", path_);
    const Layer& last = net_.back();
    if (last.out.h * last.out.w != 1) throw UserError(fmt::format("{}: the scores are a map; qdf selects a label among a vector", where));
    for (double v : s.scale)
      if (!close(v, s.scale[0]) || v == 0)
        throw UserError(fmt::format("{}: the class scores are scaled differently per class (or by 0); qdf's label select ranks "
                                    "accumulators with one scale",
                                    where));
    if (s.scale[0] < 0) {
      if (last.kind != LayerKind::FullyConnected && last.kind != LayerKind::Conv)
        throw UserError(fmt::format("{}: a negative scale of the scores after a {}", where, last.describe()));
      engines::BinaryMatrix& m = w_.weights.at(last.name);
      for (int r = 0; r < m.rows; ++r)
        for (int c = 0; c < m.cols; ++c) m.set(r, c, !m.at(r, c));
      for (double& v : s.scale) v = -v;
    }
    std::vector<std::int64_t> offsets;
    bool any = false;
    for (double b : s.bias) {
      const double d = (b - s.bias[0]) / s.scale[0];
      if (std::abs(d - std::round(d)) > 1e-6 * std::max(1.0, std::abs(d)))
        throw UserError(fmt::format("{}: the class scores have per-class offsets that are not whole accumulator steps ({} steps); qdf's "
                                    "label select ranks accumulators",
                                    where, d));
      offsets.push_back(std::llround(d));
      any |= offsets.back() != 0;
    }
    if (any) {
      add_score_offsets(net_, w_, offsets, where);
    }
    net_.append(manager::label_select(k).layers().front());
  }

};

}  // namespace

ImportedModel import_qonnx(const std::string& path, const ImportOptions& opt) {
  onnx::ModelProto m;
  read_onnx_file(path, m);
  return Importer(m, path, opt).run();
}

}  // namespace qdf::host

#include "host/onnx/export_qonnx.hpp"

#include "dsl/errors.hpp"
#include "host/onnx/onnx_file.hpp"

#include <cmath>
#include <fmt/format.h>
#include <onnx/onnx_pb.h>

namespace qdf::host {

using manager::Layer;
using manager::LayerKind;

namespace {

constexpr const char* kQonnxDomain = "qonnx.custom_op.general";

class Writer {
 public:
  explicit Writer(onnx::GraphProto& g) : g_(g) {}

  std::string constant(const Tensor& t, const std::string& name, bool int64 = false) {
    tensor_to_proto(t, name, *g_.add_initializer(), int64);
    return name;
  }
  onnx::NodeProto& node(const std::string& op, const std::string& name, std::vector<std::string> in, std::vector<std::string> out,
                        bool custom = false) {
    onnx::NodeProto& n = *g_.add_node();
    n.set_op_type(op);
    n.set_name(name);
    if (custom) n.set_domain(kQonnxDomain);
    for (auto& i : in) n.add_input(i);
    for (auto& o : out) n.add_output(o);
    return n;
  }
  static void set(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void set(onnx::NodeProto& n, const std::string& name, double v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(v));
  }
  static void set(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void set(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (std::int64_t x : v) a->add_ints(x);
  }

 private:
  onnx::GraphProto& g_;
};

// A window's attributes (Conv, MaxPool): K x K, stride S, padding P on every side.
void set_window(onnx::NodeProto& n, const Layer& l) {
  Writer::set(n, "kernel_shape", std::vector<std::int64_t>{l.k, l.k});
  Writer::set(n, "strides", std::vector<std::int64_t>{l.s, l.s});
  Writer::set(n, "pads", std::vector<std::int64_t>{l.p, l.p, l.p, l.p});
}

void value_info(onnx::ValueInfoProto& v, const std::string& name, const std::vector<std::int64_t>& dims, bool int64) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(int64 ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
  for (std::int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace

void export_qonnx(const manager::Net& net, const manager::ModelWeights& w, const std::string& path) {
  manager::check_weights(net, w);
  const std::vector<Layer>& ls = net.layers();
  if (ls.empty() || ls.front().kind != LayerKind::Input) throw UserError("a network must start with an input");
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("qdf");
  auto* std_ops = m.add_opset_import();
  std_ops->set_domain("");
  std_ops->set_version(11);
  auto* q_ops = m.add_opset_import();
  q_ops->set_domain(kQonnxDomain);
  q_ops->set_version(1);
  auto* meta = m.add_metadata_props();
  meta->set_key("qdf.input_range");
  meta->set_value("0..255");
  onnx::GraphProto& g = *m.mutable_graph();
  g.set_name(net.name);
  Writer wr(g);
  const Layer& in = ls.front();
  value_info(*g.add_input(), in.name, {1, in.out.c, in.out.h, in.out.w}, false);
  std::string x = in.name;
  std::vector<std::int64_t> dims = {1, in.out.c, in.out.h, in.out.w};
  // The input's quantizer: what Dataset::stream feeds qdf (a binary input: bit 7 of the pixel).
  if (in.out_binary) {
    auto& n = wr.node("MultiThreshold", in.name + "_quant", {x, wr.constant(Tensor{{1, 1}, {128}}, in.name + "_thresholds")},
                      {in.name + "_q"}, true);
    Writer::set(n, "out_scale", 2.0);
    Writer::set(n, "out_bias", -1.0);
    Writer::set(n, "out_dtype", std::string("BIPOLAR"));
  } else {
    std::string q_in = x;
    if (in.out_bits < 8) {
      wr.node("Div", in.name + "_shift", {x, wr.constant(Tensor::scalar(std::ldexp(1.0, 8 - in.out_bits)), in.name + "_step")}, {in.name + "_s"});
      q_in = in.name + "_s";
    } else if (in.out_bits > 8) {
      wr.node("Mul", in.name + "_shift", {x, wr.constant(Tensor::scalar(std::ldexp(1.0, in.out_bits - 8)), in.name + "_step")}, {in.name + "_s"});
      q_in = in.name + "_s";
    }
    auto& n = wr.node("Quant", in.name + "_quant",
                      {q_in, wr.constant(Tensor::scalar(1), in.name + "_qscale"), wr.constant(Tensor::scalar(0), in.name + "_qzero"),
                       wr.constant(Tensor::scalar(in.out_bits), in.name + "_qbits")},
                      {in.name + "_q"}, true);
    Writer::set(n, "signed", std::int64_t{0});
    Writer::set(n, "narrow", std::int64_t{0});
    Writer::set(n, "rounding_mode", std::string("FLOOR"));
  }
  x = in.name + "_q";
  for (size_t li = 1; li < ls.size(); ++li) {
    const Layer& l = ls[li];
    const std::string out = l.name + "_out";
    switch (l.kind) {
      case LayerKind::Conv: {
        const engines::BinaryMatrix& b = w.weights.at(l.name);
        Tensor t{{l.out_channels, l.in.c, l.k, l.k}, {}};
        for (int o = 0; o < l.out_channels; ++o)
          for (int c = 0; c < l.in.c; ++c)
            for (int ky = 0; ky < l.k; ++ky)
              for (int kx = 0; kx < l.k; ++kx) t.v.push_back(b.at(o, (ky * l.k + kx) * l.in.c + c) ? 1 : -1);
        wr.node("BipolarQuant", l.name + "_wquant", {wr.constant(t, l.name + "_w"), wr.constant(Tensor::scalar(1), l.name + "_wscale")},
                {l.name + "_wq"}, true);
        auto& n = wr.node("Conv", l.name, {x, l.name + "_wq"}, {out});
        set_window(n, l);
        dims = {1, l.out.c, l.out.h, l.out.w};
        break;
      }
      case LayerKind::FullyConnected: {
        if (dims.size() != 2) {
          wr.node("Reshape", l.name + "_flatten", {x, wr.constant(Tensor{{2}, {1, -1}}, l.name + "_flat_shape", true)}, {l.name + "_flat"});
          x = l.name + "_flat";
        }
        const engines::BinaryMatrix& b = w.weights.at(l.name);
        const manager::Shape s = l.in;
        const std::int64_t hw = static_cast<std::int64_t>(s.h) * s.w;
        Tensor t{{s.size(), l.out_channels}, std::vector<double>(static_cast<size_t>(s.size() * l.out_channels))};
        for (std::int64_t j = 0; j < s.size(); ++j) {  // j: qdf's column; i: the NCHW feature ONNX flattens
          const std::int64_t i = (j % s.c) * hw + j / s.c;
          for (int r = 0; r < l.out_channels; ++r) t.v[static_cast<size_t>(i * l.out_channels + r)] = b.at(r, static_cast<int>(j)) ? 1 : -1;
        }
        wr.node("BipolarQuant", l.name + "_wquant", {wr.constant(t, l.name + "_w"), wr.constant(Tensor::scalar(1), l.name + "_wscale")},
                {l.name + "_wq"}, true);
        wr.node("MatMul", l.name, {x, l.name + "_wq"}, {out});
        dims = {1, l.out_channels};
        break;
      }
      case LayerKind::Activation: {
        const engines::Thresholds& t = w.thresholds.at(l.name);
        std::string a = x;
        bool any_flip = false;
        for (auto f : t.flip) any_flip |= f != 0;
        if (any_flip) {  // threshold_rule.hpp: s * acc >= T, s = -1 where flipped
          Tensor sign{dims.size() == 4 ? std::vector<std::int64_t>{1, t.channels, 1, 1} : std::vector<std::int64_t>{1, t.channels}, {}};
          for (auto f : t.flip) sign.v.push_back(f ? -1 : 1);
          wr.node("Mul", l.name + "_sign", {x, wr.constant(sign, l.name + "_signs")}, {l.name + "_signed"});
          a = l.name + "_signed";
        }
        Tensor th{{t.channels, t.levels}, {}};
        for (std::int64_t v : t.t) {
          if (std::abs(static_cast<double>(v)) > 16777216.0)
            throw UserError(fmt::format("layer {}: threshold {} does not fit a float32 exactly", l.describe(), v));
          th.v.push_back(static_cast<double>(v));
        }
        auto& n = wr.node("MultiThreshold", l.name, {a, wr.constant(th, l.name + "_thresholds")}, {out}, true);
        Writer::set(n, "out_scale", l.act_bits == 1 ? 2.0 : 1.0);
        Writer::set(n, "out_bias", l.act_bits == 1 ? -1.0 : 0.0);
        Writer::set(n, "out_dtype", std::string(l.act_bits == 1 ? "BIPOLAR" : "UINT2"));
        break;
      }
      case LayerKind::MaxPool: {
        auto& n = wr.node("MaxPool", l.name, {x}, {out});
        set_window(n, l);
        dims = {1, l.out.c, l.out.h, l.out.w};
        break;
      }
      case LayerKind::GlobalPool: {
        auto& n = wr.node("ReduceSum", l.name, {x}, {out});
        Writer::set(n, "axes", std::vector<std::int64_t>{2, 3});
        Writer::set(n, "keepdims", std::int64_t{1});
        dims = {1, l.out.c, 1, 1};
        break;
      }
      case LayerKind::LabelSelect: {
        auto& n = wr.node("TopK", l.name, {x, wr.constant(Tensor{{1}, {static_cast<double>(l.top_k)}}, l.name + "_k", true)},
                          {l.name + "_scores", out});
        Writer::set(n, "axis", std::int64_t{-1});
        Writer::set(n, "largest", std::int64_t{1});
        Writer::set(n, "sorted", std::int64_t{1});
        dims = {1, l.top_k};
        break;
      }
      case LayerKind::Residual:
        throw UserError(fmt::format("layer {}: exporting residual blocks to QONNX is not supported yet", l.describe()));
      case LayerKind::Input: throw InternalError("a second input layer");
    }
    x = out;
  }
  value_info(*g.add_output(), x, dims, ls.back().kind == LayerKind::LabelSelect);
  write_onnx_file(path, m);
}

}  // namespace qdf::host

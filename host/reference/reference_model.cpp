#include "host/reference/reference_model.hpp"

#include "dsl/errors.hpp"
#include "host/reference/reference_layers.hpp"

#include <fmt/format.h>

namespace qdf::host {

using manager::Layer;
using manager::LayerKind;
using reference::Map;

namespace {

// The ±1 weights of a conv or fc layer as a matrix: row = output channel.
reference::Matrix weight_matrix(const manager::ModelWeights& w, const Layer& l) {
  const engines::BinaryMatrix& b = w.weights.at(l.name);
  reference::Matrix m(b.rows, b.cols);
  for (int r = 0; r < b.rows; ++r)
    for (int c = 0; c < b.cols; ++c) m(r, c) = b.at(r, c) ? 1 : -1;
  return m;
}

// The value that padding holds in a map of this layer's input: the zero bit of a binary map is -1.
std::int64_t pad_value(const Layer& l) { return l.in_binary ? -1 : 0; }

Map run(const std::vector<Layer>& layers, Map x, const manager::ModelWeights& w);

Map layer(const Layer& l, const Map& x, const manager::ModelWeights& w) {
  switch (l.kind) {
    case LayerKind::Input: return x;
    case LayerKind::Conv: return reference::conv(x, weight_matrix(w, l), l.k, l.s, l.p, pad_value(l));
    case LayerKind::FullyConnected: {
      reference::Vector v(static_cast<Eigen::Index>(x.v.size()));
      for (size_t i = 0; i < x.v.size(); ++i) v(static_cast<Eigen::Index>(i)) = x.v[i];
      reference::Vector y = reference::matvec(weight_matrix(w, l), v);
      return Map{1, 1, static_cast<int>(y.size()), std::vector<std::int64_t>(y.data(), y.data() + y.size())};
    }
    case LayerKind::Activation: {
      const engines::Thresholds& t = w.thresholds.at(l.name);
      Map out = x;
      for (size_t i = 0; i < x.v.size(); ++i) {
        const size_t ch = i % static_cast<size_t>(x.c);
        std::vector<std::int64_t> levels(t.t.begin() + static_cast<std::ptrdiff_t>(ch * static_cast<size_t>(t.levels)),
                                         t.t.begin() + static_cast<std::ptrdiff_t>((ch + 1) * static_cast<size_t>(t.levels)));
        const std::int64_t n = reference::activate(x.v[i], t.flip[ch] != 0, levels);
        out.v[i] = l.act_bits == 1 ? 2 * n - 1 : n;
      }
      return out;
    }
    case LayerKind::MaxPool: return reference::maxpool(x, l.k, l.s, l.p, pad_value(l));
    case LayerKind::GlobalPool: return Map{1, 1, x.c, reference::global_sum(x)};
    case LayerKind::Residual: {
      Map main = run(l.main, x, w);
      Map skip = l.projection.empty() ? x : run(l.projection, x, w);
      if (main.v.size() != skip.v.size())
        throw InternalError(fmt::format("residual {}: main branch gives {} values, skip {}", l.name, main.v.size(), skip.v.size()));
      // The network refuses shifts outside 0..16 (manager/network.cpp); a shift past 62 would be UB here.
      if (l.shift < 0 || l.shift > 62) throw InternalError(fmt::format("residual {}: shift {} outside 0..62", l.name, l.shift));
      for (size_t i = 0; i < main.v.size(); ++i) main.v[i] += skip.v[i] * (std::int64_t{1} << l.shift);
      return main;
    }
    case LayerKind::LabelSelect: return Map{1, 1, l.top_k, reference::top_k(x.v, l.top_k)};
  }
  throw InternalError(fmt::format("the reference has no model of layer {}", l.describe()));
}

Map run(const std::vector<Layer>& layers, Map x, const manager::ModelWeights& w) {
  for (const Layer& l : layers) {
    x = layer(l, x, w);
    if (x.h != l.out.h || x.w != l.out.w || x.c != l.out.c)
      throw InternalError(fmt::format("layer {}: the reference gives {}x{}x{}, the network says {}", l.describe(), x.h, x.w, x.c,
                                      l.out.str()));
  }
  return x;
}

}  // namespace

std::vector<std::int64_t> reference_forward(const manager::Net& net, const manager::ModelWeights& w,
                                            const std::vector<std::int64_t>& image) {
  const std::vector<Layer>& ls = net.layers();
  if (ls.empty() || ls.front().kind != LayerKind::Input) throw UserError("a network must start with an input");
  manager::check_weights(net, w);
  const Layer& in = ls.front();
  if (static_cast<std::int64_t>(image.size()) != in.out.size())
    throw UserError(fmt::format("network '{}' takes images of {} = {} values (input {}), found {} values", net.name, in.out.str(),
                                in.out.size(), in.name, image.size()));
  Map x{in.out.h, in.out.w, in.out.c, {}};
  const int bits = in.out_binary ? 1 : in.out_bits;
  for (size_t i = 0; i < image.size(); ++i) {
    const std::int64_t v = image[i];
    if (v < 0 || v >= (std::int64_t{1} << bits)) {
      const int pixel = static_cast<int>(i / static_cast<size_t>(in.out.c));
      throw UserError(fmt::format("network '{}': image value {} at row {}, column {}, channel {} does not fit its {} {}-bit input",
                                  net.name, v, pixel / in.out.w, pixel % in.out.w, i % static_cast<size_t>(in.out.c),
                                  in.out_binary ? "binary" : "unsigned", bits));
    }
    x.v.push_back(in.out_binary ? 2 * v - 1 : v);
  }
  Map out = run(ls, x, w);
  if (ls.back().out_binary)
    for (std::int64_t& v : out.v) v = v > 0 ? 1 : 0;
  return out.v;
}

}  // namespace qdf::host

#include "host/onnx/score_offsets.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace qdf::host {

using manager::Layer;
using manager::LayerKind;
using manager::Net;

void add_score_offsets(Net& net, manager::ModelWeights& w, const std::vector<std::int64_t>& d, const std::string& where) {
  const std::vector<Layer> ls = net.layers();
  const size_t n = ls.size();
  if (n < 4 || ls[n - 1].kind != LayerKind::FullyConnected || ls[n - 2].kind != LayerKind::Activation ||
      ls[n - 3].kind != LayerKind::FullyConnected)
    throw UserError(fmt::format("{}: the class scores have per-class offsets, which qdf adds through the fully connected layer and "
                                "activation before the last one; this network has no such layers",
                                where));
  const std::int64_t lo = *std::min_element(d.begin(), d.end()), hi = *std::max_element(d.begin(), d.end());
  for (std::int64_t v : d)
    if ((v - lo) % 2 != 0)
      throw UserError(fmt::format("{}: the class scores have per-class offsets of odd differences ({} and {}), which ±1 weights on "
                                  "constant inputs cannot add",
                                  where, lo, v));
  const Layer prev_fc = ls[n - 3], prev_act = ls[n - 2], last = ls[n - 1];
  const std::int64_t half = (hi - lo) / 2;  // the subset sums needed: 0 .. half
  const int two_bit = prev_act.act_bits == 2;
  const std::int64_t k3 = two_bit && half > 4 ? (half - 2) / 3 : 0, k1 = half - 3 * k3;
  const int extra = static_cast<int>(k3 + k1);
  // The network again, the layer before the last `extra` channels wider.
  Net again = manager::input(ls[0].name, ls[0].out, ls[0].out_bits, ls[0].out_binary);
  for (size_t i = 1; i < n; ++i) {
    Layer l = ls[i];
    if (i == n - 3) l.out_channels += extra;
    again.append(l);
  }
  again.name = net.name;
  const std::int64_t bound = [&] {
    const std::int64_t fan_in = prev_fc.kind == LayerKind::Conv ? static_cast<std::int64_t>(prev_fc.k) * prev_fc.k * prev_fc.in.c : prev_fc.in.size();
    return fan_in * (prev_fc.in_binary ? 1 : (std::int64_t{1} << prev_fc.in_bits) - 1);
  }();
  const engines::BinaryMatrix& wp = w.weights.at(prev_fc.name);
  engines::BinaryMatrix wp2(wp.rows + extra, wp.cols);
  for (int r = 0; r < wp2.rows; ++r)
    for (int c = 0; c < wp.cols; ++c) wp2.set(r, c, r < wp.rows ? wp.at(r, c) : true);
  engines::Thresholds& t = w.thresholds.at(prev_act.name);
  for (int e = 0; e < extra; ++e) {
    const int level = two_bit ? (e < k3 ? 3 : 1) : 1;  // binary: level 1 is +1
    for (int i = 1; i <= t.levels; ++i) t.t.push_back(i <= level ? -(bound + 1) : bound + 1);
    t.flip.push_back(0);
    ++t.channels;
  }
  const engines::BinaryMatrix& wl = w.weights.at(last.name);
  engines::BinaryMatrix wl2(wl.rows, wl.cols + extra);
  for (int r = 0; r < wl.rows; ++r) {
    for (int c = 0; c < wl.cols; ++c) wl2.set(r, c, wl.at(r, c));
    const std::int64_t subset = (hi - d[static_cast<size_t>(r)]) / 2;  // the values weighed by -1
    const std::int64_t p3 = std::min(k3, subset / 3), p1 = subset - 3 * p3;
    for (int e = 0; e < extra; ++e) wl2.set(r, wl.cols + e, e < k3 ? e >= p3 : e - k3 >= p1);
  }
  w.weights[prev_fc.name] = std::move(wp2);
  w.weights[last.name] = std::move(wl2);
  net = again;
}

}  // namespace qdf::host

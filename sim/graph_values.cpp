#include "sim/graph_values.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <fmt/format.h>

namespace qdf::sim {

using manager::EngineKind;

std::vector<int> dataflow_order(const manager::EngineGraph& g) {
  const size_t n = g.engines.size();
  std::vector<int> waiting(n), order;
  std::vector<int> ready;
  for (size_t e = 0; e < n; ++e) {
    for (int s : g.engines[e].inputs)
      if (g.streams[static_cast<size_t>(s)].from >= 0) ++waiting[e];
    if (!waiting[e]) ready.push_back(static_cast<int>(e));
  }
  // Lowest index first among the ready ones: a stable order.
  while (!ready.empty()) {
    auto it = std::min_element(ready.begin(), ready.end());
    const int e = *it;
    ready.erase(it);
    order.push_back(e);
    for (int s : g.engines[static_cast<size_t>(e)].outputs) {
      const int to = g.streams[static_cast<size_t>(s)].to;
      if (to >= 0 && --waiting[static_cast<size_t>(to)] == 0) ready.push_back(to);
    }
  }
  if (order.size() != n) throw InternalError(fmt::format("engine graph of {} has a cycle", g.net));
  return order;
}

std::vector<std::int64_t> graph_forward(const manager::EngineGraph& g, const std::vector<std::int64_t>& image) {
  const manager::StreamEdge& in = g.streams[static_cast<size_t>(g.input_stream)];
  const auto in_values = static_cast<size_t>(in.elements * in.lanes.lanes);
  if (image.size() != in_values)
    throw UserError(fmt::format("an image of network {} has {} values ({} x {} bits), not {}", g.net, in_values,
                                g.input_shape.str(), g.input_binary ? 1 : g.input_bits, image.size()));
  const std::int64_t top = g.input_binary ? 1 : (std::int64_t{1} << g.input_bits) - 1;
  for (size_t i = 0; i < image.size(); ++i)
    if (image[i] < 0 || image[i] > top)
      throw UserError(fmt::format("value {} of an image of network {} is {}, outside 0..{}", i, g.net, image[i], top));

  std::vector<std::vector<std::int64_t>> v(g.streams.size());
  v[static_cast<size_t>(g.input_stream)] = image;
  for (int id : dataflow_order(g)) {
    const manager::Engine& e = g.engines[static_cast<size_t>(id)];
    auto input = [&](int i) -> std::vector<std::int64_t>& { return v[static_cast<size_t>(e.inputs[static_cast<size_t>(i)])]; };
    auto& out = v[static_cast<size_t>(e.outputs[0])];
    switch (e.kind) {
      case EngineKind::SlidingWindow:
        out = engines::sliding_window_forward(std::get<engines::WindowConfig>(e.config), input(0));
        break;
      case EngineKind::Mvtu:
        out = engines::mvtu_forward(std::get<engines::MvtuConfig>(e.config), *e.weights, e.thresholds.get(), input(0));
        break;
      case EngineKind::Thresholds:
        out = engines::threshold_forward(std::get<engines::ThresholdConfig>(e.config), *e.thresholds, input(0));
        break;
      case EngineKind::WindowMax: out = engines::window_max_forward(std::get<engines::WindowMaxConfig>(e.config), input(0)); break;
      case EngineKind::GlobalPool: out = engines::global_pool_forward(std::get<engines::GlobalPoolConfig>(e.config), input(0)); break;
      case EngineKind::ResidualAdd:
        out = engines::residual_add_forward(std::get<engines::ResidualAddConfig>(e.config), input(0), input(1));
        break;
      case EngineKind::LabelSelect:
        out = engines::label_select_forward(std::get<engines::LabelSelectConfig>(e.config), input(0));
        break;
      // Identities on values: the input is read once, so it moves on.
      case EngineKind::Fork: v[static_cast<size_t>(e.outputs[1])] = input(0); out = std::move(input(0)); break;
      case EngineKind::WidthConverter:
      case EngineKind::Fifo: out = std::move(input(0)); break;
    }
    // A stream's values are read once: free them as soon as their consumer has run.
    for (int s : e.inputs) std::vector<std::int64_t>().swap(v[static_cast<size_t>(s)]);
  }
  return v[static_cast<size_t>(g.output_stream)];
}

std::vector<std::vector<std::int64_t>> random_images(const manager::EngineGraph& g, int n, std::uint64_t seed) {
  const manager::StreamEdge& s = g.streams[static_cast<size_t>(g.input_stream)];
  const std::uint64_t values = g.input_binary ? 2 : std::uint64_t{1} << g.input_bits;
  std::vector<std::vector<std::int64_t>> out(static_cast<size_t>(n));
  std::uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto& img : out) {
    img.resize(static_cast<size_t>(s.elements * s.lanes.lanes));
    for (auto& v : img) v = static_cast<std::int64_t>(dsl::bits::splitmix64(state) % values);
  }
  return out;
}

}  // namespace qdf::sim

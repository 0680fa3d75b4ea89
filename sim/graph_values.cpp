#include "sim/graph_values.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <fmt/format.h>

namespace qdf::sim {

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
  std::vector<char> done(g.engines.size());
  for (int id : dataflow_order(g)) {
    if (done[static_cast<size_t>(id)]) continue;
    const manager::Engine& e = g.engines[static_cast<size_t>(id)];
    // A stream's values are read once: they move into their consumer, which frees them.
    std::vector<engines::Values> in;
    for (int s : e.inputs) in.push_back(std::move(v[static_cast<size_t>(s)]));
    // An engine whose one output reaches, through engines that pass it on, a consumer it fuses
    // with (engines/engine_kinds.hpp) runs with that consumer; the streams between hold nothing.
    int to = -1;
    std::vector<int> between;
    if (e.outputs.size() == 1) {
      to = g.streams[static_cast<size_t>(e.outputs[0])].to;
      while (to >= 0 && engines::passes_values(g.engines[static_cast<size_t>(to)].config)) {
        between.push_back(to);
        to = g.streams[static_cast<size_t>(g.engines[static_cast<size_t>(to)].outputs[0])].to;
      }
    }
    if (to >= 0 && engines::fuses(e.config, g.engines[static_cast<size_t>(to)].config)) {
      const manager::Engine& c = g.engines[static_cast<size_t>(to)];
      std::vector<engines::Values> out = engines::fused_forward(e.config, c.config, c.data, std::move(in));
      for (size_t o = 0; o < out.size(); ++o) v[static_cast<size_t>(c.outputs[o])] = std::move(out[o]);
      for (int b : between) done[static_cast<size_t>(b)] = 1;
      done[static_cast<size_t>(to)] = 1;
      continue;
    }
    std::vector<engines::Values> out = engines::engine_forward(e.config, e.data, std::move(in));
    for (size_t o = 0; o < out.size(); ++o) v[static_cast<size_t>(e.outputs[o])] = std::move(out[o]);
  }
  return v[static_cast<size_t>(g.output_stream)];
}

RandomImages::RandomImages(const manager::EngineGraph& g, std::uint64_t seed)
    : size_(static_cast<size_t>(g.streams[static_cast<size_t>(g.input_stream)].elements *
                                g.streams[static_cast<size_t>(g.input_stream)].lanes.lanes)),
      values_(g.input_binary ? 2 : std::uint64_t{1} << g.input_bits),
      state_(seed * 0x9e3779b97f4a7c15ull + 1) {}

std::vector<std::int64_t> RandomImages::next() {
  std::vector<std::int64_t> img(size_);
  for (auto& v : img) v = static_cast<std::int64_t>(dsl::bits::splitmix64(state_) % values_);
  return img;
}

void RandomImages::skip(std::int64_t n) {
  dsl::bits::splitmix64_skip(state_, static_cast<std::uint64_t>(n) * size_);
}

std::vector<std::vector<std::int64_t>> random_images(const manager::EngineGraph& g, int n, std::uint64_t seed) {
  RandomImages gen(g, seed);
  std::vector<std::vector<std::int64_t>> out;
  for (int i = 0; i < n; ++i) out.push_back(gen.next());
  return out;
}

}  // namespace qdf::sim

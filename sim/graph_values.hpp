// The values of a run: every engine's functional model (engines/*_forward, bit-packed) applied
// to the values of its input streams, in dataflow order. The engines are deterministic stream
// functions, so the values on every stream are those the hardware produces whatever the timing
// (a Kahn process network); the simulator computes them per image with the functional models and
// times the elements separately (sim/simulator.hpp). An engine whose values reach a consumer it
// fuses with (engines/engine_kinds.hpp: a sliding window into its MVTU or its window max) runs
// with it, and the streams between them hold no values.
#pragma once

#include "manager/engine_graph.hpp"

#include <cstdint>
#include <vector>

namespace qdf::sim {

// The engines of `g` in an order where every engine comes after the producers of its inputs.
std::vector<int> dataflow_order(const manager::EngineGraph& g);

// The output stream's values for one image, given the input stream's values (row, column,
// channel order; a binary input as bits, 1 = +1). A UserError names an image of the wrong size.
std::vector<std::int64_t> graph_forward(const manager::EngineGraph& g, const std::vector<std::int64_t>& image);

// n images for the graph's input, seeded: uniform values of the input's precision (splitmix64).
std::vector<std::vector<std::int64_t>> random_images(const manager::EngineGraph& g, int n, std::uint64_t seed);

// The same images one at a time, for runs that do not hold them all: the i-th next() is
// random_images(g, n, seed)[i].
class RandomImages {
 public:
  RandomImages(const manager::EngineGraph& g, std::uint64_t seed);
  std::vector<std::int64_t> next();
  // Moves past the next n images without making them (what n calls of next() would do): a share
  // of a run split over processes starts at its first image.
  void skip(std::int64_t n);

 private:
  std::size_t size_;
  std::uint64_t values_, state_;
};

}  // namespace qdf::sim

// The precision of a layer's output stream as a function of the layer and its input: one
// definition, used by the runtime network (network.cpp) and by the static one
// (static_network.hpp), so that a static network's types say what the runtime computes.
//
// Units: bits of the values on a stream. Accumulators are signed (two's complement); activations,
// pooled sums and label indices are unsigned; a binary stream carries ±1 as one bit.
#pragma once

#include "dsl/types.hpp"

#include <cstdint>

namespace qdf::manager::precision {

// The skip of a residual block is scaled by 2^shift; the residual add engine takes 0..16
// (engines/stream_engines.cpp).
inline constexpr int kMaxResidualShift = 16;
// Conv and fully connected layers read activations of at most 16 bits (binary ones are 1 bit).
inline constexpr int kMaxActivationBits = 16;

// Output rows (or columns) of a k x k window with stride s and padding p over `size` inputs.
constexpr int window_out(int size, int k, int s, int p) { return (size + 2 * p - k) / s + 1; }

// A conv's or fully connected layer's signed accumulator: `fan_in` products of ±1 weights with
// binary (±1) inputs or unsigned `in_bits`-bit inputs, plus the sign bit.
constexpr int accumulator_bits(std::int64_t fan_in, int in_bits, bool in_binary) {
  std::int64_t max = in_binary ? fan_in : fan_in * ((std::int64_t{1} << in_bits) - 1);
  return dsl::bits_for(static_cast<std::uint64_t>(max)) + 1;
}

// A global pool's unsigned sum of `pixels` unsigned `in_bits`-bit activations.
constexpr int global_pool_bits(std::int64_t pixels, int in_bits) {
  return dsl::bits_for(static_cast<std::uint64_t>(pixels) * ((std::uint64_t{1} << in_bits) - 1));
}

// A label select's output: the index of a class among `classes`.
constexpr int label_bits(int classes) { return dsl::index_bits(static_cast<std::uint64_t>(classes)); }

// A residual add: the main branch's accumulator plus the skip, either the block's unsigned
// `in_bits`-bit input scaled by 2^shift (as a signed value) or a projection conv's accumulator.
constexpr int residual_bits(int main_bits, int in_bits, int shift, bool projected, int projection_bits) {
  int skip_bits = projected ? projection_bits : in_bits + shift + 1;
  return (main_bits > skip_bits ? main_bits : skip_bits) + 1;
}

}  // namespace qdf::manager::precision

// How integer values travel on an engine's stream: `lanes` values per element, lane i in bits
// [i*bits, (i+1)*bits) of the element (lane 0 least significant), each value unsigned or two's
// complement. A feature map streams in row, column, channel order with channels fastest, so
// element e of a map with C channels folded by `lanes` holds channels (e % (C/lanes)) * lanes ...
#pragma once

#include "dsl/interpreter.hpp"

#include <cstdint>
#include <vector>

namespace qdf::engines {

struct Lanes {
  int lanes = 1;
  int bits = 1;
  bool is_signed = false;
  int element_bits() const { return lanes * bits; }
};

// values.size() must be a multiple of lanes; values must fit in `bits` (checked).
dsl::Stream pack_lanes(const std::vector<std::int64_t>& values, const Lanes& l);
std::vector<std::int64_t> unpack_lanes(const dsl::Stream& s, const Lanes& l);

// Bipolar values (-1/+1) as bits (1 = +1), the encoding of binary weights and activations.
std::vector<std::int64_t> bipolar_to_bits(const std::vector<std::int64_t>& v);

}  // namespace qdf::engines

// The packed-word loops of the functional models: values packed into bit planes of 64-bit
// words, and the match counts of packed input vectors against ±1 weight rows (popcount of AND
// over each plane, or of XNOR for binary inputs). They are the hot loops of every MVTU's
// functional model (engines/mvtu.cpp), hence of the simulator's values.
//
// Two paths compute the same results: a portable one (std::popcount on 64-bit words, the POPCNT
// instruction on x86-64) and AVX-512 with VPOPCNTQ (eight words per instruction), chosen at run
// time where the CPU has AVX-512 F, BW and VPOPCNTDQ, so that one binary runs everywhere.
// tests/engines/test_bit_planes.cpp checks that both agree bit-exactly with a plain bit-by-bit
// count.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace qdf::engines {

enum class SimdPath { Portable, Avx512 };

std::string_view simd_path_name(SimdPath p);
// Whether this CPU runs `p` (Portable always).
bool simd_path_available(SimdPath p);
// The fastest available path (decided once).
SimdPath best_simd_path();
// Every available path, Portable first.
std::vector<SimdPath> available_simd_paths();

// Packs n values into `bits` planes of `words` words each (words >= ceil(n / 64)):
// bit i of planes[j*words + k] is bit j of values[64k + i]; bits past n are 0. Values are
// taken as unsigned; the result is non-zero exactly when
// some value does not fit `bits` bits.
std::uint64_t pack_planes(SimdPath p, const std::int64_t* values, int n, int bits, int words, std::uint64_t* planes);

// Input vectors packed as above (vector v's plane j at planes + (v*bits + j)*words) against
// weight rows of `words` words each (bit 1 = +1, bits past `width` are ignored).
struct PackedMatVec {
  const std::uint64_t* weights = nullptr;
  int rows = 0;
  int words = 0;
  int width = 0;  // values per vector (MW); words == ceil(width / 64)
  const std::uint64_t* planes = nullptr;
  int vectors = 0;
  int bits = 1;
  bool binary = false;  // count matches (XNOR, bits == 1) rather than AND
};

// out[v*rows + r]: binary, the number of positions where input and weight agree; otherwise
// sum_j 2^j popcount(plane_j(v) & row r).
void count_matches(SimdPath p, const PackedMatVec& m, std::int64_t* out);

}  // namespace qdf::engines

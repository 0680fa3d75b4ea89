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

#include <cstddef>
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

// The same for values given as bytes (bits <= 8; the values are taken to fit): a sliding window
// with narrow, many-bit pixels (a first layer's 3 channels of 8 bits) packs its windows so.
void pack_planes_bytes(SimdPath p, const std::uint8_t* values, int n, int bits, int words, std::uint64_t* planes);

// ORs the n bits of `src` from bit src_bit on into `dst` from bit dst_bit on (bit i of word k is
// bit 64k + i), whatever their alignments; dst's bits there are expected to be 0, and src must
// have a readable word past the one holding its last bit (its value does not matter). A sliding
// window assembles its windows' bit planes from its rows' with it (engines/sliding_window.hpp).
inline void or_bits(std::uint64_t* dst, std::int64_t dst_bit, const std::uint64_t* src, std::int64_t src_bit, std::int64_t n) {
  if (((dst_bit | src_bit | n) & 63) == 0) {  // whole words (pixels of 64 binary channels): no shifts
    for (std::int64_t k = 0; k < n >> 6; ++k) dst[(dst_bit >> 6) + k] |= src[(src_bit >> 6) + k];
    return;
  }
  // A chunk at a time that ends at or before dst's next word boundary, read as the 64 bits from
  // src_bit on out of src's two words there (the second shifted in two steps: by 64 - sb in all
  // but name, defined when sb = 0).
  while (n > 0) {
    const int db = static_cast<int>(dst_bit & 63), sb = static_cast<int>(src_bit & 63);
    const int len = static_cast<int>(n < 64 - db ? n : 64 - db);
    const std::uint64_t* s = src + (src_bit >> 6);
    const std::uint64_t x = ((s[0] >> sb) | ((s[1] << 1) << (63 - sb))) & (~std::uint64_t{0} >> (64 - len));
    dst[dst_bit >> 6] |= x << db;
    dst_bit += len;
    src_bit += len;
    n -= len;
  }
}

// acc[i] = max(acc[i], x[i]) for i < n: a max pool's reduction over its window's pixels
// (engines/sliding_window.hpp), eight values an instruction on AVX-512.
void max_into(SimdPath p, std::int64_t* acc, const std::int64_t* x, std::size_t n);

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

// Input vectors of unsigned bytes (vector v's `width` values at values + v*width) against the
// same weight rows: out[v*rows + r] = the sum of the values where row r's bit is 1, what
// count_matches gives for those vectors packed (unsigned). On AVX-512 with VNNI it is a byte dot
// product, four values an instruction per 16 rows, where the planes would take a popcount per
// plane (and a first layer's 27 values fill under half a word): an MVTU with narrow, many-bit
// inputs counts so when byte_matches_fast.
struct ByteMatVec {
  const std::uint64_t* weights = nullptr;
  int rows = 0;
  int words = 0;
  int width = 0;
  const std::uint8_t* values = nullptr;
  int vectors = 0;
};
void count_byte_matches(SimdPath p, const ByteMatVec& m, std::int64_t* out);
// Whether `p` counts bytes with the dot product (AVX-512 on a CPU with VNNI); the portable
// count_byte_matches, a plain loop, is there to check it.
bool byte_matches_fast(SimdPath p);

}  // namespace qdf::engines

// The matrix-vector-threshold unit (MVTU): a fully connected layer, or a convolution on the
// windows of the sliding-window unit, with ±1 weights. Its four faces:
//   mvtu_kernel()    the stream kernel (its RTL comes from the DSL's Verilog backend)
//   mvtu_forward()   the functional model: bit-packed 64-bit words and popcount
//   mvtu_timing()    ticks per input vector
//   resources        estimate_resources() of the recorded kernel (engines/resources.hpp)
//
// Folding (finn-hlslib's MVAU): PE rows and SIMD columns are computed per tick; NF = MH/PE row
// groups and SF = MW/SIMD column groups, so NF*SF ticks per input vector (II = 1). Tick
// (nf, sf), with the invariant tile = nf*SF + sf, reads input element sf (only when nf == 0;
// later row groups reread it from an input buffer of SF elements) and weight tile `tile` of
// each PE's ROM. Output element nf (PE lanes) is written at sf == SF-1.
//
// Input precisions: Binary (bit 1 = +1; dot = 2*popcount(xnor) - K) and Unsigned with
// in_bits bits per value (2-bit activations, an 8-bit first layer), computed from bit planes:
// dot = 2*P - Q with P = sum_j 2^j popcount(w & a_j), Q = sum_j 2^j popcount(a_j).
// Output: the raw accumulator (out_bits = 0, last layer) or the multi-threshold activation
// fused in (out_bits = 1 or 2, engines/threshold_rule.hpp).
//
// Several pixels per tick (MMV): with `pixels` = M > 1 an unfolded MVTU (NF = SF = 1: each
// tick one whole input vector against the whole matrix) takes M input vectors per element and
// gives their M output vectors per element, computed side by side from the same weights, which
// it holds once. As vectors stream one after another, the values and their order are those of
// M = 1; only the lanes per element grow (M*SIMD in, M*PE out).
#pragma once

#include "dsl/ir.hpp"
#include "engines/bit_planes.hpp"
#include "engines/stream_layout.hpp"
#include "engines/threshold_rule.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace qdf::engines {

enum class InputKind { Binary, Unsigned };

struct MvtuConfig {
  int mw = 0;     // inputs per vector (matrix width)
  int mh = 0;     // outputs per vector (matrix height)
  int simd = 1;   // columns per tick; MW must be a multiple
  int pe = 1;     // rows per tick; MH must be a multiple
  InputKind input = InputKind::Binary;
  int in_bits = 1;   // bits per input value (1 for Binary)
  int out_bits = 0;  // 0: raw accumulator; 1 or 2: fused thresholds
  int pixels = 1;    // input vectors per element (MMV; > 1 needs NF = SF = 1)
  std::string name = "mvtu";

  // Checks every parameter; a UserError says which requirement is not met.
  void check() const;
  int nf() const { return mh / pe; }
  int sf() const { return mw / simd; }
  std::int64_t max_abs_acc() const;  // largest |dot product|
  int acc_bits() const;              // bits of the signed accumulator
  Lanes in_lanes() const { return {simd * pixels, in_bits, false}; }
  Lanes out_lanes() const { return out_bits ? Lanes{pe * pixels, out_bits, false} : Lanes{pe * pixels, acc_bits(), true}; }
};

// ±1 weights as bits (1 = +1), row-major, each row padded to whole 64-bit words.
struct BinaryMatrix {
  int rows = 0, cols = 0;
  std::vector<std::uint64_t> words;
  BinaryMatrix() = default;
  BinaryMatrix(int r, int c);
  int words_per_row() const { return (cols + 63) / 64; }
  bool at(int r, int c) const { return (words[static_cast<size_t>(r * words_per_row() + c / 64)] >> (c % 64)) & 1; }
  void set(int r, int c, bool v);
  static BinaryMatrix random(int rows, int cols, std::uint64_t seed);
};

dsl::Kernel mvtu_kernel(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t = nullptr);

// Input: vectors of MW values in wire encoding (Binary: bits), concatenated. Output: MH values per
// vector (raw accumulators or activations).
std::vector<std::int64_t> mvtu_forward(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                       const std::vector<std::int64_t>& input);
// The same on a chosen path of the packed-word loops (engines/bit_planes.hpp); the one above
// takes the fastest this CPU has.
std::vector<std::int64_t> mvtu_forward(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                       const std::vector<std::int64_t>& input, SimdPath path);

// The same from input vectors already packed into bit planes (engines/bit_planes.hpp: vector v's
// plane j at planes[(v*in_bits + j)*words], words = ceil(MW / 64), bits past MW zero), as a
// sliding window hands its windows over (engines/sliding_window.hpp); the overloads above pack
// and call it.
std::vector<std::int64_t> mvtu_forward_planes(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                              const std::uint64_t* planes, std::size_t vectors, SimdPath path);
// The same from unsigned input vectors of bytes (in_bits <= 8: vector v's MW values at
// bytes[v*MW ...]), counted by count_byte_matches (engines/bit_planes.hpp): what a sliding window
// of narrow, many-bit pixels hands over where byte_matches_fast(path).
std::vector<std::int64_t> mvtu_forward_bytes(const MvtuConfig& c, const BinaryMatrix& w, const Thresholds* t,
                                             const std::uint8_t* bytes, std::size_t vectors, SimdPath path);
// Throws the UserError that names the first input value that does not fit in_bits bits (for a
// packing that found one).
[[noreturn]] void mvtu_refuse_input(const MvtuConfig& c, const std::vector<std::int64_t>& input);

struct EngineTiming {
  std::int64_t ticks_per_frame = 0;  // one frame = one input vector here, one image for maps
  int ii = 1;                        // ticks between consecutive elements in steady state
};
// Ticks per frame; a frame is `pixels` input vectors.
EngineTiming mvtu_timing(const MvtuConfig& c);

}  // namespace qdf::engines

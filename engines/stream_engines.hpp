// The smaller stream engines, each a kernel with its functional and timing model:
//   multi-threshold activation (standalone, after a residual add), window max (the reduction
//   half of a max pool, after the sliding window), global sum pool, residual add, stream fork,
//   data-width converter, label select (top-1 / top-k).
// Values travel as lanes (engines/stream_layout.hpp); a "pixel" is C channels folded into
// C/lanes elements, channels fastest.
#pragma once

#include "dsl/ir.hpp"
#include "engines/mvtu.hpp"
#include "engines/stream_layout.hpp"
#include "engines/threshold_rule.hpp"

#include <string>
#include <vector>

namespace qdf::engines {

// ---- multi-threshold activation ----------------------------------------------------------
struct ThresholdConfig {
  int channels = 0;   // C
  int pe = 1;         // lanes per element; C must be a multiple
  int pixels = 1;     // pixels per frame
  int in_bits = 8;    // signed accumulator lanes
  int out_bits = 2;   // 1 or 2
  std::string name = "thresholds";
  void check() const;
  Lanes in_lanes() const { return {pe, in_bits, true}; }
  Lanes out_lanes() const { return {pe, out_bits, false}; }
};
dsl::Kernel threshold_kernel(const ThresholdConfig& c, const Thresholds& t);
std::vector<std::int64_t> threshold_forward(const ThresholdConfig& c, const Thresholds& t, const std::vector<std::int64_t>& in);
EngineTiming threshold_timing(const ThresholdConfig& c);

// ---- window max: the max of each window of K*K pixels (after the sliding window) ---------
struct WindowMaxConfig {
  int windows = 1;  // output pixels per frame (OH*OW)
  int k = 2;        // window is K x K pixels
  int c = 1, simd = 1, bits = 2;  // channels, lanes, unsigned bits per lane
  int pixels = 1;   // window pixels per input element (the sliding window's rows x columns; > 1 needs SIMD = C)
  std::string name = "window_max";
  void check() const;
  Lanes in_lanes() const { return {simd * pixels, bits, false}; }
  Lanes lanes() const { return {simd, bits, false}; }  // of the output
};
dsl::Kernel window_max_kernel(const WindowMaxConfig& c);
std::vector<std::int64_t> window_max_forward(const WindowMaxConfig& c, const std::vector<std::int64_t>& windows);
EngineTiming window_max_timing(const WindowMaxConfig& c);

// ---- global sum pool (global average pool without its scale, which folds into the next layer)
struct GlobalPoolConfig {
  int h = 1, w = 1, c = 1, simd = 1, bits = 2;
  std::string name = "global_pool";
  void check() const;
  int out_bits() const;  // bits of a sum of H*W values
  Lanes in_lanes() const { return {simd, bits, false}; }
  Lanes out_lanes() const { return {simd, out_bits(), false}; }
};
dsl::Kernel global_pool_kernel(const GlobalPoolConfig& c);
std::vector<std::int64_t> global_pool_forward(const GlobalPoolConfig& c, const std::vector<std::int64_t>& in);
EngineTiming global_pool_timing(const GlobalPoolConfig& c);

// ---- residual add: main (signed accumulators) + (skip << shift), before the thresholds -----
// The skip is the block's input activations (unsigned), or the accumulators of a projection
// conv (signed).
struct ResidualAddConfig {
  int elements = 1;  // elements per frame
  int lanes = 1;
  int main_bits = 8;  // signed
  int skip_bits = 2;  // unsigned activations, or signed accumulators when skip_signed
  int shift = 0;      // skip scale 2^shift relative to the accumulator
  bool skip_signed = false;
  std::string name = "residual_add";
  void check() const;
  int out_bits() const;
  Lanes main_lanes() const { return {lanes, main_bits, true}; }
  Lanes skip_lanes() const { return {lanes, skip_bits, skip_signed}; }
  Lanes out_lanes() const { return {lanes, out_bits(), true}; }
};
dsl::Kernel residual_add_kernel(const ResidualAddConfig& c);
std::vector<std::int64_t> residual_add_forward(const ResidualAddConfig& c, const std::vector<std::int64_t>& main,
                                               const std::vector<std::int64_t>& skip);
EngineTiming residual_add_timing(const ResidualAddConfig& c);

// ---- stream fork: one input, two identical outputs ------------------------------------------
struct ForkConfig {
  int elements = 1;
  int width = 1;  // bits per element
  std::string name = "fork";
  void check() const;
};
dsl::Kernel fork_kernel(const ForkConfig& c);
EngineTiming fork_timing(const ForkConfig& c);

// ---- data-width converter: in_lanes to out_lanes (one a multiple of the other) -------------
struct WidthConverterConfig {
  int values = 1;  // values per frame
  int in_lanes = 1, out_lanes = 1, bits = 1;
  std::string name = "width_converter";
  void check() const;
};
dsl::Kernel width_converter_kernel(const WidthConverterConfig& c);
EngineTiming width_converter_timing(const WidthConverterConfig& c);

// ---- label select: indices of the k largest scores of each frame ---------------------------
struct LabelSelectConfig {
  int classes = 10;
  int pe = 1;         // scores per element; classes must be a multiple
  int score_bits = 8;
  // Signed scores (raw accumulators) or unsigned (activations, pool sums): the stream's, so that
  // a 2-bit activation's 3 beats its 1 (DESIGN.md). A binary activation is 1 unsigned bit, and
  // comparing its bits ranks -1 below +1 as the values they stand for.
  bool score_signed = true;
  int k = 1;          // top-k; k > 1 needs pe == 1
  std::string name = "label_select";
  void check() const;
  int index_bits() const;
  Lanes in_lanes() const { return {pe, score_bits, score_signed}; }
  Lanes out_lanes() const { return {k, index_bits(), false}; }
};
dsl::Kernel label_select_kernel(const LabelSelectConfig& c);
// Per frame, k indices: best first; ties go to the lower index.
std::vector<std::int64_t> label_select_forward(const LabelSelectConfig& c, const std::vector<std::int64_t>& scores);
EngineTiming label_select_timing(const LabelSelectConfig& c);

}  // namespace qdf::engines

// The multi-threshold activation rule, written down once. Batch norm and the quantizer fold into
// per-channel thresholds T_0 <= T_1 <= ... and a sign s (s = -1 for a negative scale):
//
//     out = number of i with  s * acc >= T_i
//
// so a 1-bit activation has one threshold and a 2-bit one three. Importers convert to this rule.
// It exists in two forms that must agree: threshold_count() for software models and
// threshold_count_hw() for kernels (the reference model in tests/golden is written separately).
#pragma once

#include "dsl/signal.hpp"

#include <cstdint>
#include <vector>

namespace qdf::engines {

// Per-channel thresholds: `levels` (2^out_bits - 1) per channel, ascending, and a flip flag.
struct Thresholds {
  int channels = 0;
  int levels = 0;
  std::vector<std::int64_t> t;     // channels * levels, channel-major
  std::vector<std::uint8_t> flip;  // channels; 1 = negative scale (compare -acc)
  void check(const char* owner) const;
  // check(), and that there are `expect_channels` channels of 2^out_bits - 1 levels.
  void check_shape(const std::string& owner, int expect_channels, int out_bits) const;
  const std::int64_t* of(int channel) const { return &t[static_cast<size_t>(channel) * static_cast<size_t>(levels)]; }
};

inline int threshold_count(std::int64_t acc, bool flip, const std::int64_t* t, int levels) {
  const std::int64_t v = flip ? -acc : acc;
  int n = 0;
  for (int i = 0; i < levels; ++i) n += v >= t[i];
  return n;
}

// The rule for a whole vector of the channels at once, as the functional models apply it: the
// thresholds transposed (level-major) and each flip folded into a sign, so that the loop over
// the channels has no branches and vectorizes (an AVX2 build of the loop is taken where the CPU
// has it).
class ThresholdTable {
 public:
  explicit ThresholdTable(const Thresholds& t);
  // Replaces each of t.channels accumulators with threshold_count of it.
  void apply(std::int64_t* acc) const;
  // The same in one pass for an MVTU's match counts m, whose accumulators are 2m - q
  // (engines/mvtu.hpp).
  void apply_to_matches(std::int64_t* matches, std::int64_t q) const;

 private:
  int channels_, levels_;
  std::vector<std::int64_t> flip_, t_;  // flip_[ch]: -1 to compare -acc, else 0; t_[i*channels + ch]: channel ch's level i
};

// acc: SInt; flip: Bool; t: one SInt per level, all of acc's width + 1. Result: UInt<out_bits>.
dsl::Signal threshold_count_hw(const dsl::Signal& acc, const dsl::Signal& flip, const std::vector<dsl::Signal>& t,
                               int out_bits);

// A ROM of thresholds read at `addr`: entry a holds channel channels[a]'s levels, clamped to
// `bound` and as SInt<acc_bits + 1>, and its flip bit.
struct ThresholdRead {
  std::vector<dsl::Signal> t;
  dsl::Signal flip;
};
ThresholdRead threshold_rom_hw(dsl::KernelBuilder& kb, const std::string& name, const Thresholds& t,
                               const std::vector<int>& channels, std::int64_t bound, int acc_bits, const dsl::Signal& addr);

// Thresholds clamped into [-(bound+1), bound+1] so that they fit SInt<bits_for(bound+1)+1>
// without changing any outcome for |acc| <= bound.
std::int64_t clamp_threshold(std::int64_t t, std::int64_t bound);

}  // namespace qdf::engines

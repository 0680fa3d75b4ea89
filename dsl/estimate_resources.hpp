// Resource estimate of a lowered kernel for a Xilinx 7-series-like fabric (6-input LUTs), read
// off the IR: the RTL is generated from the same nodes, so the estimate follows every engine and
// every folding without a formula per engine. The per-bit costs are calibrated against Yosys
// `synth_xilinx` on a sample of engine configurations (bench/calibrate_resources prints the fit
// and docs/resource_model.md keeps the table of model vs Yosys).
#pragma once

#include "dsl/ir.hpp"

#include <cstdint>
#include <string>

namespace qdf::dsl {

struct Resources {
  double lut = 0;         // 6-input LUTs, including LUTs used as distributed memory
  double ff = 0;          // flip-flops
  std::int64_t bram_bits = 0;
  int bram18 = 0;         // 18 Kbit block RAMs
  int dsp = 0;            // not estimated yet: the engines multiply only by constants (LUTs)
  Resources& operator+=(const Resources& o);
};

// The quantities the LUT estimate is a linear function of; exposed for calibration.
struct ResourceFeatures {
  double arith_bits = 0;    // adders, subtractors, negation of variables: result bits
  double arith_const_bits = 0;  // the same with a constant operand (increments, offsets)
  double compare_bits = 0;  // ordering comparators (<, >=, ...) of two variables: operand bits
  // Ordering comparators of two variables of which one was chosen by an earlier such comparison
  // (a max or argmax tree past its first level, label select): operand bits. The comparison's
  // carry chain reads operands that are themselves selections, and synthesis builds each as a
  // wide multiplexer from the tree's leaves (MUXF7/MUXF8) rather than reusing the 2:1 muxes.
  double compare_select_bits = 0;
  double equal_bits = 0;    // equality comparators of two variables: operand bits
  double compare_const_bits = 0;  // comparators against a constant: operand bits
  double mux_bits = 0;      // 2:1 multiplexers: result bits
  double logic_bits = 0;    // and/or/xor/xnor: result bits
  double popcount_bits = 0; // popcount: input bits
  double rom_lut_bits = 0;  // small ROMs in LUTs: width * ceil(depth / 32)
  double ram_lut_bits = 0;  // small RAMs in LUTs: width * ceil(depth / 64)
  double mul_bits = 0;      // multiplier result bits (constant operands are cheap)
  double out_buffer_bits = 0;  // output buffers: width per output
  double ports = 0;         // stream ports (handshake logic)
  double ff_bits = 0;
  std::int64_t bram_bits = 0;
  int bram18 = 0;
};

ResourceFeatures resource_features(const Kernel& lowered);

// A memory of `depth` entries of `width` bits: block RAM when deep and big (as synth_xilinx
// decides), else LUTs used as distributed memory. The rule every estimate here uses.
Resources memory_resources(std::int64_t depth, int width);

// Flip-flops of the counters that end a run (kernels and FIFOs alike): the images run (32 bits),
// the ticks of the current image and the pipeline's flush (about 8 bits together on the designs
// planned; their exact width depends on the engine's ticks per image, set where it is placed).
inline constexpr int run_counter_bits = 32 + 8;
Resources estimate_resources(const Kernel& lowered);

// The calibrated costs (LUTs per unit of each feature, plus a fixed cost per kernel).
struct LutCosts {
  double fixed, arith, arith_const, compare, compare_select, equal, compare_const, mux, logic, popcount, rom, ram, mul, out_buffer, port;
};
const LutCosts& lut_costs();
double lut_estimate(const ResourceFeatures& f, const LutCosts& c);

}  // namespace qdf::dsl

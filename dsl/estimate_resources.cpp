#include "dsl/estimate_resources.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace qdf::dsl {

Resources& Resources::operator+=(const Resources& o) {
  lut += o.lut;
  ff += o.ff;
  bram_bits += o.bram_bits;
  bram18 += o.bram18;
  dsp += o.dsp;
  return *this;
}

namespace {

// A memory goes to block RAM when it is both deep and big, as synth_xilinx decides.
bool in_bram(std::int64_t depth, int width) { return depth > 64 && depth * width >= 4096; }

int bram18_for(std::int64_t depth, int width) {
  // An 18 Kbit block is 512 x 36, 1K x 18, 2K x 9, 4K x 4, 8K x 2 or 16K x 1.
  const std::int64_t shapes[][2] = {{512, 36}, {1024, 18}, {2048, 9}, {4096, 4}, {8192, 2}, {16384, 1}};
  std::int64_t best = INT64_MAX;
  for (auto [d, w] : shapes) best = std::min(best, ((depth + d - 1) / d) * ((width + w - 1) / w));
  return static_cast<int>(best);
}

// The node whose value `a` carries through casts, slices and pipeline registers (delays not in
// memory): what synthesis sees as the operand's source.
NodeId source_of(const Kernel& k, NodeId a) {
  while (k.at(a).op == Op::Cast || k.at(a).op == Op::Slice || (k.at(a).op == Op::Delay && !k.at(a).a1)) a = k.at(a).args[0];
  return a;
}

// Whether the one-bit `sel` is, through pipeline registers, casts and and/or/not with other
// conditions, an ordering comparison of two variables (a max tree's `right_wins`, label
// select's `first | score > best`).
bool is_variable_order(const Kernel& k, NodeId sel, int depth = 0) {
  const Node& n = k.at(sel);
  switch (n.op) {
    case Op::Cast: case Op::Not: return is_variable_order(k, n.args[0], depth);
    case Op::Delay: return !n.a1 && is_variable_order(k, n.args[0], depth);
    case Op::And: case Op::Or:
      if (depth > 4) return false;
      return is_variable_order(k, n.args[0], depth + 1) || is_variable_order(k, n.args[1], depth + 1);
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
      for (NodeId a : n.args) {
        const Op op = k.at(source_of(k, a)).op;
        if (op == Op::Const || op == Op::Scalar || op == Op::Rom) return false;
      }
      return true;
    default: return false;
  }
}

}  // namespace

Resources memory_resources(std::int64_t depth, int width) {
  Resources r;
  if (in_bram(depth, width)) {
    r.bram_bits = depth * width;
    r.bram18 = bram18_for(depth, width);
  } else {
    r.lut = lut_costs().ram * static_cast<double>(width) * std::ceil(static_cast<double>(depth) / 64.0);
  }
  return r;
}

ResourceFeatures resource_features(const Kernel& k) {
  if (!k.scheduled) throw InternalError("resource_features needs a lowered kernel");
  ResourceFeatures f;
  f.ff_bits += run_counter_bits;
  // A RAM read at several addresses in one tick is one copy of the memory per read port.
  std::map<NodeId, int> reads;
  for (const Node& n : k.nodes)
    if (!n.dead && n.op == Op::RamRead) ++reads[n.args[0]];
  for (NodeId id = 0; id < static_cast<NodeId>(k.nodes.size()); ++id) {
    const Node& n = k.nodes[static_cast<size_t>(id)];
    if (n.dead) continue;
    const int w = n.type.width;
    auto arg_w = [&](int i) { return k.at(n.args[static_cast<size_t>(i)]).type.width; };
    // A one-entry ROM (an MVTU whose weights fit one tile) is a constant: synthesis folds it
    // into the logic it feeds, as it folds Const and Scalar operands.
    auto is_const = [&](NodeId a) {
      const Node& m = k.at(a);
      return m.op == Op::Const || m.op == Op::Scalar || (m.op == Op::Rom && m.a0 == 1);
    };
    auto has_const = [&] {
      for (NodeId a : n.args)
        if (a != kNoNode && is_const(a)) return true;
      return false;
    };
    // An operand read from a ROM in LUTs (through slices, casts and pipeline registers, as an
    // MVTU's thresholds are): a comparison with it folds the ROM's few address bits into the
    // comparator's LUTs, as a comparison with a constant does (of a registered entry Yosys keeps
    // only the flip-flops whose bit differs between entries, copies of address bits); a
    // comparison of two variables (label select's scores) is a subtraction on the carry chain.
    auto has_lut_rom_or_const = [&] {
      for (NodeId a : n.args) {
        if (a == kNoNode) continue;
        a = source_of(k, a);
        if (is_const(a) || (k.at(a).op == Op::Rom && !in_bram(k.at(a).a0, k.at(a).type.width))) return true;
      }
      return false;
    };
    // An operand chosen by an earlier comparison of two variables (through pipeline registers
    // and casts), as in a max or argmax tree past its first level: a comparison of it is a
    // compare-and-select chain (see ResourceFeatures::compare_select_bits).
    auto chosen_by_compare = [&](NodeId a) {
      a = source_of(k, a);
      return k.at(a).op == Op::Mux && is_variable_order(k, k.at(a).args[0]);
    };
    switch (n.op) {
      case Op::Add: case Op::Sub: case Op::Neg: (has_const() ? f.arith_const_bits : f.arith_bits) += w; break;
      case Op::Mul: f.mul_bits += w; break;
      case Op::Eq: case Op::Ne: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
        (has_lut_rom_or_const()                                ? f.compare_const_bits
         : (n.op == Op::Eq || n.op == Op::Ne)                  ? f.equal_bits
         : chosen_by_compare(n.args[0]) || chosen_by_compare(n.args[1]) ? f.compare_select_bits
                                                               : f.compare_bits) += std::max(arg_w(0), arg_w(1));
        break;
      case Op::Mux: f.mux_bits += w; break;
      case Op::And: case Op::Or: case Op::Xor: case Op::Xnor:
        if (!has_const()) f.logic_bits += w;  // with a constant operand: wires and inverters
        break;
      case Op::Popcount: {
        // Of x & c with a constant c only the bits where c is one reach the adder tree.
        const Node& a = k.at(n.args[0]);
        double bits = arg_w(0);
        if (a.op == Op::And)
          for (NodeId b : a.args)
            if (is_const(b) && !k.at(b).bits.empty()) {
              bits = 0;
              for (int i = 0; i < k.at(b).type.width; ++i) bits += (k.at(b).bits[static_cast<size_t>(i / 64)] >> (i % 64)) & 1;
              break;
            }
        f.popcount_bits += bits;
        break;
      }
      case Op::Register: f.ff_bits += w; break;
      case Op::Delay:
        if (n.a0 == 0) break;
        if (n.a1) {  // line buffer in memory: storage, pointer, fill counter, output register
          if (in_bram(n.a0 - 1, w)) {
            f.bram_bits += (n.a0 - 1) * w;
            f.bram18 += bram18_for(n.a0 - 1, w);
          } else {
            f.ram_lut_bits += static_cast<double>(w) * std::ceil(static_cast<double>(n.a0 - 1) / 64.0);
          }
          f.ff_bits += w + 2 * bits_for(static_cast<std::uint64_t>(n.a0));
        } else {
          f.ff_bits += static_cast<double>(w) * static_cast<double>(n.a0);
        }
        break;
      case Op::Rom:
        if (n.a0 == 1) break;  // a constant
        if (in_bram(n.a0, w)) {
          f.bram_bits += n.a0 * w;
          f.bram18 += bram18_for(n.a0, w);
        } else {
          // A LUT6 holds 32 entries of one bit and keeps an input for the logic the bit feeds
          // (an MVTU's weight bit meets its input bit in an xnor): a deeper ROM read into logic
          // is two LUTs and a MUXF7 a bit, as Yosys maps the cnv top's MVTUs.
          f.rom_lut_bits += static_cast<double>(w) * std::ceil(static_cast<double>(n.a0) / 32.0);
        }
        if (n.a1) f.ff_bits += w;
        break;
      case Op::Ram: {
        const int copies = std::max(1, reads[id]);
        if (in_bram(n.a0, w)) {
          f.bram_bits += copies * n.a0 * w;
          f.bram18 += copies * bram18_for(n.a0, w);
        } else {
          f.ram_lut_bits += copies * static_cast<double>(w) * std::ceil(static_cast<double>(n.a0) / 64.0);
        }
        break;
      }
      case Op::RamRead: if (n.a1) f.ff_bits += w; break;
      case Op::Output:
        f.out_buffer_bits += w;
        f.ff_bits += 2 * w + 4;
        f.ports += 1;
        break;
      case Op::Input: f.ports += 1; break;
      default: break;
    }
  }
  return f;
}

const LutCosts& lut_costs() {
  // Fitted by `build/bench/calibrate_resources --fit` (ridge regression on relative error
  // towards physical priors) on the calibration sample against Yosys 0.23 synth_xilinx -family
  // xc7; the resulting table is docs/resource_model.md.
  static const LutCosts c{33.476, 0.036, 0.453, 0.918, 3.324, 0.350, 0.147, 0.491,
                          0.510,  2.315, 1.188, 1.203, 1.017, 1.703, 3.793};
  return c;
}

double lut_estimate(const ResourceFeatures& f, const LutCosts& c) {
  return c.fixed + c.arith * f.arith_bits + c.arith_const * f.arith_const_bits + c.compare * f.compare_bits +
         c.compare_select * f.compare_select_bits + c.equal * f.equal_bits +
         c.compare_const * f.compare_const_bits + c.mux * f.mux_bits + c.logic * f.logic_bits +
         c.popcount * f.popcount_bits + c.rom * f.rom_lut_bits + c.ram * f.ram_lut_bits + c.mul * f.mul_bits +
         c.out_buffer * f.out_buffer_bits + c.port * f.ports;
}

Resources estimate_resources(const Kernel& k) {
  ResourceFeatures f = resource_features(k);
  Resources r;
  r.lut = lut_estimate(f, lut_costs());
  r.ff = f.ff_bits;
  r.bram_bits = f.bram_bits;
  r.bram18 = f.bram18;
  return r;
}

}  // namespace qdf::dsl

// The passes over the kernel IR and the pipeline that runs them (compile_kernel.cpp).
#pragma once

#include "dsl/ir.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace qdf::dsl {

// Latency, in ticks, of each operator in the generated hardware. The interpreter uses the zero
// model (the logical semantics); the Verilog backend uses the hardware model. Inside a feedback
// loop every operator is combinational (latency 0) whatever the model says, because a loop must
// close within one tick.
struct LatencyModel {
  int arith = 0;     // add, sub, neg with a result wider than `wide_bits`; compare of operands wider than it
  int mul = 0;       // multiply
  int popcount = 0;  // popcount of more than `wide_bits` bits
  int memory = 0;    // RAM and ROM reads (1 = synchronous, BRAM-mappable)
  int wide_bits = 16;
  static LatencyModel zero() { return {}; }
  static LatencyModel hardware() { return {1, 2, 1, 1, 16}; }
  int of(const Kernel& k, const Node& n) const;
};

struct CompileOptions {
  LatencyModel latency = LatencyModel::hardware();
  // A delay line becomes a memory (a line buffer in BRAM) when it is at least this deep and
  // holds at least this many bits; shorter ones are shift registers.
  std::int64_t memory_min_depth = 8;
  std::int64_t memory_min_bits = 512;
  // Called with (pass name, kernel) after each pass when set: IR dumps on request.
  std::function<void(const std::string&, const Kernel&)> after_pass;
};

// The pipeline: check, clean, schedule, lower. Returns a kernel ready for a backend.
Kernel compile_kernel(Kernel k, const CompileOptions& opt = {});

// The passes, in pipeline order (see compile_kernel.cpp for why each is where it is).
void check_types(const Kernel& k);
void check_structure(const Kernel& k);
void remove_dead_nodes(Kernel& k);
void merge_common_subexpressions(Kernel& k);
void check_combinational_loops(const Kernel& k);
void schedule(Kernel& k, const LatencyModel& lat);
void lower_to_delays(Kernel& k);
void map_delays_to_memories(Kernel& k, std::int64_t min_depth, std::int64_t min_bits);
void verify_lowered(const Kernel& k);

// Users of a node: for each node, the (consumer, argument index) pairs of live consumers.
std::vector<std::vector<std::pair<NodeId, int>>> users_of(const Kernel& k);
// Whether the argument `arg` of a node of kind `op` is read in the same tick (a combinational
// dependence) rather than stored for a later tick.
bool is_combinational_arg(const Node& n, int arg);

}  // namespace qdf::dsl

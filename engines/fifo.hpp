// The stream FIFO. A kernel cannot be a FIFO: under the whole-kernel stall of the execution
// model its two sides would stall together, and a FIFO exists to decouple them. So the FIFO is a
// hand-written Verilog primitive with a kernel's interface (clk, rst, ticks, done, in_*, out_*),
// generated here for any width and depth, so that the same harnesses and tops use it.
// Functional model: the identity. Timing: II = 1, latency 2 cycles, capacity depth + 1 elements
// (the memory plus the output register, so that a deep FIFO maps to a BRAM with its output
// register).
#pragma once

#include "dsl/emit_verilog.hpp"
#include "dsl/estimate_resources.hpp"
#include "dsl/ir.hpp"

#include <string>

namespace qdf::engines {

struct FifoConfig {
  int width = 1;   // bits per element
  int depth = 2;   // memory entries
  std::string name = "fifo";
  void check() const;
  int capacity() const { return depth + 1; }
};

// `ticks` on this module counts elements to pass (0: forever); `done` when they have left.
dsl::VerilogModule fifo_module(const FifoConfig& c);
// A kernel with the FIFO's ports (input "in", output "out"), lowered: what harnesses need to
// drive the module. Its own logic is the identity, which is also the FIFO's functional model.
dsl::Kernel fifo_ports(const FifoConfig& c);

// The memory by dsl::memory_resources(); the control (pointers, count, the 64-bit element
// counter behind `done`, output register) counted from the module above.
dsl::Resources fifo_resources(const FifoConfig& c);

}  // namespace qdf::engines

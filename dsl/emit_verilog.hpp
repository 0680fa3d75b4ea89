// The Verilog backend: one module per lowered kernel, implementing the execution model of ir.hpp.
//
// Interface of every generated module:
//   clk, rst                     clock; synchronous active-high reset
//   ticks [63:0]                 logical ticks of the run (0: run until stopped), held during a run
//   done                         the run is over and every output element has been taken
//   <scalar> [W-1:0]             one port per scalar, held during a run
//   <in>_data, _valid, _ready    one valid/ready stream per input (an element moves when both hold)
//   <out>_data, _valid, _ready   one valid/ready stream per output
// The kernel advances (`adv`) when every enabled input has valid data and every enabled output
// has room in its two-entry output buffer; every register, delay line and memory changes only
// on `adv`. Output valid never depends on output ready, so kernels can be chained without
// combinational paths through the chain.
#pragma once

#include "dsl/ir.hpp"

#include <map>
#include <string>

namespace qdf::dsl {

struct VerilogModule {
  std::string top;                           // module name
  std::string verilog;                       // the module's text, for <top>.v
  std::map<std::string, std::string> files;  // ROM contents, for $readmemh: file name -> text
  std::map<NodeId, std::string> names;       // the wire name of each live node
};

// `k` must be lowered with the hardware latency model (compile_kernel).
VerilogModule emit_verilog(const Kernel& k);

// Writes <dir>/<top>.v and the ROM files; returns the path of the .v file.
std::string write_verilog(const VerilogModule& m, const std::string& dir);

}  // namespace qdf::dsl

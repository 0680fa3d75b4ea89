// Synthesizes generated Verilog with Yosys: generic `synth` (the latch and error check every
// generated module must pass) or `synth_xilinx` (LUT counts for resource models).
#pragma once

#include "dsl/emit_verilog.hpp"

#include <map>
#include <string>

namespace qdf::dsl {

struct SynthResult {
  bool ok = false;                  // yosys ran without error
  int latches = 0;                  // $dlatch/$sr/LDCE cells after synthesis: must be 0
  std::map<std::string, int> cells; // cell type -> count, from `stat`
  std::string log;                  // yosys output (for failures)
  int count_prefix(const std::string& prefix) const;  // e.g. "LUT" sums LUT1..LUT6
  // LUT sites used after synth_xilinx: logic LUTs plus LUTs used as distributed RAM or shift
  // registers (a RAM64M occupies four).
  int lut_equivalents() const;
};

enum class SynthFlow { Generic, Xilinx };

SynthResult yosys_synth(const VerilogModule& m, SynthFlow flow = SynthFlow::Generic);
std::string yosys_version();

}  // namespace qdf::dsl

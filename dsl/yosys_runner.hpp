// Synthesizes generated Verilog with Yosys: generic `synth` (the latch and error check every
// generated module must pass) or `synth_xilinx` (LUT counts for resource models).
#pragma once

#include "dsl/emit_verilog.hpp"

#include <map>
#include <string>

namespace qdf::dsl {

using CellCounts = std::map<std::string, int>;  // cell type -> count, from `stat`

// LUT sites used after synth_xilinx: logic LUTs plus LUTs used as distributed RAM or shift
// registers (a RAM64M occupies four).
int lut_equivalents(const CellCounts& cells);

struct SynthResult {
  bool ok = false;                  // yosys ran without error
  int latches = 0;                  // $dlatch/$sr/LDCE cells after synthesis: must be 0
  CellCounts cells;                 // of the whole design (the top with every module it instantiates)
  // Of each module on its own (synth_xilinx keeps the hierarchy: each engine of a top is a module).
  std::map<std::string, CellCounts> module_cells;
  std::string log;                  // yosys output (for failures)
  int count_prefix(const std::string& prefix) const;  // e.g. "LUT" sums LUT1..LUT6
  int lut_equivalents() const { return dsl::lut_equivalents(cells); }
};

enum class SynthFlow { Generic, Xilinx };

SynthResult yosys_synth(const VerilogModule& m, SynthFlow flow = SynthFlow::Generic);
std::string yosys_version();

}  // namespace qdf::dsl

// The flow of one kernel from C++ to checked Verilog: compile the recorded kernel, write its
// Verilog (atomically: all files or none), lint it, and co-simulate it against the interpreter.
// This is what `qdf demo` runs on an example kernel.
#pragma once

#include "dsl/cosim.hpp"

#include <functional>
#include <iosfwd>
#include <string>

namespace qdf::host {

struct KernelFlowResult {
  std::string verilog_path;
  std::string lint;  // Verilator -Wall warnings; empty when clean
  dsl::CosimReport cosim;
  double interpreter_elements_per_s = 0;  // input elements per second through the interpreter
};

KernelFlowResult run_kernel_flow(const dsl::Kernel& recorded, const dsl::RunSpec& spec, const std::string& out_dir,
                                 std::ostream& log);

}  // namespace qdf::host

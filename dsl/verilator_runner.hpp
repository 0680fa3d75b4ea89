// Runs generated Verilog under Verilator: lint, build a simulation of one module with a generated
// testbench, and run it on input streams with random input gaps and random output backpressure.
//
// Builds are cached by the hash of everything that goes into them (Verilog, ROM files,
// testbench, Verilator version, compiler flags) in cache_dir(); the Verilator runtime is compiled
// once per cache. A cache entry is made in a temporary directory and renamed into place, so
// concurrent test processes never see a half-built entry.
#pragma once

#include "dsl/emit_verilog.hpp"
#include "dsl/interpreter.hpp"

#include <cstdint>
#include <string>

namespace qdf::dsl {

struct RtlRunOptions {
  std::uint64_t seed = 1;
  double input_gap = 0.0;     // probability that an input withholds its next element in a cycle
  double output_stall = 0.0;  // probability that an output is not ready in a cycle
  std::uint64_t max_cycles = 0;  // 0: 100 cycles per tick of the run, plus 10000
};

struct RtlRunResult {
  std::map<std::string, Stream> outputs;
  std::uint64_t cycles = 0;  // clock cycles from reset release to `done`
  bool done = false;         // false if max_cycles ran out first
  double sim_seconds = 0;    // time in the simulation loop (without start-up and file I/O)
};

struct BuiltModel {
  std::string dir;  // cache entry
  std::string exe;  // the simulation executable
};

// $QDF_CACHE_DIR, else $XDG_CACHE_HOME/qdf, else ~/.cache/qdf.
std::string cache_dir();
std::string verilator_version();

// verilator --lint-only -Wall; returns the warnings (empty when clean).
std::string verilator_lint(const VerilogModule& m);
// The same for a design of several modules, each in its own file; the first is the top.
std::string verilator_lint(const std::vector<VerilogModule>& modules);

// Builds (or finds in the cache) a simulation of `m`, the Verilog of lowered kernel `k`.
BuiltModel verilator_build(const VerilogModule& m, const Kernel& k);

// Runs the simulation; inputs, scalars and ticks as for the interpreter.
RtlRunResult verilator_run(const BuiltModel& model, const Kernel& k, const RunSpec& spec, const RtlRunOptions& opt);

// Runs a command, capturing stdout and stderr together; returns the exit status.
int run_command(const std::string& cmd, std::string* output);

}  // namespace qdf::dsl

// Runs generated Verilog under Verilator: lint, build a simulation of one module with a generated
// testbench, and run it on input streams with random input gaps and random output backpressure;
// or build a design as a shared library and drive its ports from C++ (VerilatedDesign).
//
// Builds are cached by the hash of everything that goes into them (Verilog, ROM files,
// testbench, Verilator version, compiler flags) in cache_dir(); the Verilator runtime is compiled
// once per cache. A cache entry is made in a temporary directory and renamed into place, so
// concurrent test processes never see a half-built entry.
#pragma once

#include "dsl/emit_verilog.hpp"
#include "dsl/interpreter.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

// A design of several modules built as a shared library, driven in-process port by port: for
// harnesses that join several designs, or drive one from a model of its surroundings, cycle by
// cycle. The library exports a few C functions (a generated shim over the Verilated model);
// everything else in it, the Verilator runtime included, is hidden and bound inside it
// (-Wl,-Bsymbolic), so that several libraries can be loaded in one process.
struct DesignPort {
  std::string name;    // as in the top module
  int width = 1;       // bits, 1..4096
  bool output = false;
};

struct BuiltLibrary {
  std::string dir;  // cache entry; it also holds the ROM files, which the library reads from here
  std::string so;   // the shared library
  std::string top;
  std::vector<DesignPort> ports;
};

// Builds (or finds in the cache) a simulation of `modules` (the first is the top; module names
// distinct) as a shared library. The top must have an input `clk`, which the library drives
// itself; `ports` are the other ports the caller will use, as the top declares them (a port
// the top lacks, or of another width, fails the C++ compile of the shim). threads: the model's
// own threads (Verilator --threads; 1, the default, a single-threaded model), 1..64.
BuiltLibrary verilator_build_library(const std::vector<VerilogModule>& modules, const std::vector<DesignPort>& ports, int threads = 1);

// One simulation of a library built above (dlopen'ed). Ports are addressed by their index in
// BuiltLibrary::ports; values are little-endian 64-bit words, ceil(width / 64) of them.
class VerilatedDesign {
 public:
  explicit VerilatedDesign(const BuiltLibrary& lib);
  ~VerilatedDesign();
  VerilatedDesign(const VerilatedDesign&) = delete;
  VerilatedDesign& operator=(const VerilatedDesign&) = delete;

  int port(const std::string& name) const;  // a UserError lists the ports when there is none
  const DesignPort& port_info(int port) const { return lib_.ports.at(static_cast<size_t>(port)); }
  // Inputs only; bits above the port's width are ignored.
  void set_words(int port, const std::uint64_t* words);
  void set(int port, std::uint64_t value);  // the low word; higher words zero
  void get_words(int port, std::uint64_t* words) const;  // any port
  std::uint64_t get(int port) const;                      // the low word
  // Settles the logic after inputs changed (clk low); outputs read after it are this cycle's.
  void eval();
  // One clock cycle: the rising edge (registers take the inputs as they are now), then clk low.
  void cycle();

 private:
  struct Api;
  void set_from_buffer(int port);
  BuiltLibrary lib_;
  void* handle_ = nullptr;
  std::unique_ptr<const Api> api_;
  void* model_ = nullptr;
  mutable std::vector<std::uint64_t> buf_;
};

// The time limit of one run of Verilator, the C++ compiler, Yosys or a built simulation, in
// seconds: $QDF_TOOL_TIMEOUT_S (a positive number), else 7200. A value that is not a positive
// number is a UserError naming the variable.
double tool_timeout_s();

// Runs a command (through sh), capturing stdout and stderr together; returns the exit status.
// A command still running after `timeout_s` seconds is stopped, with every process it started,
// and is a UserError that names the command and the limit.
int run_command(const std::string& cmd, std::string* output, double timeout_s);
int run_command(const std::string& cmd, std::string* output);  // with tool_timeout_s()

}  // namespace qdf::dsl

// Co-simulation: the same input streams through the interpreter (the logical semantics) and
// through the kernel's Verilog under Verilator (with random input gaps and output backpressure),
// every output element compared bit-exactly. Reusable for any kernel, by every layer above.
#pragma once

#include "dsl/interpreter.hpp"
#include "dsl/verilator_runner.hpp"

#include <string>
#include <vector>

namespace qdf::dsl {

// A pattern of stalls: one RTL run per entry, each with its own seed.
struct StallPattern {
  double input_gap = 0.0;
  double output_stall = 0.0;
  std::uint64_t seed = 1;
};

// The seed of the random input gaps and output backpressure of co-simulations: $QDF_SEED (an
// unsigned integer), else 1. A failing co-simulation prints it (CosimReport::summary, and the
// engine tests); running the test again with QDF_SEED=N replays the same stalls, and another N
// tries others. A QDF_SEED that is not an unsigned integer is a UserError.
std::uint64_t stall_seed();
// `patterns` of gaps and stalls, their seeds stall_seed(), stall_seed() + 1, ...
std::vector<StallPattern> seeded_patterns(const std::vector<std::pair<double, double>>& gaps_and_stalls);

struct CosimOptions {
  CompileOptions compile;  // for the RTL (the interpreter always uses the zero-latency model)
  std::vector<StallPattern> patterns = seeded_patterns({{0.0, 0.0}, {0.3, 0.3}, {0.6, 0.1}, {0.1, 0.6}});
  std::size_t max_reported = 5;
};

struct CosimRun {
  StallPattern pattern;
  std::uint64_t cycles = 0;
  bool done = false;
  bool match = false;
  std::string mismatches;  // the first few, with their element index
};

struct CosimReport {
  bool match = false;  // every run finished and matched the interpreter on every output
  std::vector<CosimRun> runs;
  RunResult reference;  // the interpreter's outputs
  std::string summary() const;
};

CosimReport cosimulate(const Kernel& recorded, const RunSpec& spec, const CosimOptions& opt = {});

// "" if equal, else the first `max` differences with their element index (and count mismatch).
std::string compare_streams(const std::string& name, const Stream& expected, const Stream& actual, std::size_t max);

// n elements of `width` random bits from a seeded generator (splitmix64).
Stream random_stream(int width, std::size_t n, std::uint64_t seed);

}  // namespace qdf::dsl

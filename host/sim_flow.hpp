// `qdf sim` and `qdf verify`: a design (a compiled bundle, or a built-in network planned on the
// spot as `qdf compile` would) run through the simulator, and through the simulator and its RTL
// under Verilator side by side.
#pragma once

#include "host/compile_flow.hpp"
#include "host/rtl_harness.hpp"
#include "sim/graph_values.hpp"
#include "sim/simulator.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace qdf::host {

struct Design {
  manager::Net net;
  manager::ModelWeights weights;
  manager::Plan plan;
  std::string source;  // "bundle DIR" or "network NET"
};

// `target`: a bundle directory (holding manifest.json), else a built-in network planned with `r`
// (r.out is ignored: nothing is written).
Design open_design(const std::string& target, CompileRequest r);
// The bundle in `dir` (manager::load_bundle, whose UserErrors name what is wrong with it).
Design open_bundle(const std::string& dir);

using sim::random_images;

// "" when equal, else the first differences (image, value index, both values), at most `max`.
std::string compare_outputs(const std::vector<std::vector<std::int64_t>>& expected,
                            const std::vector<std::vector<std::int64_t>>& actual, const std::string& what, int max = 5);

struct SimRun {
  sim::SimResult result;
  int images = 0;
  bool timing_only = false;
  std::vector<std::vector<std::int64_t>> inputs;  // the images run (none when timing only)
  bool outputs_match_reference = false;  // (values runs only) against host/reference_model.hpp
  std::string mismatch;
};
SimRun simulate_design(const Design& d, int images, bool timing_only, std::uint64_t seed);
// Images a run needs for its steady state to show: more than twice the images the pipeline holds
// (the first image's latency over the cycles per image), as the steady state is a median of gaps.
// Of any timed run: the simulator's or the RTL's.
int images_for_steady_state(const sim::RunTiming& t);
bool steady(const sim::RunTiming& t);
int images_for_steady_state(const SimRun& r);
bool steady(const SimRun& r);
nlohmann::json sim_json(const Design& d, const SimRun& r);
std::string sim_table(const Design& d, const SimRun& r);

struct VerifyRun {
  SimRun sim;
  RtlRun rtl;
  bool bit_exact = false;           // RTL outputs == simulator outputs, every image
  bool reference_match = false;     // simulator outputs == reference model
  std::string mismatch;
  double cycles_error = 0;          // (sim - rtl) / rtl, cycles per image in steady state
  double latency_error = 0;         // (sim - rtl) / rtl, latency of the first image
};
VerifyRun verify_design(const Design& d, int images, std::uint64_t seed);
nlohmann::json verify_json(const Design& d, const VerifyRun& r);
std::string verify_table(const Design& d, const VerifyRun& r);

}  // namespace qdf::host

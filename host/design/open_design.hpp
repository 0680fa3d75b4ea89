// A design: a compiled bundle, or a built-in network planned on the spot as `qdf compile` would.
// What every way of running one starts from: the host API (host/api/engine_api.hpp) and the
// `qdf sim`, `verify` and `eval` flows (host/cli/).
#pragma once

#include "host/design/compile_flow.hpp"
#include "sim/run_timing.hpp"

#include <string>
#include <vector>

namespace qdf::host {

struct Design {
  manager::Net net;
  manager::ModelWeights weights;
  manager::Plan plan;
  std::string source;  // "bundle DIR" or "network NET"
  // Where the RTL backend takes the FPGA tops' Verilog from: a bundle's own files, or (empty)
  // generated from the plan.
  manager::FpgaModuleSource fpga_modules{};
  // A bundle opened with allow_edited: its files that differ from its manifest (load_bundle).
  std::vector<std::string> edited_files{};
};

// `target`: a bundle directory (holding manifest.json), else a built-in network planned with `r`,
// or r.network when set (a program's own network; then `target` is only a bundle or "").
// r.out is ignored: nothing is written. `allow_edited`: a bundle whose files differ from its
// manifest is opened all the same (Design::edited_files says which).
Design open_design(const std::string& target, CompileRequest r, bool allow_edited = false);
// A network the caller built, with its weights, planned with `opt`; `source` says what it is.
Design plan_design(manager::Net net, manager::ModelWeights weights, const manager::PlanOptions& opt, std::string source);
// The bundle in `dir` (manager::load_bundle, whose UserErrors name what is wrong with it); its RTL
// is its own files.
Design open_bundle(const std::string& dir, bool allow_edited = false);

// Images a run needs for its steady state to show: more than twice the images the pipeline holds
// (the first image's latency over the cycles per image), as the steady state is a median of gaps.
// Of any timed run of a design: the simulator's or the RTL's.
int images_for_steady_state(const sim::RunTiming& t);
bool steady(const sim::RunTiming& t);

}  // namespace qdf::host

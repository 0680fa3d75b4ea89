// `qdf sim` and `qdf verify`: a design (a compiled bundle, or a built-in network planned on the
// spot as `qdf compile` would) run through the simulator, and through the simulator and its RTL
// under Verilator side by side.
#pragma once

#include "host/design/open_design.hpp"
#include "host/distributed/ranks.hpp"
#include "host/rtl/rtl_harness.hpp"
#include "manager/scaling.hpp"
#include "sim/graph_values.hpp"
#include "sim/simulator.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace qdf::host {

// Keeps freed memory in the process's heap rather than handing it back to the kernel: a
// simulation allocates and frees each stream's values (up to megabytes) for every image, and a
// training its batches, and fresh pages mapped and zeroed each time cost a fifth of cnv's values
// and half of a training step. qdf's command line sets it for every command; a program that runs
// the simulator itself may call it too.
void keep_freed_memory();

using sim::random_images;

// "" when equal, else the first differences (image, value index, both values), at most `max`.
// `ids`, when given, are the image numbers of expected[i] and actual[i] (a sample of a run).
std::string compare_outputs(const std::vector<std::vector<std::int64_t>>& expected,
                            const std::vector<std::vector<std::int64_t>>& actual, const std::string& what, int max = 5,
                            const std::vector<int>& ids = {});

// Which images of a values run are checked against the reference model (`--reference`): all,
// none, or N spread evenly over the run (the first and the last among them). By default as many
// as kReferenceBudgetMacs MACs of the naive reference model allow (it ran 1e8 to 2e8 MACs/s a
// core, so some 10 to 20 s on one core), but at least kReferenceSample, the first and the last
// image: every image of a small run, 33 of cnv's, 2 of resnet18's (1.8e9 MACs an image).
struct ReferenceCheck {
  enum class Mode { Default, All, Count, None };
  Mode mode = Mode::Default;
  int count = 0;  // Count: the number of images
};
inline constexpr std::int64_t kReferenceBudgetMacs = 2'000'000'000;
inline constexpr int kReferenceSample = 2;
// Parses "all", "none" or a count >= 1; a UserError names `--reference` and the value otherwise.
ReferenceCheck parse_reference_check(const std::string& text);
// The image numbers (ascending) that `r` checks of `images` images of `net`.
std::vector<int> reference_images(const manager::Net& net, int images, const ReferenceCheck& r);

struct SimRun {
  sim::SimResult result;
  int images = 0;
  bool timing_only = false;
  int threads = 1;  // the threads that computed values and the reference check (on each rank)
  int ranks = 1;    // the MPI ranks the values were split over (host/distributed/ranks.hpp)
  std::vector<std::vector<std::int64_t>> inputs;  // the images run, when kept (keep_images)
  // (values runs only) against host/reference/reference_model.hpp, on the images `checked`
  // (true when none is checked).
  bool outputs_match_reference = false;
  std::vector<int> checked;
  double reference_seconds = 0;  // wall time of the reference check
  std::string mismatch;
  // (values runs whose outputs all match the reference model) a digest of every image's output
  // values in image order (dsl/hash.hpp), to compare runs; 0 when there is none.
  std::uint64_t outputs_digest = 0;
};
// `threads`: 0 for every core (sim/thread_pool.hpp); the results do not depend on it. Values are
// computed a chunk of images at a time and the checked ones compared with the reference model as
// they come; only with `keep_images` are the images and the simulator's outputs kept
// (SimRun::inputs, result.outputs: for a backend to run the same), so that a long run's memory
// stays bounded. `max_cycles`: the simulator's cycle limit (sim::SimOptions), 0 none.
// Under an MPI job (`ranks` of several processes, not with keep_images), rank 0 times the whole
// run and each other rank computes and checks the values of a block of the images; rank 0's SimRun is
// then one process's (wall times aside), the other ranks' hold nothing to print.
SimRun simulate_design(const Design& d, int images, bool timing_only, std::uint64_t seed, int threads = 0,
                       const ReferenceCheck& reference = {}, bool keep_images = false, std::int64_t max_cycles = 0,
                       const Ranks& ranks = Ranks{});
// Of a simulator run (host/design/open_design.hpp says what a steady state needs).
int images_for_steady_state(const SimRun& r);
bool steady(const SimRun& r);
// The design's timing in steady state (timing only, as many images as that needs): what the
// scaling study measures each plan with.
sim::RunTiming steady_timing(const Design& d);
// Measures a plan of `in` (manager::MeasurePlan) by steady_timing: its cycles per image and the
// latency of one image. `in` must outlive the function.
manager::MeasurePlan measure_steady_timing(const DesignInputs& in, const std::string& source);
// `qdf scale`: the built-in network of `r` at the highest throughput on each of `fpgas` FPGAs
// (manager/scaling.hpp), each plan simulated for timing in steady state when `simulate`.
manager::ScaleStudy scale_design(const CompileRequest& r, const std::vector<int>& fpgas, bool simulate);
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
VerifyRun verify_design(const Design& d, int images, std::uint64_t seed, int threads = 0, std::int64_t max_cycles = 0);
nlohmann::json verify_json(const Design& d, const VerifyRun& r);
std::string verify_table(const Design& d, const VerifyRun& r);

}  // namespace qdf::host

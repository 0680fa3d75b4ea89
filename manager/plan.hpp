// Folding and partition: how a network is mapped onto K FPGAs joined by ring links. The compile
// pipeline's steps are listed in order in plan.cpp (and written in plan_steps.cpp).
//
// The throughput of a stream pipeline is set by its slowest engine or link, in cycles per image
// (T). For a target T, each foldable layer (conv, fc, pools) takes its cheapest folding whose
// cycles are at most T: the layers are balanced, and since the choice of one layer does not
// change another's cycles, the sum of resources is the least the timing model allows at T (FINN's
// SetFolding problem solved per layer, not by its greedy walk; candidates are priced up to twice
// the least parallelism that meets T, and a brute-force test finds none cheaper by over 1%). The
// slowest engine sets T once the engines are decoupled by the input FIFOs of engine_graph.hpp;
// the simulator measures what the pipeline really gives (sim/simulator.hpp). Then the layers, in order,
// are cut into at most K contiguous groups, one per FPGA, by dynamic programming over the cut
// points: each group within the device budget, the most loaded FPGA as light as possible, and no
// cut on a stream that its ring link cannot carry in T cycles. For the highest throughput, T is
// the least for which this succeeds (a binary search: a larger T never needs more).
//
// Costs: a folding's price is the resource estimate of the engines it makes, read off their IR
// (dsl/estimate_resources.hpp) with the model's weights, as fractions of the device's LUTs and
// block RAMs. Intel ALUTs are counted as 6-input LUTs, and block RAM needs are converted by bits
// to the device's blocks (M20K, RAMB36): both approximations.
#pragma once

#include "engines/ring_link.hpp"
#include "manager/devices.hpp"
#include "manager/engine_graph.hpp"
#include "manager/links.hpp"

#include <optional>

namespace qdf::manager {

struct PlanOptions {
  int fpgas = 1;
  Device device;
  Link ring, host;
  double fps = 0;             // target images per second; 0: the highest throughput that fits
  double utilization = 0.85;  // fraction of each FPGA's LUTs and block RAMs the design may use
  std::optional<Folding> folding;  // a fixed folding (the search then only partitions)
  PlanOptions();              // one FPGA of the first device, the default links
};

struct FpgaPlan {
  std::vector<int> units;
  dsl::Resources resources;
  std::int64_t bram_blocks = 0;  // in the device's blocks
  double lut_fraction = 0, bram_fraction = 0;
  std::int64_t cycles_per_image = 0;  // its slowest engine
};

struct LinkUse {
  std::string name;   // "host_in", "ring_0_1", "host_out"
  std::string kind;   // "host" or "ring"
  // The streams it carries: a host link the network's input or output; a ring link every stream
  // crossing its cut (cut_streams), each ending in its link FIFO on the receiving FPGA.
  std::vector<int> streams;
  int from_fpga = -1, to_fpga = -1;  // -1: the host
  double bits_per_image = 0;
  double cycles_per_image = 0;  // at the clock, to move one image's streams
  double latency_cycles = 0;
  engines::RingLinkConfig ring;  // a ring link's lane, slots and credits (engines/ring_link.hpp)
};

struct Plan {
  EngineGraph graph;  // engines placed (Engine::fpga), link FIFOs inserted
  std::vector<dsl::Resources> engine_resources;  // by engine index
  std::vector<FpgaPlan> fpgas;
  std::vector<LinkUse> links;
  Device device;
  Link ring, host;
  double clock_mhz = 0;
  std::int64_t cycles_per_image = 0;  // the slowest engine or link
  double fps = 0;
  std::string bottleneck;  // the slowest engine or link
  std::string limit;       // what stops a faster design (for --max-throughput and --fps)
  double plan_seconds = 0; // time the search took
};

// Every option in its range, finite (NaN and infinity pass a `<=` test, so each is tested as
// being inside, not outside): at least one FPGA, a device with positive figures, fps >= 0 (0:
// the highest throughput), utilization in (0, 1], positive link bandwidths and latencies of
// 0..1 s. A UserError names the option and its command-line flag. plan_network's entry check.
void check_plan_options(const PlanOptions& opt);

// Folds and partitions `net`; a UserError names the layer, link or budget that makes the target
// (or any design) impossible.
Plan plan_network(const Net& net, const ModelWeights& weights, const PlanOptions& opt);

// The plan of `net` at the folding opt.folding (required) with FPGA f holding the partition units
// (top-level layers) from first_units[f] up to the next FPGA's: what plan_network gives once it
// has chosen both (links, link FIFOs, resources, prediction), with `limit` as the plan's. This is
// how a written plan is rebuilt (manager/load_bundle.hpp).
Plan plan_partition(const Net& net, const ModelWeights& weights, const PlanOptions& opt, const std::vector<int>& first_units,
                    const std::string& limit = "");

// Folding candidates of one layer: (PE, SIMD) pairs, with PE dividing the outputs and SIMD the
// input channels (fc: the inputs; pools: SIMD only, PE = SIMD).
std::vector<LayerFolding> folding_candidates(const Layer& l);

}  // namespace qdf::manager

// The steps of the manager's compile pipeline (manager/plan.cpp lists them in order; each step's
// comment there says why it is where it is). Internal to the manager: users call plan_network,
// plan_partition and write_bundle.
#pragma once

#include "engines/ring_link.hpp"
#include "manager/plan.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace qdf::manager::steps {

// Resource estimates of engines, once per process for each configuration and content (a sweep
// over FPGA counts or targets prices each engine once), and the device's arithmetic on them.
class Pricing {
 public:
  explicit Pricing(const Device& d);
  dsl::Resources price(const Engine& e) const;
  std::int64_t blocks(std::int64_t bram18) const;  // 18 Kbit halves to the device's blocks
  double cost(const dsl::Resources& r) const;      // fractions of the device's LUTs and blocks
  const Device& device() const { return device_; }

 private:
  Device device_;
  double block_bits_ = 1;
};

// A foldable layer (conv, fc, pools) and its candidate foldings with their cycles per image
// (the slowest of the engines each makes, from their timing models).
struct Candidate {
  LayerFolding f;
  std::int64_t cycles = 0;
  std::int64_t parallelism = 0;
  bool priced = false;
  dsl::Resources res;
};
struct Foldable {
  const Layer* layer = nullptr;
  const Layer* act = nullptr;         // fused into a conv or fc
  std::vector<Candidate> candidates;  // by cycles, descending
};

// The search space: every foldable layer of `net` with its candidates (timing only, unpriced).
std::vector<Foldable> folding_space(const Net& net, const ModelWeights& w);

// The cheapest candidate of `f` within T cycles: among those of least parallelism up to twice it
// (more parallel foldings cost more), priced by their engines. Null when none is within T.
const Candidate* cheapest_within(Foldable& f, std::int64_t T, const ModelWeights& w, const Pricing& pricing);

// Cycles for the host link to carry stream `stream` of `g` for one image.
double link_cycles(const Link& link, const EngineGraph& g, int stream, double clock_mhz);

// The ring link (engines/ring_link.hpp) at a cut that `streams` of `g` cross: a lane of the ring's
// bandwidth at the device's clock, a sub-lane per stream when their widths fit side by side, else
// one shared by slots in proportion to each stream's flits per image, and for each stream the
// credits of its full rate (the capacity of its link FIFO); and its cycles per image.
engines::RingLinkConfig ring_link(const PlanOptions& opt, const EngineGraph& g, const std::vector<int>& streams, const std::string& name);
double ring_cycles(const engines::RingLinkConfig& c, const EngineGraph& g, const std::vector<int>& streams);

// The FIFO at the receiving end of stream k of ring link `c`: as many elements as its credits.
engines::FifoConfig link_fifo(const engines::RingLinkConfig& c, int k, const std::string& name);

// The FIFO at the sending end of stream k of ring link `c` (stream `s` of the graph), when the
// link moves fewer than one of its elements a cycle (it shares its sub-lane by slots, or needs
// several flits an element): one row of the stream (StreamEdge::row_elements), so that its
// producer's bursts (a row of a max pool's output in half the cycles) wait there instead of
// stalling the producer while the stream's slots go by unused. None at full rate.
std::optional<engines::FifoConfig> send_fifo(const engines::RingLinkConfig& c, int k, const StreamEdge& s, const std::string& name);

// The cut of units over at most `fpgas` FPGAs (dynamic programming over cut points) that makes
// the most loaded FPGA lightest, within `utilization` of the device's LUTs and block RAMs,
// cutting only where the ring link carries the streams crossing the cut (cut_streams) within T
// cycles. Each FPGA's load includes the link FIFOs and endpoints of its ring links.
struct Partition {
  bool ok = false;
  std::string reason;      // why no cut fits, when !ok
  std::vector<int> cuts;   // first unit of each FPGA
};
Partition partition_units(const EngineGraph& g, const std::vector<dsl::Resources>& unit_res, std::int64_t T, const PlanOptions& opt,
                          const Pricing& pricing);

}  // namespace qdf::manager::steps

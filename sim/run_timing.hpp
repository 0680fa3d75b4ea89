// What a run of several images through a planned design measures, from the cycles at which the
// host link took each input element from the host and delivered each output element to it.
// The simulator and the RTL harness record the same two lists and both call measure_run(), so
// their figures are defined once.
#pragma once

#include "manager/plan.hpp"
#include "sim/link_model.hpp"

#include <cstdint>
#include <vector>

namespace qdf::sim {

struct HostTimes {
  std::vector<std::int64_t> sent;      // cycle each input element left the host
  std::vector<std::int64_t> received;  // cycle each output element reached the host
};

struct RunTiming {
  int images = 0;
  // Steady state: the median gap between the last outputs of consecutive images; with one
  // image, its latency. A run needs a few images more than the pipeline holds for it to show.
  double cycles_per_image = 0;
  // First image, pipeline empty: from its first input element leaving the host to its last
  // output element reaching the host.
  std::int64_t latency_cycles = 0;
  std::int64_t total_cycles = 0;  // until the last output element reached the host
};

// `in_per_image` / `out_per_image`: elements of the input and output streams per image.
RunTiming measure_run(const HostTimes& t, std::int64_t in_per_image, std::int64_t out_per_image);

// The links of a plan, in the order of Plan::links ("host_in", "ring_<i>_<j>", ..., "host_out"):
// bandwidth and latency at the plan's clock; the credits of a ring link are the capacity of the
// link FIFO at its receiving end, those of a host link a round trip at its rate plus 4.
std::vector<LinkParams> plan_link_params(const manager::Plan& p);

}  // namespace qdf::sim

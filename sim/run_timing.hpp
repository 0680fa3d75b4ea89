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

// A host link of a plan (host_in or host_out): bandwidth and latency at the plan's clock, and
// credits for a round trip at its rate plus 4. (A ring link's timing is engines/ring_link.hpp's,
// from LinkUse::ring.)
LinkParams host_link_params(const manager::Plan& p, const manager::LinkUse& l);

}  // namespace qdf::sim

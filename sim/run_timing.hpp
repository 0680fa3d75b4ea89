// What a run of several images through a planned design measures, from the cycles at which the
// host link took each input element from the host and delivered each output element to it.
// The simulator and the RTL harness record both into a HostTimes, whose timing() defines their
// figures once. The cycles are streamed, not logged: a run's memory does not grow with its
// elements (only with the distinct gaps between images, a handful in a steady state).
#pragma once

#include "dsl/hash.hpp"
#include "manager/plan.hpp"
#include "sim/link_model.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace qdf::sim {

struct RunTiming;

// The host's view of a run: the cycle each input element left the host (sent) and each output
// element reached it (received), in the order they happen. `in_per_image` and `out_per_image`
// are the elements of the input and output streams per image.
class HostTimes {
 public:
  HostTimes() = default;
  HostTimes(std::int64_t in_per_image, std::int64_t out_per_image);
  void sent(std::int64_t cycle);
  void received(std::int64_t cycle);
  std::int64_t sent_count() const { return sent_; }
  std::int64_t received_count() const { return received_; }
  // FNV-1a over every cycle recorded (sent, then received, each in order): two runs with equal
  // digests had the same cycles, with the odds of a 64-bit hash.
  std::uint64_t sent_digest() const { return sent_digest_.value(); }
  std::uint64_t received_digest() const { return received_digest_.value(); }
  RunTiming timing() const;

 private:
  std::int64_t in_per_image_ = 1, out_per_image_ = 1;
  std::int64_t sent_ = 0, received_ = 0;
  std::int64_t first_sent_ = -1;
  std::int64_t first_last_out_ = -1, last_out_ = -1;  // the last output of image 0, of the latest image
  std::map<std::int64_t, std::int64_t> gaps_;  // gap between consecutive images' last outputs -> how often
  dsl::Fnv1a sent_digest_, received_digest_;
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


// A host link of a plan (host_in or host_out): bandwidth and latency at the plan's clock, and
// credits for a round trip at its rate plus 4. (A ring link's timing is engines/ring_link.hpp's,
// from LinkUse::ring.)
LinkParams host_link_params(const manager::Plan& p, const manager::LinkUse& l);

}  // namespace qdf::sim

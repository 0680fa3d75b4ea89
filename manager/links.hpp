// Link models: the ring link between neighbouring FPGAs (MaxRing-like) and the host link (PCIe).
// A link carries a stream at `bandwidth` bytes per second after `latency` seconds; a stream whose
// bits per image at the target image rate exceed it limits throughput. Defaults in links.cpp,
// each with its source or marked as an assumption.
#pragma once

#include <string>
#include <vector>

namespace qdf::manager {

struct Link {
  std::string name;         // "ring" or "host"
  std::string description;
  double bandwidth = 0;     // bytes per second, one direction
  double latency = 0;       // seconds
  // Cycles (at clock_mhz) to move one element of `bits` bits, and the latency in cycles.
  double cycles_per_element(double bits, double clock_mhz) const;
  double latency_cycles(double clock_mhz) const;
  // Elements of `bits` bits in flight over a round trip at the link's rate (at most one per
  // cycle), plus 4: the room a receiving end needs for credits never to stall a full-rate stream.
  // A UserError when that count is not an int (a latency of seconds).
  int round_trip_elements(double bits, double clock_mhz) const;
};

// A link with a finite bandwidth > 0 and a latency in [0, max_link_latency_s]; else a UserError
// naming the link and `flag`, the option that sets it ("--ring"  gives --ring-gbps, --ring-latency-us).
void check_link(const Link& l, const std::string& flag);
constexpr double max_link_latency_s = 1.0;

const std::vector<Link>& default_links();
Link default_link(const std::string& name);

}  // namespace qdf::manager

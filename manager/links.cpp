#include "manager/links.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace qdf::manager {

double Link::cycles_per_element(double bits, double clock_mhz) const {
  return bits / 8.0 / bandwidth * clock_mhz * 1e6;
}

double Link::latency_cycles(double clock_mhz) const { return latency * clock_mhz * 1e6; }

int Link::round_trip_elements(double bits, double clock_mhz) const {
  const double rate = std::min(1.0, 1.0 / std::max(cycles_per_element(bits, clock_mhz), 1e-9));  // elements per cycle
  const double elements = std::ceil(2 * latency_cycles(clock_mhz) * rate) + 4;
  // Tested as inside the range, so that NaN fails too; an int's range before the cast (UB past it).
  if (!(elements >= 0 && elements <= static_cast<double>(std::numeric_limits<int>::max() / 2)))
    throw UserError(fmt::format("{} link: a round trip of {} s at {} MHz holds {:.3g} elements, more than a link FIFO can be ({}): "
                                "expected a latency of microseconds, lower --{}-latency-us",
                                name, 2 * latency, clock_mhz, elements, std::numeric_limits<int>::max() / 2, name));
  return static_cast<int>(elements);
}

void check_link(const Link& l, const std::string& flag) {
  if (!(std::isfinite(l.bandwidth) && l.bandwidth > 0))
    throw UserError(fmt::format("the {} link's bandwidth must be a finite number of bytes per second > 0, found {} ({}-gbps)", l.name,
                                l.bandwidth, flag));
  if (!(l.latency >= 0 && l.latency <= max_link_latency_s))
    throw UserError(fmt::format("the {} link's latency must be 0..{} s, found {} s ({}-latency-us)", l.name, max_link_latency_s,
                                l.latency, flag));
}

const std::vector<Link>& default_links() {
  static const std::vector<Link> all = {
      {"ring",
       "MaxRing-like link between neighbouring FPGAs",
       // An assumption in the range Maxeler documents for MAX4 MaxRing (several GB/s per
       // direction between neighbouring engines): 5 GB/s and 1 microsecond.
       5e9, 1e-6},
      {"host",
       "host link, PCIe Gen2 x8 as on MAX4 engines",
       // PCIe Gen2 x8: 8 lanes x 5 GT/s x 8b/10b = 4 GB/s per direction before protocol
       // overhead; an assumed 80% efficiency gives 3.2 GB/s, and 2 microseconds of latency.
       3.2e9, 2e-6},
  };
  return all;
}

Link default_link(const std::string& name) {
  for (const Link& l : default_links())
    if (l.name == name) return l;
  throw UserError(fmt::format("no link named '{}'; the links are: ring, host", name));
}

}  // namespace qdf::manager

#include "manager/links.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace qdf::manager {

double Link::cycles_per_element(double bits, double clock_mhz) const {
  return bits / 8.0 / bandwidth * clock_mhz * 1e6;
}

double Link::latency_cycles(double clock_mhz) const { return latency * clock_mhz * 1e6; }

int Link::round_trip_elements(double bits, double clock_mhz) const {
  const double rate = std::min(1.0, 1.0 / std::max(cycles_per_element(bits, clock_mhz), 1e-9));  // elements per cycle
  return static_cast<int>(std::ceil(2 * latency_cycles(clock_mhz) * rate)) + 4;
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

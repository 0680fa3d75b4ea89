#include "sim/run_timing.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace qdf::sim {

RunTiming measure_run(const HostTimes& t, std::int64_t in_per_image, std::int64_t out_per_image) {
  if (in_per_image < 1 || out_per_image < 1) throw InternalError("measure_run: elements per image must be positive");
  RunTiming r;
  r.images = static_cast<int>(t.received.size() / static_cast<size_t>(out_per_image));
  if (r.images < 1 || t.sent.size() < static_cast<size_t>(in_per_image)) return r;
  auto last_out = [&](int image) { return t.received[static_cast<size_t>((image + 1) * out_per_image - 1)]; };
  r.latency_cycles = last_out(0) - t.sent.front() + 1;
  r.total_cycles = last_out(r.images - 1) + 1;
  // The median of the gaps between consecutive images' last outputs: the first image's fill and
  // the last images' drain (a stage's pipeline empties faster with no image behind it) do not
  // move it.
  std::vector<std::int64_t> gaps;
  for (int i = 1; i < r.images; ++i) gaps.push_back(last_out(i) - last_out(i - 1));
  if (gaps.empty()) {
    r.cycles_per_image = static_cast<double>(r.latency_cycles);
  } else {
    std::sort(gaps.begin(), gaps.end());
    const size_t m = gaps.size();
    r.cycles_per_image = m % 2 ? static_cast<double>(gaps[m / 2]) : 0.5 * static_cast<double>(gaps[m / 2 - 1] + gaps[m / 2]);
  }
  return r;
}

LinkParams host_link_params(const manager::Plan& p, const manager::LinkUse& l) {
  if (l.kind != "host" || l.streams.size() != 1) throw InternalError(fmt::format("link {} is not a host link", l.name));
  const manager::StreamEdge& s = p.graph.streams.at(static_cast<size_t>(l.streams[0]));
  LinkParams lp;
  lp.name = l.name;
  lp.width = s.width();
  lp.bits_per_cycle = p.host.bandwidth * 8.0 / (p.clock_mhz * 1e6);
  lp.latency = std::max<std::int64_t>(1, std::llround(l.latency_cycles));
  lp.credits = p.host.round_trip_elements(lp.width, p.clock_mhz);
  return lp;
}

}  // namespace qdf::sim

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

std::vector<LinkParams> plan_link_params(const manager::Plan& p) {
  const manager::EngineGraph& g = p.graph;
  std::vector<LinkParams> out;
  for (const manager::LinkUse& l : p.links) {
    LinkParams lp;
    lp.name = l.name;
    const manager::StreamEdge& s = g.streams.at(static_cast<size_t>(l.stream));
    lp.width = s.width();
    const manager::Link& link = l.kind == "ring" ? p.ring : p.host;
    lp.bits_per_cycle = link.bandwidth * 8.0 / (p.clock_mhz * 1e6);
    lp.latency = std::max<std::int64_t>(1, std::llround(l.latency_cycles));
    lp.credits = link.round_trip_elements(lp.width, p.clock_mhz);
    if (l.kind == "ring") {
      if (s.to < 0 || !engines::is_buffer(g.engines[static_cast<size_t>(s.to)].config))
        throw InternalError(fmt::format("link {}: stream {} does not end in a link FIFO", l.name, s.name));
      lp.credits = engines::buffer_capacity(g.engines[static_cast<size_t>(s.to)].config);
    }
    out.push_back(lp);
  }
  return out;
}

}  // namespace qdf::sim

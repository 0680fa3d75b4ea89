#include "sim/run_timing.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace qdf::sim {

HostTimes::HostTimes(std::int64_t in_per_image, std::int64_t out_per_image) : in_per_image_(in_per_image), out_per_image_(out_per_image) {
  if (in_per_image < 1 || out_per_image < 1) throw InternalError("HostTimes: elements per image must be positive");
}

void HostTimes::sent(std::int64_t cycle) {
  if (sent_++ == 0) first_sent_ = cycle;
  sent_digest_.add(static_cast<std::uint64_t>(cycle));
}

void HostTimes::received(std::int64_t cycle) {
  received_digest_.add(static_cast<std::uint64_t>(cycle));
  if (++received_ % out_per_image_) return;
  // The last output of an image.
  if (last_out_ < 0) first_last_out_ = cycle;
  else ++gaps_[cycle - last_out_];
  last_out_ = cycle;
}

RunTiming HostTimes::timing() const {
  RunTiming r;
  r.images = static_cast<int>(received_ / out_per_image_);
  if (r.images < 1 || sent_ < in_per_image_) return r;
  r.latency_cycles = first_last_out_ - first_sent_ + 1;
  r.total_cycles = last_out_ + 1;
  // The median of the gaps between consecutive images' last outputs: the first image's fill and
  // the last images' drain (a stage's pipeline empties faster with no image behind it) do not
  // move it.
  const std::int64_t m = r.images - 1;  // gaps
  if (m == 0) {
    r.cycles_per_image = static_cast<double>(r.latency_cycles);
    return r;
  }
  // The gaps of rank m / 2 (and m / 2 - 1 when m is even), counted up the histogram.
  auto gap_at = [&](std::int64_t rank) {
    std::int64_t seen = 0;
    for (const auto& [gap, count] : gaps_)
      if ((seen += count) > rank) return gap;
    throw InternalError("HostTimes: fewer gaps than images");
  };
  r.cycles_per_image = m % 2 ? static_cast<double>(gap_at(m / 2)) : 0.5 * static_cast<double>(gap_at(m / 2 - 1) + gap_at(m / 2));
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

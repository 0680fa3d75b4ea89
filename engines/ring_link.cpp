#include "engines/ring_link.hpp"

#include "dsl/errors.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace qdf::engines {

void RingLinkConfig::check() const {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; }))
    throw UserError(fmt::format("ring link name '{}' must be a Verilog identifier (letters, digits, _; not first a digit)", name));
  if (lane_bits < 1 || lane_bits > 65536)
    throw UserError(fmt::format("ring link {}: {} lane bits per cycle, expected 1..65536", name, lane_bits));
  if (latency < 1 || latency > (std::int64_t{1} << 32))
    throw UserError(fmt::format("ring link {}: a latency of {} cycles, expected 1..2^32", name, latency));
  if (streams.empty() || streams.size() > 64)
    throw UserError(fmt::format("ring link {}: {} streams, expected 1..64", name, streams.size()));
  for (size_t s = 0; s < streams.size(); ++s)
    if (streams[s].width < 1 || streams[s].width > 65536 || streams[s].credits < 1 || streams[s].credits > (std::int64_t{1} << 30))
      throw UserError(fmt::format("ring link {}: stream {} has width {} and {} credits, expected 1..65536 bits and 1..2^30 credits", name, s,
                                  streams[s].width, streams[s].credits));
  if (sublanes.empty() || sublanes.size() > streams.size())
    throw UserError(fmt::format("ring link {}: {} sub-lanes for {} streams, expected 1..{}", name, sublanes.size(), streams.size(), streams.size()));
  std::int64_t bits = 0;
  std::vector<int> named(streams.size(), 0);
  for (size_t g = 0; g < sublanes.size(); ++g) {
    const RingSubLane& l = sublanes[g];
    const std::string which = sublanes.size() == 1 ? std::string("the slot table") : fmt::format("sub-lane {}'s slot table", g);
    if (l.bits < 1) throw UserError(fmt::format("ring link {}: sub-lane {} has {} bits, expected at least 1", name, g, l.bits));
    bits += l.bits;
    if (l.slots.empty() || l.slots.size() > 64)
      throw UserError(fmt::format("ring link {}: {} has {} slots, expected 1..64", name, which, l.slots.size()));
    for (int s : l.slots) {
      if (s < 0 || s >= static_cast<int>(streams.size()))
        throw UserError(fmt::format("ring link {}: {} names stream {}, which it does not have", name, which, s));
      if (named[static_cast<size_t>(s)] != 0 && named[static_cast<size_t>(s)] != static_cast<int>(g) + 1)
        throw UserError(fmt::format("ring link {}: stream {} is named by two sub-lanes' slot tables", name, s));
      named[static_cast<size_t>(s)] = static_cast<int>(g) + 1;
    }
  }
  if (bits > lane_bits)
    throw UserError(fmt::format("ring link {}: sub-lanes of {} bits together on a lane of {} bits", name, bits, lane_bits));
  for (size_t s = 0; s < streams.size(); ++s)
    if (named[s] == 0)
      throw UserError(fmt::format("ring link {}: stream {} owns no slot of {}", name, s, sublanes.size() == 1 ? "the table" : "any sub-lane"));
}

RingLinkConfig RingLinkConfig::time_shared(std::string name, int lane_bits, std::int64_t latency, std::vector<RingStream> streams,
                                           std::vector<int> slots) {
  RingLinkConfig c;
  c.name = std::move(name);
  c.lane_bits = lane_bits;
  c.latency = latency;
  c.streams = std::move(streams);
  c.sublanes = {{lane_bits, std::move(slots)}};
  return c;
}

int RingLinkConfig::sublane_of(int s) const {
  for (size_t g = 0; g < sublanes.size(); ++g)
    if (std::find(sublanes[g].slots.begin(), sublanes[g].slots.end(), s) != sublanes[g].slots.end()) return static_cast<int>(g);
  throw InternalError(fmt::format("ring link {}: stream {} is on no sub-lane", name, s));
}

int RingLinkConfig::streams_on(int g) const {
  int n = 0;
  for (int s = 0; s < static_cast<int>(streams.size()); ++s) n += sublane_of(s) == g;
  return n;
}

int RingLinkConfig::stream_bits() const {
  int b = 1;
  while ((std::size_t{1} << b) < streams.size()) ++b;
  return b;
}

int RingLinkConfig::lane_stream_bits() const { return static_cast<int>(sublanes.size()) * stream_bits(); }

int RingLinkConfig::used_bits() const { return sublane_offset(static_cast<int>(sublanes.size())); }

int RingLinkConfig::sublane_offset(int g) const {
  int o = 0;
  for (int k = 0; k < g; ++k) o += sublanes[static_cast<size_t>(k)].bits;
  return o;
}

int ring_lane_bits(double bytes_per_second, double clock_mhz) {
  const double bits = std::floor(bytes_per_second * 8.0 / (clock_mhz * 1e6));
  if (!(bits >= 1))
    throw UserError(fmt::format("a ring link of {} bytes per second carries under 1 bit per cycle at {} MHz", bytes_per_second, clock_mhz));
  return static_cast<int>(std::min(bits, 65536.0));
}

std::vector<int> ring_slot_table(const std::vector<std::int64_t>& flits_per_image) {
  const int n = static_cast<int>(flits_per_image.size());
  if (n <= 1) return {0};
  constexpr int kPeriod = 64;
  if (n > kPeriod) throw UserError(fmt::format("a ring link carries at most {} streams, not {}", kPeriod, n));
  const double total = std::max<double>(1, static_cast<double>(std::accumulate(flits_per_image.begin(), flits_per_image.end(), std::int64_t{0})));
  // Largest remainders: each stream its share of the period, at least one slot.
  std::vector<int> share(static_cast<size_t>(n), 1);
  int left = kPeriod - n;
  std::vector<double> want(static_cast<size_t>(n));
  for (int s = 0; s < n; ++s) want[static_cast<size_t>(s)] = std::max(0.0, kPeriod * static_cast<double>(flits_per_image[static_cast<size_t>(s)]) / total - 1);
  for (int s = 0; s < n; ++s) {
    const int w = std::min(left, static_cast<int>(std::floor(want[static_cast<size_t>(s)])));
    share[static_cast<size_t>(s)] += w;
    left -= w;
    want[static_cast<size_t>(s)] -= w;
  }
  while (left > 0) {
    const auto s = static_cast<size_t>(std::max_element(want.begin(), want.end()) - want.begin());
    ++share[s];
    want[s] -= 1;
    --left;
  }
  // Spread evenly: smooth weighted round robin.
  std::vector<int> table;
  std::vector<int> credit(static_cast<size_t>(n), 0);
  for (int k = 0; k < kPeriod; ++k) {
    for (int s = 0; s < n; ++s) credit[static_cast<size_t>(s)] += share[static_cast<size_t>(s)];
    const auto s = static_cast<size_t>(std::max_element(credit.begin(), credit.end()) - credit.begin());
    credit[s] -= kPeriod;
    table.push_back(static_cast<int>(s));
  }
  return table;
}

std::vector<RingSubLane> ring_sublanes(int lane_bits, const std::vector<int>& widths, const std::vector<std::int64_t>& flits_per_image) {
  if (widths.size() > 1 && std::accumulate(widths.begin(), widths.end(), std::int64_t{0}) <= lane_bits) {
    std::vector<RingSubLane> side_by_side;
    for (size_t s = 0; s < widths.size(); ++s) side_by_side.push_back({widths[s], {static_cast<int>(s)}});
    return side_by_side;
  }
  return {{lane_bits, ring_slot_table(flits_per_image)}};
}

namespace {

// Stream s's share of its sub-lane: the slots it owns of the table's period.
struct SlotShare {
  double period, owned;
};
SlotShare slot_share(const RingLinkConfig& c, int s) {
  const std::vector<int>& slots = c.sublanes[static_cast<size_t>(c.sublane_of(s))].slots;
  return {static_cast<double>(slots.size()), static_cast<double>(std::count(slots.begin(), slots.end(), s))};
}

}  // namespace

double ring_cycles_per_image(const RingLinkConfig& c, const std::vector<std::int64_t>& elements_per_image) {
  double worst = 0;
  for (size_t s = 0; s < c.streams.size(); ++s) {
    const SlotShare sh = slot_share(c, static_cast<int>(s));
    worst = std::max(worst, static_cast<double>(elements_per_image.at(s)) * c.flits(static_cast<int>(s)) * sh.period / sh.owned);
  }
  return worst;
}

double ring_stream_rate(const RingLinkConfig& c, int s) {
  const SlotShare sh = slot_share(c, s);
  return sh.owned / (sh.period * c.flits(s));
}

std::int64_t ring_full_rate_credits(const RingLinkConfig& c, int s) {
  const SlotShare sh = slot_share(c, s);
  const double rate = ring_stream_rate(c, s);
  const double round_trip = 2.0 * static_cast<double>(c.latency) + 2 + sh.period + c.flits(s) * sh.period / sh.owned;
  return std::max<std::int64_t>(3, static_cast<std::int64_t>(std::ceil(rate * round_trip)) + 2);
}

RingStreamTiming::RingStreamTiming(const RingLinkConfig& c, int stream)
    : latency_(c.latency), credits_(c.streams.at(static_cast<size_t>(stream)).credits), flits_(c.flits(stream)), taken_(credits_) {
  const std::vector<int>& slots = c.sublanes[static_cast<size_t>(c.sublane_of(stream))].slots;
  period_ = static_cast<std::int64_t>(slots.size());
  for (int k = 0; k < static_cast<int>(slots.size()); ++k)
    if (slots[static_cast<size_t>(k)] == stream) owned_.push_back(k);
  if (owned_.empty()) throw InternalError(fmt::format("ring link {}: stream {} owns no slot", c.name, stream));
}

std::int64_t RingStreamTiming::owned_after(std::int64_t c, std::int64_t k) const {
  const std::int64_t start = c + 1;
  const std::int64_t m = static_cast<std::int64_t>(owned_.size());
  std::int64_t p = start / period_;
  const auto r = static_cast<int>(start % period_);
  const std::int64_t idx = std::lower_bound(owned_.begin(), owned_.end(), r) - owned_.begin();
  const std::int64_t at = idx + k - 1;
  p += at / m;
  return p * period_ + owned_[static_cast<size_t>(at % m)];
}

std::int64_t RingStreamTiming::earliest_take(std::int64_t c) const {
  std::int64_t t = std::max(c, last_);
  if (sent_ >= credits_) {
    const std::int64_t owed = sent_ - credits_;  // the element whose credit is needed
    if (owed >= taken_.taken()) return kRingNever;
    t = std::max(t, taken_.at(owed) + latency_ + 1);
  }
  return t;
}

std::int64_t RingStreamTiming::take(std::int64_t c) {
  last_ = owned_after(c, flits_);
  ++sent_;
  return last_ + latency_;
}

void RingStreamTiming::state(std::vector<std::int64_t>& out, std::int64_t elements, std::int64_t cycles) const {
  out.insert(out.end(), {((cycles % period_) + period_) % period_, sent_ - elements, last_ - cycles});
  taken_.state(out, sent_, elements, cycles);
}

std::int64_t RingStreamTiming::uniform_images(std::int64_t per_image) const {
  return taken_.uniform_images(sent_, per_image);
}

void RingStreamTiming::shift(std::int64_t per_image, std::int64_t images, std::int64_t period) {
  if (period % period_)
    throw InternalError(fmt::format("ring stream timing: a period of {} cycles is not whole slot periods of {}", period, period_));
  taken_.shift(per_image, images, period);
  sent_ += per_image * images;
  last_ += period * images;
}

void RingStreamTiming::consume(std::int64_t c) {
  taken_.take(c);
}

}  // namespace qdf::engines

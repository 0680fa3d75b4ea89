// The ring link's configuration checks, slot table and timing model, against hand-computed
// figures and brute-force scans of the slot table (the RTL against the timing model is
// tests/cosim/test_ring_link_rtl.cpp).
#include "dsl/errors.hpp"
#include "engines/ring_link.hpp"

#include <algorithm>
#include <cmath>
#include <doctest/doctest.h>
#include <numeric>
#include <random>

using namespace qdf;
using engines::RingLinkConfig;
using engines::RingStreamTiming;

namespace {

RingLinkConfig link(int lane_bits, std::vector<int> widths, std::vector<int> slots, std::int64_t latency = 1, std::int64_t credits = 2) {
  std::vector<engines::RingStream> streams;
  for (int w : widths) streams.push_back({w, credits});
  return RingLinkConfig::time_shared("ring_test", lane_bits, latency, std::move(streams), std::move(slots));
}

std::vector<int> shares(const std::vector<int>& table, int streams) {
  std::vector<int> n(static_cast<size_t>(streams), 0);
  for (int s : table) ++n.at(static_cast<size_t>(s));
  return n;
}

}  // namespace

TEST_CASE("ring link: check() names what is out of range") {
  CHECK_NOTHROW(link(8, {8, 3}, {0, 1, 0}).check());
  auto bad = [](RingLinkConfig c, const char* says) { CHECK_THROWS_WITH_AS(c.check(), doctest::Contains(says), UserError); };
  RingLinkConfig c = link(8, {8}, {0});
  c.name = "2ring";
  bad(c, "ring link name '2ring' must be a Verilog identifier");
  c.name = "ring-0";
  bad(c, "ring link name 'ring-0' must be a Verilog identifier");
  bad(link(0, {8}, {0}), "0 lane bits per cycle, expected 1..65536");
  bad(link(8, {8}, {0}, 0), "a latency of 0 cycles, expected 1..2^32");
  bad(link(8, {}, {0}), "0 streams, expected 1..64");
  bad(link(8, {8, 0}, {0, 1}), "stream 1 has width 0 and 2 credits");
  bad(link(8, {8}, {0}, 1, 0), "stream 0 has width 8 and 0 credits");
  bad(link(8, {8}, {}), "the slot table has 0 slots, expected 1..64");
  bad(link(8, {8}, std::vector<int>(65, 0)), "the slot table has 65 slots, expected 1..64");
  bad(link(8, {8, 8}, {0, 0}), "stream 1 owns no slot of the table");
  bad(link(8, {8}, {0, 1}), "the slot table names stream 1, which it does not have");
  bad(link(8, {8}, {0, -1}), "the slot table names stream -1");
  // Sub-lanes: within the lane, each stream on one, none empty.
  RingLinkConfig sub = link(8, {3, 5}, {0});
  sub.sublanes = {{3, {0}}, {5, {1}}};
  CHECK_NOTHROW(sub.check());
  sub.sublanes = {{3, {0}}, {6, {1}}};
  bad(sub, "sub-lanes of 9 bits together on a lane of 8 bits");
  sub.sublanes = {{3, {0}}, {0, {1}}};
  bad(sub, "sub-lane 1 has 0 bits, expected at least 1");
  sub.sublanes = {{3, {0, 1}}, {5, {1}}};
  bad(sub, "stream 1 is named by two sub-lanes' slot tables");
  RingLinkConfig three = link(9, {3, 5, 1}, {0});
  three.sublanes = {{3, {0}}, {5, {1}}};
  bad(three, "stream 2 owns no slot of any sub-lane");
  sub.sublanes = {{3, {0}}, {5, {}}};
  bad(sub, "sub-lane 1's slot table has 0 slots");
  sub.sublanes = {{1, {0}}, {1, {1}}, {1, {1}}};
  bad(sub, "3 sub-lanes for 2 streams, expected 1..2");
}

TEST_CASE("ring link: streams side by side when their widths fit the lane, else time-shared") {
  using engines::RingSubLane;
  auto as_pairs = [](const std::vector<RingSubLane>& v) {
    std::vector<std::pair<int, std::vector<int>>> r;
    for (const RingSubLane& l : v) r.emplace_back(l.bits, l.slots);
    return r;
  };
  // 128 + 128 <= 347: each its own sub-lane of its width, one slot each.
  CHECK(as_pairs(engines::ring_sublanes(347, {128, 128}, {3136, 3136})) ==
        std::vector<std::pair<int, std::vector<int>>>{{128, {0}}, {128, {1}}});
  // Exactly the lane.
  CHECK(engines::ring_sublanes(10, {4, 6}, {1, 1}).size() == 2);
  // 224 + 224 > 347: one sub-lane of the lane, the slot table of their flits.
  const std::vector<RingSubLane> shared = engines::ring_sublanes(347, {224, 224}, {100, 300});
  REQUIRE(shared.size() == 1);
  CHECK(shared[0].bits == 347);
  CHECK(shared[0].slots == engines::ring_slot_table({100, 300}));
  // One stream: the whole lane, whatever its width.
  CHECK(as_pairs(engines::ring_sublanes(347, {8}, {5})) == std::vector<std::pair<int, std::vector<int>>>{{347, {0}}});

  // Side by side, each stream moves an element a cycle: flits, cycles and the timing follow.
  RingLinkConfig c = link(16, {5, 9}, {0});
  c.sublanes = engines::ring_sublanes(16, {5, 9}, {10, 10});
  c.check();
  CHECK(c.flits(0) == 1);
  CHECK(c.flits(1) == 1);
  CHECK(c.used_bits() == 14);
  CHECK(c.sublane_offset(1) == 5);
  CHECK(engines::ring_cycles_per_image(c, {100, 60}) == doctest::Approx(100));
  for (int s = 0; s < 2; ++s) {
    RingStreamTiming t(c, s);
    for (std::int64_t i = 0; i < 2; ++i) CHECK(t.take(i) == i + 2);  // a flit in the next cycle, latency 1
  }
  // Time-shared, the same streams move an element every other cycle each.
  const RingLinkConfig shared_link = link(16, {5, 9}, {0, 1});
  CHECK(engines::ring_cycles_per_image(shared_link, {100, 60}) == doctest::Approx(200));
}

TEST_CASE("ring link: flits, stream number width and lane bits") {
  const RingLinkConfig c = link(4, {1, 4, 5, 12, 13}, {0, 1, 2, 3, 4});
  CHECK(c.flits(0) == 1);
  CHECK(c.flits(1) == 1);
  CHECK(c.flits(2) == 2);
  CHECK(c.flits(3) == 3);
  CHECK(c.flits(4) == 4);
  CHECK(c.stream_bits() == 3);
  CHECK(link(4, {1}, {0}).stream_bits() == 1);
  CHECK(link(4, {1, 1}, {0, 1}).stream_bits() == 1);
  CHECK(link(4, {1, 1, 1}, {0, 1, 2}).stream_bits() == 2);
  // 5 GB/s at 100 MHz: 50 bytes = 400 bits per cycle; 1 MB/s: less than a bit, still one.
  CHECK(engines::ring_lane_bits(5e9, 100) == 400);
  CHECK(engines::ring_lane_bits(1.1e9, 200) == 44);
  CHECK(engines::ring_lane_bits(1.25e7, 100) == 1);
  CHECK_THROWS_WITH_AS(engines::ring_lane_bits(1e6, 100), doctest::Contains("under 1 bit per cycle"), UserError);
}

TEST_CASE("ring link: the slot table's shares follow the demand, each at least one") {
  CHECK(engines::ring_slot_table({}) == std::vector<int>{0});
  CHECK(engines::ring_slot_table({12345}) == std::vector<int>{0});
  // Hand-computed: 64 slots in proportion 1:1, 3:1, 1:2:5, and 100:1:1 (each at least one).
  CHECK(shares(engines::ring_slot_table({7, 7}), 2) == std::vector<int>{32, 32});
  CHECK(shares(engines::ring_slot_table({300, 100}), 2) == std::vector<int>{48, 16});
  CHECK(shares(engines::ring_slot_table({10, 20, 50}), 3) == std::vector<int>{8, 16, 40});
  CHECK(shares(engines::ring_slot_table({100, 1, 1}), 3) == std::vector<int>{62, 1, 1});
  CHECK(shares(engines::ring_slot_table({5, 0}), 2) == std::vector<int>{63, 1});
  CHECK_THROWS_AS(engines::ring_slot_table(std::vector<std::int64_t>(65, 1)), UserError);

  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 2 + static_cast<int>(rng() % 12);
    std::vector<std::int64_t> demand(static_cast<size_t>(n));
    for (auto& d : demand) d = 1 + static_cast<std::int64_t>(rng() % (trial % 2 ? 1000 : 20));
    const std::vector<int> table = engines::ring_slot_table(demand);
    INFO("trial " << trial);
    REQUIRE(table.size() <= 64);
    const std::vector<int> got = shares(table, n);
    const double total = static_cast<double>(std::accumulate(demand.begin(), demand.end(), std::int64_t{0}));
    const double period = static_cast<double>(table.size());
    bool tiny = false;  // a stream whose share would be under one slot takes one from the others
    for (int s = 0; s < n; ++s) tiny = tiny || period * static_cast<double>(demand[static_cast<size_t>(s)]) / total < 1;
    for (int s = 0; s < n; ++s) {
      const double ideal = period * static_cast<double>(demand[static_cast<size_t>(s)]) / total;
      INFO("stream " << s << " of " << n << ": " << got[static_cast<size_t>(s)] << " slots of " << period << ", ideal " << ideal);
      CHECK(got[static_cast<size_t>(s)] >= 1);
      if (!tiny) CHECK(std::abs(got[static_cast<size_t>(s)] - ideal) < 1.0);
      // Spread evenly: any m consecutive cycles (around the period) hold within two of
      // m x share / period of the stream's slots.
      double worst = 0;
      for (size_t start = 0; start < table.size(); ++start) {
        int owned = 0;
        for (size_t m = 1; m <= table.size(); ++m) {
          owned += table[(start + m - 1) % table.size()] == s;
          worst = std::max(worst, std::abs(owned - static_cast<double>(m) * got[static_cast<size_t>(s)] / period));
        }
      }
      CHECK(worst < 2.0);
    }
  }
}

TEST_CASE("ring link: owned_after agrees with a scan of the slot table") {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 4);
    // Each stream owns a slot, some more, in random order.
    std::vector<int> slots(static_cast<size_t>(n) + rng() % 9);
    for (size_t k = 0; k < slots.size(); ++k) slots[k] = k < static_cast<size_t>(n) ? static_cast<int>(k) : static_cast<int>(rng() % static_cast<std::uint64_t>(n));
    std::shuffle(slots.begin(), slots.end(), rng);
    const RingLinkConfig c = link(4, std::vector<int>(static_cast<size_t>(n), 8), slots);
    c.check();
    for (int s = 0; s < n; ++s) {
      const RingStreamTiming t(c, s);
      for (std::int64_t from : {std::int64_t{-1}, std::int64_t{0}, std::int64_t{1}, std::int64_t{5}, std::int64_t{37}, std::int64_t{1000003}}) {
        std::int64_t cycle = from, k = 0;
        while (k < 3 * static_cast<std::int64_t>(slots.size())) {
          ++cycle;
          if (slots[static_cast<size_t>(cycle % static_cast<std::int64_t>(slots.size()))] != s) continue;
          ++k;
          INFO("slots " << slots.size() << ", stream " << s << ", after " << from << ", k " << k);
          REQUIRE(t.owned_after(from, k) == cycle);
        }
      }
    }
  }
}

TEST_CASE("ring link: cycles per image of the busiest stream") {
  // Stream 0: 100 elements of 3 flits in 2 of 3 slots = 450 cycles; stream 1: 50 x 1 in 1 of 3 = 150.
  RingLinkConfig c = link(4, {10, 4}, {0, 1, 0});
  CHECK(engines::ring_cycles_per_image(c, {100, 50}) == doctest::Approx(450));
  CHECK(engines::ring_cycles_per_image(c, {100, 200}) == doctest::Approx(600));
  CHECK(engines::ring_cycles_per_image(c, {0, 0}) == doctest::Approx(0));
  c.sublanes = {{4, {0}}};
  c.streams.resize(1);
  CHECK(engines::ring_cycles_per_image(c, {7}) == doctest::Approx(21));
}

TEST_CASE("ring link: the timing of one stream, by hand") {
  // Stream 0 owns offsets 0 and 2 of a period of 4; 2 flits per element, latency 3, 2 credits.
  RingLinkConfig c = link(4, {8, 4, 4}, {0, 1, 0, 2}, 3, 2);
  RingStreamTiming t(c, 0);
  CHECK(t.earliest_take(0) == 0);
  CHECK(t.take(0) == 4 + 3);  // flits in cycles 2 and 4
  CHECK(t.earliest_take(1) == 4);  // the cycle of the last flit: the next element may be loaded in it
  CHECK(t.take(5) == 8 + 3);       // flits in cycles 6 and 8
  CHECK(t.sent() == 2);
  CHECK(t.earliest_take(9) == engines::kRingNever);  // both credits out, none back
  t.consume(9);                                      // element 0 leaves the FIFO in cycle 9
  CHECK(t.consumed() == 1);
  CHECK(t.earliest_take(0) == 9 + 3 + 1);
  CHECK(t.earliest_take(20) == 20);
  CHECK(t.take(13) == 16 + 3);  // flits in cycles 14 and 16
  CHECK(t.earliest_take(13) == engines::kRingNever);
  t.consume(11);
  CHECK(t.earliest_take(14) == 16);  // the credit (11 + 4 = 15) is back before the last flit (16)
  CHECK(t.flit_cycles() == 6);
  // One stream owning every cycle, one flit: an element per cycle as long as credits last.
  RingLinkConfig one = link(8, {8}, {0}, 1, 3);
  RingStreamTiming u(one, 0);
  for (std::int64_t i = 0; i < 3; ++i) {
    CHECK(u.earliest_take(i) == i);
    CHECK(u.take(i) == i + 2);
  }
  CHECK(u.earliest_take(3) == engines::kRingNever);
  u.consume(2);
  CHECK(u.earliest_take(3) == 4);
}

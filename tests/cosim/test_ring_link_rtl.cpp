// The ring link endpoints' RTL (engines/ring_link_rtl.cpp) under Verilator against the timing
// model (engines/ring_link.hpp), cycle for cycle. The sending and receiving endpoints, with a
// stream FIFO of `credits` elements behind each of the receiver's outputs, are one design; the
// channel between them is a C++ delay line of the link's latency each way (lane forward, credits
// back). Sources offer with random gaps, the FIFOs' consumers take with random backpressure, and
// the timing model is driven in lockstep with the same offers and takes: every element must be
// taken (tx handshake) and arrive (rx out valid) in the very cycle the model says, arrive
// bit-exact and in order, and the receiver must never see a full FIFO. Also: both endpoints lint
// clean, synthesize without latches, and their resource estimates are near Yosys synth_xilinx.
#include "dsl/errors.hpp"
#include "dsl/types.hpp"
#include "dsl/verilator_runner.hpp"
#include "dsl/verilog_writer.hpp"
#include "dsl/yosys_runner.hpp"
#include "engines/fifo.hpp"
#include "engines/ring_link.hpp"

#include <cmath>
#include <cstdlib>
#include <deque>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <random>

using namespace qdf;
using engines::RingLinkConfig;
using engines::RingStreamTiming;
using dsl::VerilogWidth;

namespace {

// A fixed seed, or $QDF_SEED to replay another.
std::uint64_t test_seed() {
  const char* env = std::getenv("QDF_SEED");
  if (!env || !*env) return 1;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (*end != '\0') throw UserError(fmt::format("QDF_SEED='{}': expected a decimal number", env));
  return v;
}

RingLinkConfig one_stream(int lane_bits, int width, std::int64_t credits) {
  return RingLinkConfig::time_shared(fmt::format("ring_w{}_l{}_c{}", width, lane_bits, credits), lane_bits, 1, {{width, credits}}, {0});
}

// Three streams of 2, 3 and 1 flits on a 4-bit lane, the slot table from their demand; small,
// round-trip (2 x 20 + 4) and middling credits.
RingLinkConfig three_streams() {
  return RingLinkConfig::time_shared("ring3", 4, 1, {{5, 3}, {12, 44}, {3, 8}}, engines::ring_slot_table({2 * 10, 3 * 10, 1 * 5}));
}

// Two streams of 5 and 9 bits side by side on a 16-bit lane, as the planner lays them out
// (engines::ring_sublanes): each its own sub-lane, an element every cycle.
RingLinkConfig side_by_side() {
  RingLinkConfig c = RingLinkConfig::time_shared("ring_side", 16, 1, {{5, 6}, {9, 44}}, {0});
  c.sublanes = engines::ring_sublanes(16, {5, 9}, {1, 1});
  return c;
}

// Two sub-lanes of a 12-bit lane: streams 0 and 2 time-shared on the first 4 bits (2 and 1
// flits, slots by demand), stream 1 alone on the next 6 (2 flits).
RingLinkConfig mixed_sublanes() {
  RingLinkConfig c = RingLinkConfig::time_shared("ring_mixed", 12, 1, {{7, 5}, {11, 44}, {4, 3}}, {0});
  std::vector<int> shared = engines::ring_slot_table({2 * 10, 1 * 5});
  for (int& s : shared) s = s ? 2 : 0;
  c.sublanes = {{4, shared}, {6, {1}}};
  return c;
}

// The design the harness drives: tx, rx, and a FIFO of `credits` elements behind each of rx's
// outputs; the lane and the credits come out and go in again through the harness's channel.
struct Bench {
  std::vector<dsl::VerilogModule> modules;
  std::vector<dsl::DesignPort> ports;
};

Bench ring_bench(const RingLinkConfig& c) {
  const int n = static_cast<int>(c.streams.size()), L = c.used_bits(), G = static_cast<int>(c.sublanes.size());
  const int sb = c.lane_stream_bits();
  Bench b;
  dsl::VerilogModuleWriter v(c.name + "_bench");
  v.comment("Test bench of ring link " + c.name + ": tx, rx and a link FIFO per stream; the channel is the harness's.");
  auto in = [&](const std::string& name, int w) {
    v.input(name, VerilogWidth::vec(w));
    b.ports.push_back({name, w, false});
  };
  auto out = [&](const std::string& name, int w) {
    v.output(name, VerilogWidth::vec(w));
    b.ports.push_back({name, w, true});
  };
  v.input("clk", VerilogWidth::bit());
  in("rst", 1);
  for (int s = 0; s < n; ++s) {
    in(fmt::format("in{}_data", s), c.streams[static_cast<size_t>(s)].width);
    in(fmt::format("in{}_valid", s), 1);
    out(fmt::format("in{}_ready", s), 1);
  }
  out("tx_lane_data", L);
  out("tx_lane_valid", G);
  out("tx_lane_stream", sb);
  in("tx_credit", n);
  in("rx_lane_data", L);
  in("rx_lane_valid", G);
  in("rx_lane_stream", sb);
  out("rx_credit", n);
  for (int s = 0; s < n; ++s) {
    out(fmt::format("arrive{}", s), 1);
    out(fmt::format("out{}_data", s), c.streams[static_cast<size_t>(s)].width);
    out(fmt::format("out{}_valid", s), 1);
    in(fmt::format("out{}_ready", s), 1);
  }
  out("overflow", 1);

  v.wire(VerilogWidth::vec(n), "taken");
  std::vector<dsl::VerilogConnection> tx = {{"clk", "clk"}, {"rst", "rst"}};
  std::vector<dsl::VerilogConnection> rx = {{"clk", "clk"},
                                            {"rst", "rst"},
                                            {"lane_data", "rx_lane_data"},
                                            {"lane_valid", "rx_lane_valid"},
                                            {"lane_stream", "rx_lane_stream"}};
  b.modules.push_back({});  // the bench, written last
  for (int s = 0; s < n; ++s) {
    const int W = c.streams[static_cast<size_t>(s)].width;
    v.wire(VerilogWidth::vec(W), fmt::format("rx{}_data", s));
    v.wire(VerilogWidth::bit(), fmt::format("rx{}_valid, rx{}_ready", s, s));
    for (auto& x : dsl::stream_connections(fmt::format("in{}", s), fmt::format("in{}", s))) tx.push_back(x);
    for (auto& x : dsl::stream_connections(fmt::format("out{}", s), fmt::format("rx{}", s))) rx.push_back(x);
    engines::FifoConfig f{.width = W, .depth = static_cast<int>(c.streams[static_cast<size_t>(s)].credits - 1),
                          .name = fmt::format("{}_fifo{}", c.name, s)};
    REQUIRE(f.capacity() == c.streams[static_cast<size_t>(s)].credits);
    b.modules.push_back(engines::fifo_module(f));
    std::vector<dsl::VerilogConnection> fc = {{"clk", "clk"}, {"rst", "rst"}, {"images", "32'd0"}, {"done", ""}};
    for (auto& x : dsl::stream_connections("in", fmt::format("rx{}", s))) fc.push_back(x);
    for (auto& x : dsl::stream_connections("out", fmt::format("out{}", s))) fc.push_back(x);
    v.instance(f.name, fmt::format("fifo{}", s), fc);
    v.line(fmt::format("  assign arrive{0} = rx{0}_valid;", s));
    v.line(fmt::format("  assign taken[{0}] = out{0}_valid && out{0}_ready;", s));
  }
  for (auto x : std::vector<dsl::VerilogConnection>{
           {"lane_data", "tx_lane_data"}, {"lane_valid", "tx_lane_valid"}, {"lane_stream", "tx_lane_stream"}, {"credit", "tx_credit"}})
    tx.push_back(x);
  rx.push_back({"taken", "taken"});
  rx.push_back({"credit", "rx_credit"});
  rx.push_back({"overflow", "overflow"});
  b.modules.push_back(engines::ring_tx_module(c));
  b.modules.push_back(engines::ring_rx_module(c));
  v.instance(c.name + "_tx", "tx", tx);
  v.instance(c.name + "_rx", "rx", rx);
  b.modules[0].top = v.name();
  b.modules[0].verilog = v.text();
  return b;
}

struct RunOptions {
  std::int64_t latency = 1;
  std::int64_t elements = 200;  // per stream
  double gap = 0.3;             // probability that a source offers nothing in a cycle
  double stall = 0.3;           // probability that a FIFO's consumer does not take in a cycle
};

struct RunResult {
  std::vector<std::vector<std::int64_t>> takes;  // per stream, the cycle each element was taken
  std::int64_t cycles = 0;
};

// Drives the bench for one run; every disagreement with the model fails the test case. The run's
// random choices derive from the test's seed and the run's options.
RunResult run_link(dsl::VerilatedDesign& rtl, const RingLinkConfig& cfg, const RunOptions& o, std::uint64_t seed) {
  RingLinkConfig c = cfg;
  c.latency = o.latency;
  c.check();
  const int n = static_cast<int>(c.streams.size());
  INFO(fmt::format("ring link {} with latency {}, gaps {}, stalls {}; seed {} (QDF_SEED={} replays it)", c.name, c.latency, o.gap, o.stall,
                   seed, seed));
  std::seed_seq seeds{seed & 0xffffffff, seed >> 32, static_cast<std::uint64_t>(o.latency), static_cast<std::uint64_t>(o.gap * 1000),
                      static_cast<std::uint64_t>(o.stall * 1000)};
  std::mt19937_64 rng(seeds);
  std::uniform_real_distribution<double> coin(0.0, 1.0);

  struct Stream {
    int in_data, in_valid, in_ready, arrive, out_data, out_valid, out_ready;
    std::vector<std::uint64_t> values;
    std::int64_t next = 0, received = 0;
    std::deque<std::int64_t> arrivals;  // the model's arrival cycles of elements taken, not yet arrived
    std::int64_t arrived = 0;
    RingStreamTiming model;
  };
  std::vector<Stream> st;
  for (int s = 0; s < n; ++s) {
    const int W = c.streams[static_cast<size_t>(s)].width;
    REQUIRE(W <= 64);
    Stream x{rtl.port(fmt::format("in{}_data", s)), rtl.port(fmt::format("in{}_valid", s)), rtl.port(fmt::format("in{}_ready", s)),
             rtl.port(fmt::format("arrive{}", s)), rtl.port(fmt::format("out{}_data", s)), rtl.port(fmt::format("out{}_valid", s)),
             rtl.port(fmt::format("out{}_ready", s)), {}, 0, 0, {}, 0, RingStreamTiming(c, s)};
    const std::uint64_t mask = W == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << W) - 1;
    for (std::int64_t i = 0; i < o.elements; ++i) x.values.push_back(rng() & mask);
    st.push_back(std::move(x));
  }
  const int rst = rtl.port("rst"), tx_data = rtl.port("tx_lane_data"), tx_valid = rtl.port("tx_lane_valid"),
            tx_stream = rtl.port("tx_lane_stream"), tx_credit = rtl.port("tx_credit"), rx_data = rtl.port("rx_lane_data"),
            rx_valid = rtl.port("rx_lane_valid"), rx_stream = rtl.port("rx_lane_stream"), rx_credit = rtl.port("rx_credit"),
            overflow = rtl.port("overflow");

  // Reset with nothing moving; cycle 0 is the first after it.
  rtl.set(rst, 1);
  for (const Stream& x : st) {
    rtl.set(x.in_valid, 0);
    rtl.set(x.out_ready, 0);
  }
  rtl.set(tx_credit, 0);
  rtl.set(rx_valid, 0);
  for (int i = 0; i < 3; ++i) {
    rtl.eval();
    rtl.cycle();
  }
  rtl.set(rst, 0);

  struct Flit {
    std::uint64_t data = 0, valid = 0, stream = 0;
  };
  std::deque<Flit> lane(static_cast<size_t>(c.latency));               // lane[0] reaches rx in this cycle
  std::deque<std::uint64_t> credits(static_cast<size_t>(c.latency), 0);  // credits[0] reaches tx in this cycle
  RunResult r;
  r.takes.resize(static_cast<size_t>(n));
  const std::int64_t limit = 1000 + o.elements * 64 * 8 * (1 + c.latency);
  std::int64_t cycle = 0;
  auto done = [&] {
    for (const Stream& x : st)
      if (x.received < o.elements) return false;
    return true;
  };
  for (; !done(); ++cycle) {
    REQUIRE_MESSAGE(cycle < limit, fmt::format("no progress after {} cycles", cycle));
    std::vector<bool> offered(static_cast<size_t>(n));
    for (int s = 0; s < n; ++s) {
      Stream& x = st[static_cast<size_t>(s)];
      offered[static_cast<size_t>(s)] = x.next < o.elements && coin(rng) >= o.gap;
      rtl.set(x.in_valid, offered[static_cast<size_t>(s)]);
      rtl.set(x.in_data, x.next < o.elements ? x.values[static_cast<size_t>(x.next)] : 0);
      rtl.set(x.out_ready, coin(rng) >= o.stall);
    }
    rtl.set(tx_credit, credits.front());
    rtl.set(rx_valid, lane.front().valid);
    rtl.set(rx_data, lane.front().data);
    rtl.set(rx_stream, lane.front().stream);
    credits.pop_front();
    lane.pop_front();
    rtl.eval();

    for (int s = 0; s < n; ++s) {
      Stream& x = st[static_cast<size_t>(s)];
      INFO(fmt::format("stream {}, cycle {}", s, cycle));
      // The take: the model's word against the RTL's handshake.
      const bool model_take = offered[static_cast<size_t>(s)] && x.model.earliest_take(cycle) == cycle;
      const bool rtl_take = offered[static_cast<size_t>(s)] && rtl.get(x.in_ready);
      if (model_take != rtl_take)
        FAIL(fmt::format("element {} offered: the model {} it (its earliest take: {}), the RTL {} it", x.next,
                         model_take ? "takes" : "does not take",
                         x.model.earliest_take(cycle) == engines::kRingNever ? std::string("waits for a credit")
                                                                              : fmt::format("cycle {}", x.model.earliest_take(cycle)),
                         rtl_take ? "takes" : "does not take"));
      if (rtl_take) {
        x.arrivals.push_back(x.model.take(cycle));
        r.takes[static_cast<size_t>(s)].push_back(cycle);
        ++x.next;
      }
      // The arrival at the receiving end.
      const bool rtl_arrives = rtl.get(x.arrive) != 0;
      const bool model_arrives = !x.arrivals.empty() && x.arrivals.front() == cycle;
      if (!x.arrivals.empty() && x.arrivals.front() < cycle) FAIL(fmt::format("element {} has not arrived in cycle {} as the model says",
                                                                                x.arrived, x.arrivals.front()));
      if (rtl_arrives != model_arrives)
        FAIL(fmt::format("element {}: the RTL {} it in this cycle, the model {}", x.arrived, rtl_arrives ? "offers" : "does not offer",
                         x.arrivals.empty() ? std::string("has nothing in flight") : fmt::format("in cycle {}", x.arrivals.front())));
      if (model_arrives) {
        x.arrivals.pop_front();
        ++x.arrived;
      }
      // The FIFO's consumer: the value, bit-exact and in order, and the credit back to the model.
      if (rtl.get(x.out_valid) && rtl.get(x.out_ready)) {
        REQUIRE(x.received < x.next);
        const std::uint64_t want = x.values[static_cast<size_t>(x.received)], got = rtl.get(x.out_data);
        if (got != want) FAIL(fmt::format("element {} arrived as {:#x}, sent as {:#x}", x.received, got, want));
        x.model.consume(cycle);
        ++x.received;
      }
    }
    if (rtl.get(overflow)) FAIL(fmt::format("the receiver offered an element to a full FIFO by cycle {}", cycle));
    lane.push_back({rtl.get(tx_data), rtl.get(tx_valid), rtl.get(tx_stream)});
    credits.push_back(rtl.get(rx_credit));
    rtl.cycle();
  }
  r.cycles = cycle;
  return r;
}

struct Case {
  const char* what;
  RingLinkConfig link;
};

std::vector<Case> cases() {
  return {{"one stream, one flit (6 bits on an 8-bit lane), round-trip credits for latency 20", one_stream(8, 6, 44)},
          {"one stream, three flits (10 bits on a 4-bit lane), 3 credits", one_stream(4, 10, 3)},
          {"three streams of 2, 3 and 1 flits, slot table by demand, 3, 44 and 8 credits", three_streams()},
          {"two streams side by side on sub-lanes of their widths, 6 and 44 credits", side_by_side()},
          {"two sub-lanes, one time-shared by two streams, one of a stream of two flits", mixed_sublanes()}};
}

}  // namespace

TEST_CASE("ring link RTL: takes and arrivals are the timing model's, cycle for cycle") {
  const std::uint64_t seed = test_seed();
  for (const Case& k : cases()) {
    SUBCASE(k.what) {
      const Bench b = ring_bench(k.link);
      const dsl::BuiltLibrary lib = dsl::verilator_build_library(b.modules, b.ports);
      dsl::VerilatedDesign rtl(lib);
      for (std::int64_t latency : {1, 20}) {
        run_link(rtl, k.link, {.latency = latency}, seed);
        // A slow consumer: the credits run out.
        run_link(rtl, k.link, {.latency = latency, .gap = 0.1, .stall = 0.7}, seed);
        // With neither gaps nor backpressure too, where credits and slots alone set the pace.
        run_link(rtl, k.link, {.latency = latency, .gap = 0, .stall = 0}, seed);
      }
    }
  }
}

TEST_CASE("ring link RTL: full rate with round-trip credits, and credit-bound with few") {
  // Independent of the model: one stream owning every cycle, one flit per element, and 44 =
  // 2 x 20 + 4 credits (a credit comes back 2 x latency + 4 cycles after its element was taken:
  // a flit and latency there, two cycles through the FIFO, latency back, usable a cycle later)
  // takes an element in every cycle; with latency 21 it runs out of credits and must wait.
  const RingLinkConfig c = one_stream(8, 6, 44);
  const Bench b = ring_bench(c);
  dsl::VerilatedDesign rtl(dsl::verilator_build_library(b.modules, b.ports));
  const RunResult full = run_link(rtl, c, {.latency = 20, .elements = 300, .gap = 0, .stall = 0}, test_seed());
  for (std::int64_t i = 0; i < 300; ++i) REQUIRE(full.takes[0][static_cast<size_t>(i)] == i);
  const RunResult slow = run_link(rtl, c, {.latency = 21, .elements = 300, .gap = 0, .stall = 0}, test_seed());
  // The first 44 elements in cycles 0..43; the 45th waits for the first credit, back in cycle 2 x 21 + 4.
  CHECK(slow.takes[0][43] == 43);
  CHECK(slow.takes[0][44] == 2 * 21 + 4);
  CHECK(slow.takes[0][299] > 299);
}

TEST_CASE("ring link RTL: both endpoints lint clean, synthesize without latches, and match their resource estimates") {
  std::vector<RingLinkConfig> links;
  for (const Case& k : cases()) links.push_back(k.link);
  // Also a slot table of exactly 64 slots for 2 streams (a full case), and a lane wider than a stream.
  links.push_back(RingLinkConfig::time_shared("ring2", 16, 1, {{9, 5}, {40, 4}}, engines::ring_slot_table({1, 3})));
  for (const RingLinkConfig& c : links) {
    for (bool tx : {true, false}) {
      const dsl::VerilogModule m = tx ? engines::ring_tx_module(c) : engines::ring_rx_module(c);
      INFO(m.top);
      const std::string lint = dsl::verilator_lint(m);
      INFO(lint);
      CHECK(lint.empty());
      const dsl::SynthResult r = dsl::yosys_synth(m, dsl::SynthFlow::Xilinx);
      INFO(r.log.substr(r.log.size() > 3000 ? r.log.size() - 3000 : 0));
      REQUIRE(r.ok);
      CHECK(r.latches == 0);
      const dsl::Resources est = tx ? engines::ring_tx_resources(c) : engines::ring_rx_resources(c);
      MESSAGE(fmt::format("{}: LUT model {:.0f}, Yosys synth_xilinx {}; FF model {:.0f}, Yosys {}", m.top, est.lut, r.lut_equivalents(),
                          est.ff, r.count_prefix("FD")));
      CHECK(est.ff == doctest::Approx(r.count_prefix("FD")));
      CHECK(std::abs(est.lut - r.lut_equivalents()) <= 0.35 * r.lut_equivalents() + 5);
    }
  }
}

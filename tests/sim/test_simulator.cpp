// The simulator on its own: timing against the plan's analytical prediction, determinism,
// values against the reference model (host/reference/, which shares no code with the engines or
// the simulator), and planted deadlocks.
#include "engines/ring_link.hpp"
#include "host/reference/reference_model.hpp"
#include "manager/plan.hpp"
#include "sim/engine_schedule.hpp"
#include "sim/graph_values.hpp"
#include "sim/simulator.hpp"
#include "sim/thread_pool.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <random>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::manager;

namespace {

Plan plan_for(const std::string& net, int fpgas, double fps) {
  const Net& n = builtin_net(net).net;
  PlanOptions o;
  o.fpgas = fpgas;
  o.device = device("zynq");
  o.fps = fps;
  return plan_network(n, random_weights(n, 11), o);
}

}  // namespace

TEST_CASE("simulator: sfc runs at the plan's predicted rate, the same every run") {
  const Plan p = plan_for("sfc", 1, 20000);
  const auto imgs = sim::random_images(p.graph, 4, 3);
  sim::SimResult a = sim::simulate(p, imgs);
  sim::SimResult b = sim::simulate(p, imgs);
  MESSAGE(fmt::format("sfc: predicted {} cycles/image, simulated {:.1f}, latency {}", p.cycles_per_image,
                      a.timing.cycles_per_image, a.timing.latency_cycles));
  CHECK(a.timing.images == 4);
  CHECK(a.timing.cycles_per_image >= 0.98 * static_cast<double>(p.cycles_per_image));
  CHECK(a.timing.cycles_per_image <= 1.3 * static_cast<double>(p.cycles_per_image));
  CHECK(a.timing.latency_cycles > a.timing.cycles_per_image);
  CHECK(a.times.received_digest() == b.times.received_digest());
  CHECK(a.outputs == b.outputs);
  REQUIRE(a.outputs.size() == 4);
  const Net& n = builtin_net("sfc").net;
  for (size_t i = 0; i < imgs.size(); ++i) CHECK(a.outputs[i] == host::reference_forward(n, random_weights(n, 11), imgs[i]));
}

TEST_CASE("simulator: an MVTU's schedule reads at the first row group and writes after its pipeline latency") {
  const Plan p = plan_for("sfc", 1, 20000);
  for (const Engine& e : p.graph.engines) {
    if (!e.is<engines::MvtuConfig>()) continue;
    const auto& c = std::get<engines::MvtuConfig>(e.config);
    auto s = sim::engine_schedule(p.graph, e);
    CAPTURE(e.name);
    CHECK(s->period == static_cast<std::int64_t>(c.nf()) * c.sf());
    for (std::int64_t u = 0; u < s->period; ++u) {
      const std::int64_t nf = u / c.sf(), sf = u % c.sf();
      CHECK(s->in_pattern[static_cast<size_t>(u)] == (nf == 0 ? 1 : 0));
      CHECK(s->out_pattern[static_cast<size_t>(u)] == (sf == c.sf() - 1 ? 1 : 0));
    }
    CHECK(s->latency > 0);
  }
}

namespace {

// Timing-only runs of `p` with the FIFO `fifo` at `depth`: true when it finishes, false when it deadlocks.
bool runs_with_depth(const Plan& p, const std::string& fifo, int depth, std::string* report) {
  Plan q = p;
  for (Engine& e : q.graph.engines)
    if (e.name == fifo) std::get<engines::FifoConfig>(e.config).depth = depth;
  sim::SimOptions o;
  o.timing_only = true;
  o.images = 2;
  try {
    sim::simulate(q, {}, o);
    return true;
  } catch (const sim::DeadlockError& err) {
    if (report) *report = err.what();
    return false;
  }
}

}  // namespace

TEST_CASE("simulator: a skip FIFO one element too small deadlocks, and the report names the cycle of streams") {
  const Plan p = plan_for("resnet-mini", 1, 2000);
  for (const char* fifo : {"res1_skip_fifo", "res2_skip_fifo"}) {
    CAPTURE(fifo);
    int planned = 0;
    for (const Engine& e : p.graph.engines)
      if (e.name == fifo) planned = std::get<engines::FifoConfig>(e.config).depth;
    REQUIRE(planned > 0);
    REQUIRE(runs_with_depth(p, fifo, planned, nullptr));
    // The least depth that runs, by bisection (a deeper FIFO never deadlocks where a shallower one runs).
    int lo = 1, hi = planned;
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (runs_with_depth(p, fifo, mid, nullptr)) hi = mid;
      else lo = mid + 1;
    }
    MESSAGE(fmt::format("{}: the plan gives depth {}, the least that runs is {}", fifo, planned, lo));
    REQUIRE(lo > 1);
    std::string report;
    CHECK_FALSE(runs_with_depth(p, fifo, lo - 1, &report));
    INFO(report);
    const std::string block = std::string(fifo).substr(0, 4);
    CHECK(report.find("deadlock") != std::string::npos);
    CHECK(report.find(fmt::format("FIFO {}: holds {} of its capacity {}", fifo, lo, lo)) != std::string::npos);
    CHECK(report.find(block + "_fork waits for room") != std::string::npos);
    CHECK(report.find(block + "_add waits for element") != std::string::npos);
    CHECK(report.find("(empty)") != std::string::npos);
  }
}

TEST_CASE("simulator: resnet-mini on 2 FPGAs, values through the whole graph, FIFO peaks within capacity") {
  const Plan p = plan_for("resnet-mini", 2, 2000);
  const auto imgs = sim::random_images(p.graph, 3, 5);
  sim::SimResult r = sim::simulate(p, imgs);
  MESSAGE(fmt::format("resnet-mini: predicted {} cycles/image, simulated {:.1f}, latency {}", p.cycles_per_image,
                      r.timing.cycles_per_image, r.timing.latency_cycles));
  CHECK(r.timing.images == 3);
  const Net& n = builtin_net("resnet-mini").net;
  const ModelWeights w = random_weights(n, 11);
  for (size_t i = 0; i < imgs.size(); ++i) CHECK(r.outputs[i] == host::reference_forward(n, w, imgs[i]));
  for (const auto& f : r.fifos) {
    CAPTURE(f.name);
    CHECK(f.peak >= 1);
    CHECK(f.peak <= f.capacity);
  }
  REQUIRE(r.links.size() == 3);
  for (const auto& l : r.links) CHECK(l.utilization > 0);
}

TEST_CASE("simulator: with the manager's input FIFOs, the steady state is the plan's prediction (within 2%)") {
  struct Case {
    const char* net;
    int fpgas;
    double fps;
    int images;
  };
  for (const Case& c : {Case{"sfc", 2, 20000, 12}, Case{"cnv-w1a2", 1, 200, 24}, Case{"cnv-w1a2", 2, 2000, 24},
                        Case{"resnet-mini", 2, 2000, 12}}) {
    CAPTURE(c.net);
    CAPTURE(c.fpgas);
    const Plan p = plan_for(c.net, c.fpgas, c.fps);
    sim::SimOptions o;
    o.timing_only = true;
    o.images = c.images;
    const sim::SimResult r = sim::simulate(p, {}, o);
    MESSAGE(fmt::format("{} on {}: plan {} cycles/image, simulated {:.1f}", c.net, c.fpgas, p.cycles_per_image, r.timing.cycles_per_image));
    CHECK(std::abs(r.timing.cycles_per_image / static_cast<double>(p.cycles_per_image) - 1) <= 0.02);
  }
}

TEST_CASE("simulator: streams sharing a ring lane by slots keep the planned rate, their producers' bursts held in send FIFOs") {
  // ResNet-18 at its highest throughput on 8 Stratix V with 3 GB/s ring links (a lane of 208
  // bits): the cut inside res2a puts its main and skip streams, 128 bits each, on one link, not
  // side by side, so each has half the slots, 98% of what it needs. The max pool before the block
  // gives a row of outputs in half the cycles of two input rows; without a send FIFO of a row the
  // simulator measured 9,018 cycles per image against the planned 6,385.
  const Net& n = builtin_net("resnet18").net;
  PlanOptions o;
  o.device = device("stratix");
  o.fpgas = 8;
  o.ring.bandwidth = 3e9;
  const Plan p = plan_network(n, random_weights(n, 1), o);
  int shared = 0;
  for (const LinkUse& l : p.links) {
    if (l.kind != "ring") continue;
    for (int k = 0; k < static_cast<int>(l.streams.size()); ++k) {
      const StreamEdge& s = p.graph.streams[static_cast<size_t>(l.streams[static_cast<size_t>(k)])];
      const Engine& from = p.graph.engines.at(static_cast<size_t>(s.from));
      INFO(l.name << " stream " << k << " from " << from.name);
      CHECK(from.fpga == l.from_fpga);
      // A send FIFO of a row exactly where the link moves under an element a cycle.
      const bool slow = engines::ring_stream_rate(l.ring, k) < 1;
      CHECK((from.is<engines::FifoConfig>() && from.name.find("send") != std::string::npos) == slow);
      if (slow) CHECK(engines::buffer_capacity(from.config) >= s.row_elements);
      shared += l.ring.sublanes.size() == 1 && l.streams.size() > 1;
    }
  }
  CHECK(shared >= 2);
  sim::SimOptions so;
  so.timing_only = true;
  so.images = 12;
  const sim::SimResult r = sim::simulate(p, {}, so);
  MESSAGE(fmt::format("resnet18 on 8 FPGAs at 3 GB/s: plan {} cycles/image, simulated {:.1f}", p.cycles_per_image, r.timing.cycles_per_image));
  CHECK(std::abs(r.timing.cycles_per_image / static_cast<double>(p.cycles_per_image) - 1) <= 0.02);
}

TEST_CASE("simulator: values and cycles are the same on 1 and on 4 threads, and equal the reference model") {
  const Plan p = plan_for("resnet-mini", 2, 2000);
  const auto imgs = sim::random_images(p.graph, 7, 21);
  sim::SimOptions one, four;
  one.threads = 1;
  four.threads = 4;
  const sim::SimResult a = sim::simulate(p, imgs, one), b = sim::simulate(p, imgs, four);
  REQUIRE(a.outputs.size() == imgs.size());
  CHECK(a.outputs == b.outputs);
  CHECK(a.timing.total_cycles == b.timing.total_cycles);
  CHECK(a.timing.latency_cycles == b.timing.latency_cycles);
  const Net& n = builtin_net("resnet-mini").net;
  const ModelWeights w = random_weights(n, 11);
  for (size_t i = 0; i < imgs.size(); ++i) CHECK(b.outputs[i] == host::reference_forward(n, w, imgs[i]));
}

TEST_CASE("thread pool: every index once, the lowest failing index's error whatever the threads, bad counts refused") {
  for (int threads : {1, 2, 5}) {
    std::vector<int> hits(37, 0);
    sim::parallel_for(37, threads, [&](int i) { ++hits[static_cast<size_t>(i)]; });
    CHECK(std::count(hits.begin(), hits.end(), 1) == 37);
    std::string what;
    try {
      sim::parallel_for(37, threads, [](int i) {
        if (i == 9 || i == 30) throw UserError(fmt::format("image {}", i));
      });
    } catch (const UserError& e) {
      what = e.what();
    }
    CAPTURE(threads);
    CHECK(what == "image 9");
  }
  CHECK(sim::resolve_threads(0) >= 1);
  CHECK(sim::resolve_threads(3) == 3);
  CHECK_THROWS_WITH_AS(sim::resolve_threads(-1), doctest::Contains("--threads must be 0 (every core) or 1 .. 256, not -1"), UserError);
  CHECK_THROWS_AS(sim::resolve_threads(sim::kMaxThreads + 1), UserError);
}

TEST_CASE("HostTimes: the streamed figures are those of the whole lists of cycles") {
  // Random cycles for 3 input and 2 output elements per image; the figures computed here from
  // the whole lists, naively, as a run's timing is defined (run_timing.hpp).
  std::mt19937_64 rng(7);
  for (int images : {1, 2, 5, 40}) {
    CAPTURE(images);
    std::vector<std::int64_t> sent, received;
    std::int64_t c = 5;
    for (int i = 0; i < 3 * images; ++i) sent.push_back(c += 1 + static_cast<std::int64_t>(rng() % 4));
    c = 50;
    for (int i = 0; i < 2 * images; ++i) received.push_back(c += 1 + static_cast<std::int64_t>(rng() % 9));
    sim::HostTimes t(3, 2);
    for (std::int64_t s : sent) t.sent(s);
    for (std::int64_t r : received) t.received(r);
    const sim::RunTiming got = t.timing();
    std::vector<std::int64_t> gaps;
    for (int i = 1; i < images; ++i) gaps.push_back(received[static_cast<size_t>(2 * i + 1)] - received[static_cast<size_t>(2 * i - 1)]);
    std::sort(gaps.begin(), gaps.end());
    double median = static_cast<double>(received[1] - sent[0] + 1);
    if (!gaps.empty())
      median = gaps.size() % 2 ? static_cast<double>(gaps[gaps.size() / 2])
                               : (static_cast<double>(gaps[gaps.size() / 2 - 1]) + static_cast<double>(gaps[gaps.size() / 2])) / 2;
    CHECK(got.images == images);
    CHECK(got.latency_cycles == received[1] - sent[0] + 1);
    CHECK(got.total_cycles == received.back() + 1);
    CHECK(got.cycles_per_image == median);
    CHECK(t.sent_count() == 3 * images);
    CHECK(t.received_count() == 2 * images);
  }
}

TEST_CASE("simulator: a run past its cycle limit stops with an error naming the limit") {
  const Plan p = plan_for("sfc", 1, 20000);  // about 4,096 cycles per image
  sim::SimOptions o;
  o.timing_only = true;
  o.images = 8;
  o.max_cycles = 10'000;
  CHECK_THROWS_WITH_AS(sim::simulate(p, {}, o), doctest::Contains("passed its cycle limit, --max-cycles 10000"), UserError);
  o.max_cycles = 1'000'000;
  const sim::SimResult r = sim::simulate(p, {}, o);
  CHECK(r.timing.images == 8);
  CHECK(r.timing.total_cycles <= 1'000'000);
}

namespace {

// Every figure of two runs of the same design: equal, field by field.
void check_same_run(const sim::SimResult& a, const sim::SimResult& b) {
  CHECK(a.timing.images == b.timing.images);
  CHECK(a.timing.cycles_per_image == b.timing.cycles_per_image);
  CHECK(a.timing.latency_cycles == b.timing.latency_cycles);
  CHECK(a.timing.total_cycles == b.timing.total_cycles);
  CHECK(a.times.sent_count() == b.times.sent_count());
  CHECK(a.times.received_count() == b.times.received_count());
  CHECK(a.times.sent_digest() == b.times.sent_digest());
  CHECK(a.times.received_digest() == b.times.received_digest());
  CHECK(a.events == b.events);
  CHECK(a.outputs == b.outputs);
  REQUIRE(a.engines.size() == b.engines.size());
  for (size_t i = 0; i < a.engines.size(); ++i) {
    CAPTURE(a.engines[i].name);
    CHECK(a.engines[i].busy == b.engines[i].busy);
    CHECK(a.engines[i].stalled_input == b.engines[i].stalled_input);
    CHECK(a.engines[i].stalled_output == b.engines[i].stalled_output);
  }
  REQUIRE(a.fifos.size() == b.fifos.size());
  for (size_t i = 0; i < a.fifos.size(); ++i) {
    CAPTURE(a.fifos[i].name);
    CHECK(a.fifos[i].peak == b.fifos[i].peak);
  }
  REQUIRE(a.links.size() == b.links.size());
  for (size_t i = 0; i < a.links.size(); ++i) {
    CAPTURE(a.links[i].name);
    CHECK(a.links[i].elements == b.links[i].elements);
    CHECK(a.links[i].utilization == b.links[i].utilization);
  }
}

}  // namespace

TEST_CASE("simulator: moving over the steady state gives every figure of simulating each image") {
  struct Case {
    const char* net;
    int fpgas;
    const char* dev;
    double fps;
    double host_gbps;  // 0: the default host link
    int images;
    bool values;
  };
  // One FPGA and several (ring links, a cut inside a residual block's FIFOs), slow foldings and
  // the highest throughput, and a host link slow enough to bound the rate, its elements taking a
  // fraction of a cycle that does not add up to whole cycles.
  for (const Case& c : {Case{"cnv", 1, "stratix", 0, 0, 40, true}, Case{"cnv", 3, "stratix", 0, 0, 30, false},
                        Case{"resnet-mini", 2, "zynq", 2000, 0, 30, true}, Case{"cnv-w1a2", 1, "zynq", 2000, 0, 24, false},
                        Case{"cnv", 1, "stratix", 0, 0.5, 30, false}}) {
    CAPTURE(c.net);
    CAPTURE(c.fpgas);
    CAPTURE(c.fps);
    CAPTURE(c.host_gbps);
    const Net& n = builtin_net(c.net).net;
    PlanOptions o;
    o.fpgas = c.fpgas;
    o.device = device(c.dev);
    o.fps = c.fps;
    if (c.host_gbps > 0) o.host.bandwidth = c.host_gbps * 1e9;
    const Plan p = plan_network(n, random_weights(n, 11), o);
    std::vector<std::vector<std::int64_t>> imgs;
    sim::SimOptions every, moved;
    if (c.values) imgs = sim::random_images(p.graph, c.images, 9);
    else every.timing_only = true, every.images = c.images;
    every.steady_state_skip = false;
    moved = every;
    moved.steady_state_skip = true;
    const sim::SimResult a = sim::simulate(p, imgs, every), b = sim::simulate(p, imgs, moved);
    MESSAGE(fmt::format("{} on {} FPGA(s), {} images: {:.1f} cycles per image, {} images moved over", c.net, c.fpgas, c.images,
                        b.timing.cycles_per_image, b.images_moved));
    CHECK(a.images_moved == 0);
    CHECK(b.images_moved > 0);  // each of these designs reaches its steady state well before its last image
    check_same_run(a, b);
  }
}

// A whole planned design under Verilator (host/rtl/rtl_harness.hpp): sfc at a small folding, on one
// FPGA and on two joined by a ring link, runs twelve random images; the labels come back, the
// cycles per image are the plan's, runs repeat exactly, and the two partitions agree.
#include "dsl/errors.hpp"
#include "dsl/verilator_runner.hpp"
#include "host/rtl/rtl_harness.hpp"
#include "sim/graph_values.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <map>

using namespace qdf;
using namespace qdf::manager;

namespace {

// sfc at 20,000 images/s on the xc7z020: about 4,096 cycles per image, a few thousand LUTs.
const Plan& sfc_plan(int fpgas) {
  static std::map<int, Plan> plans;
  if (auto it = plans.find(fpgas); it != plans.end()) return it->second;
  const Net& n = builtin_net("sfc").net;
  PlanOptions o;
  o.fpgas = fpgas;
  o.device = device("zynq");
  o.fps = 20000;
  return plans.emplace(fpgas, plan_network(n, random_weights(n, 11), o)).first->second;
}

// Enough images for a steady state (the pipeline holds about four).
constexpr int kImages = 12;

const std::vector<std::vector<std::int64_t>>& images() {
  static const auto imgs = sim::random_images(sfc_plan(1).graph, kImages, 5);
  return imgs;
}

// Runs sfc on `fpgas` FPGAs twice (the second from the cache) and checks what one run must give.
const host::RtlRun& checked_run(int fpgas) {
  static std::map<int, host::RtlRun> runs;
  if (auto it = runs.find(fpgas); it != runs.end()) return it->second;
  const Plan& p = sfc_plan(fpgas);
  REQUIRE(static_cast<int>(p.fpgas.size()) == fpgas);
  const host::RtlRun r = host::run_plan_rtl(p, images());
  const StreamEdge& out = p.graph.streams.at(static_cast<size_t>(p.graph.output_stream));
  MESSAGE(fmt::format("sfc on {} FPGA(s): build {:.1f} s, {} cycles in {:.3f} s ({:.0f} cycles/s); {:.0f} cycles per image "
                      "(plan: {}), latency {} cycles, last output at cycle {}",
                      fpgas, r.build_seconds, r.cycles, r.run_seconds, static_cast<double>(r.cycles) / r.run_seconds,
                      r.timing.cycles_per_image, p.cycles_per_image, r.timing.latency_cycles, r.timing.total_cycles));
  REQUIRE(r.outputs.size() == kImages);
  for (const auto& labels : r.outputs) {
    REQUIRE(static_cast<std::int64_t>(labels.size()) == out.elements * out.lanes.lanes);
    for (std::int64_t label : labels) CHECK((label >= 0 && label <= 9));
  }
  CHECK(r.times.sent_count() == kImages * p.graph.streams.at(static_cast<size_t>(p.graph.input_stream)).elements);
  CHECK(r.times.received_count() == kImages * out.elements);
  CHECK(r.timing.images == kImages);
  CHECK(r.timing.cycles_per_image >= 0.98 * static_cast<double>(p.cycles_per_image));
  CHECK(r.timing.cycles_per_image <= 1.02 * static_cast<double>(p.cycles_per_image));
  CHECK(r.timing.latency_cycles > 0);

  const host::RtlRun again = host::run_plan_rtl(p, images());
  CHECK(again.outputs == r.outputs);
  CHECK(again.times.sent_digest() == r.times.sent_digest());
  CHECK(again.times.received_digest() == r.times.received_digest());
  CHECK(again.cycles == r.cycles);
  return runs.emplace(fpgas, r).first->second;
}

}  // namespace

TEST_CASE("sfc on one FPGA runs twelve images under Verilator at the planned rate, twice alike") { checked_run(1); }

TEST_CASE("sfc on two FPGAs runs twelve images under Verilator and agrees with one FPGA") {
  const host::RtlRun& two = checked_run(2);
  const host::RtlRun& one = checked_run(1);
  CHECK(two.outputs == one.outputs);
}

TEST_CASE("the system module of sfc on two FPGAs lints clean") {
  std::string warnings = dsl::verilator_lint(host::system_design(sfc_plan(2)).modules);
  INFO(warnings);
  CHECK(warnings.empty());
}

TEST_CASE("an RTL run rejects an image of the wrong size and values that do not fit the input") {
  const Plan& p = sfc_plan(1);
  auto imgs = sim::random_images(p.graph, 2, 9);
  imgs[1].pop_back();
  CHECK_THROWS_WITH_AS(host::run_plan_rtl(p, imgs), doctest::Contains("image 1 has 783 values"), UserError);
  CHECK_THROWS_AS(host::run_plan_rtl(p, {}), UserError);
  imgs[1].push_back(2);  // not a bit
  CHECK_THROWS_AS(host::run_plan_rtl(p, imgs), UserError);
}

TEST_CASE("the RTL watchdog waits for elements in flight on a link longer than its bound, and reports a real stall") {
  // sfc on two FPGAs whose ring link takes 50,000 cycles (500 us at 100 MHz; 12.5 MB/s, a lane of
  // 1 bit per cycle, so that its FIFO of a round trip stays small): at the end of the run nothing
  // moves while the last elements cross it. A bound of 20,000 cycles, well above the gaps between the FPGAs' own moves
  // (about 4,096 cycles per image), must not call that a stall.
  const Net& n = builtin_net("sfc").net;
  PlanOptions o;
  o.fpgas = 2;
  o.device = device("zynq");
  o.fps = 20000;
  o.ring = default_link("ring");
  o.ring.latency = 500e-6;
  o.ring.bandwidth = 1.25e7;
  const Plan slow = plan_network(n, random_weights(n, 11), o);
  REQUIRE(slow.links.size() == 3);
  REQUIRE(slow.links[1].latency_cycles >= 50000);
  const host::RtlRun r = host::run_plan_rtl(slow, images(), {}, 20000);
  CHECK(r.outputs == checked_run(1).outputs);

  // The same bound on a top whose last engine's output is cut off (its ready tied low, its valid
  // never reaching the port): a stall, reported with the ports that wait.
  const Plan& p = sfc_plan(1);
  auto stuck = [&](int fpga) {
    std::vector<dsl::VerilogModule> mods = fpga_modules(p, fpga);
    std::string& top = mods[0].verilog;
    for (auto [from, to] : {std::pair<std::string, std::string>{"(host_out_ready)", "(1'b0)"}, {"(host_out_valid)", "()"},
                            {"endmodule", "  assign host_out_valid = 1'b0;\nendmodule"}}) {
      const size_t at = top.find(from);
      REQUIRE(at != std::string::npos);
      top.replace(at, from.size(), to);
    }
    return mods;
  };
  CHECK_THROWS_WITH_AS(host::run_plan_rtl(p, images(), stuck, 20000), doctest::Contains("the RTL of 'sfc' stalled: no element moved"),
                       UserError);
}

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
  CHECK(r.times.sent.size() == kImages * static_cast<size_t>(p.graph.streams.at(static_cast<size_t>(p.graph.input_stream)).elements));
  CHECK(r.times.received.size() == kImages * static_cast<size_t>(out.elements));
  CHECK(r.timing.images == kImages);
  CHECK(r.timing.cycles_per_image >= 0.98 * static_cast<double>(p.cycles_per_image));
  CHECK(r.timing.cycles_per_image <= 1.02 * static_cast<double>(p.cycles_per_image));
  CHECK(r.timing.latency_cycles > 0);

  const host::RtlRun again = host::run_plan_rtl(p, images());
  CHECK(again.outputs == r.outputs);
  CHECK(again.times.sent == r.times.sent);
  CHECK(again.times.received == r.times.received);
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

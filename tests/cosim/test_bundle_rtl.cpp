// Every generated FPGA top (with its engines) lints clean under `verilator --lint-only -Wall`;
// for sfc and cnv at a small folding each top also synthesizes with Yosys (synth_xilinx) with
// no latches, and the plan's LUT estimate is compared with what Yosys reports.
#include "dsl/verilator_runner.hpp"
#include "dsl/yosys_runner.hpp"
#include "manager/bundle.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <map>

using namespace qdf;
using namespace qdf::manager;

namespace {

// Small foldings (a low target rate on the xc7z020), split over 2 FPGAs; planned once per net.
const Plan& small_plan(const std::string& net) {
  static std::map<std::string, Plan> plans;
  auto it = plans.find(net);
  if (it != plans.end()) return it->second;
  const Net& n = builtin_net(net).net;
  PlanOptions o;
  o.fpgas = 2;
  o.device = device("zynq");
  o.fps = net.rfind("cnv", 0) == 0 ? 200 : 20000;
  return plans.emplace(net, plan_network(n, random_weights(n, 11), o)).first->second;
}

// resnet-mini over 2 FPGAs cut inside residual block res2 (before res2_conv2) at `folding`: a ring
// link of two streams.
Plan cut_plan(const Folding& folding) {
  const Net& n = builtin_net("resnet-mini").net;
  const ModelWeights w = random_weights(n, 11);
  PlanOptions o;
  o.fpgas = 2;
  o.device = device("zynq");
  o.folding = folding;
  const EngineGraph g = build_engine_graph(n, w, folding);
  int cut = 0;
  while (g.units.at(static_cast<size_t>(cut)).name != "res2_conv2") ++cut;
  return plan_partition(n, w, o, {0, cut});
}

void synthesizes(const Plan& p, const std::string& net, int fpga) {
  REQUIRE(static_cast<int>(p.fpgas.size()) > fpga);
  dsl::SynthResult r = dsl::yosys_synth(fpga_verilog(p, fpga), dsl::SynthFlow::Xilinx);
  INFO(r.log.substr(r.log.size() > 4000 ? r.log.size() - 4000 : 0));
  REQUIRE(r.ok);
  CHECK(r.latches == 0);
  const double est = p.fpgas[static_cast<size_t>(fpga)].resources.lut;
  MESSAGE(fmt::format("{} FPGA {}: estimate {:.0f} LUTs, Yosys {} LUTs", net, fpga, est, r.lut_equivalents()));
  CHECK(std::abs(est - r.lut_equivalents()) <= 0.3 * r.lut_equivalents());
}

void synthesizes(const std::string& net, int fpga) { synthesizes(small_plan(net), net, fpga); }

}  // namespace

TEST_CASE("every FPGA top of sfc, cnv-w1a2 and resnet-mini lints clean") {
  for (const char* net : {"sfc", "cnv-w1a2", "resnet-mini"}) {
    const Plan& p = small_plan(net);
    CHECK(p.fpgas.size() == 2);
    for (int f = 0; f < static_cast<int>(p.fpgas.size()); ++f) {
      CAPTURE(net);
      CAPTURE(f);
      std::string warnings = dsl::verilator_lint(fpga_modules(p, f));
      INFO(warnings);
      CHECK(warnings.empty());
    }
  }
}

TEST_CASE("sfc: both FPGA tops synthesize with no latches") {
  synthesizes("sfc", 0);
  synthesizes("sfc", 1);
}
TEST_CASE("cnv: FPGA 0's top synthesizes with no latches") { synthesizes("cnv", 0); }
TEST_CASE("resnet-mini cut inside a residual block: both tops with their ring link endpoints lint clean (with MMV), and synthesize with no latches") {
  // With conv1 giving two output pixels per element from whole windows (MMV): lint only, as its
  // wide sliding window takes Yosys many minutes.
  const Plan wide = cut_plan({{"conv1", {8, 27, 2, 2}}, {"res1_conv1", {8, 24}}, {"res1_conv2", {2, 72}}, {"res2_conv1", {4, 8}},
                              {"res2_conv2", {8, 48}}, {"res2_proj", {4, 8}}, {"fc", {2, 4}}});
  // At a small folding: lint and synthesis.
  const Plan small = cut_plan({{"conv1", {2, 3}}, {"res1_conv1", {2, 8}}, {"res1_conv2", {2, 8}}, {"res2_conv1", {2, 8}},
                               {"res2_conv2", {2, 16}}, {"res2_proj", {2, 8}}, {"fc", {2, 4}}});
  for (const Plan* p : {&wide, &small}) {
    REQUIRE(p->links.at(1).streams.size() == 2);
    for (int f = 0; f < 2; ++f) {
      CAPTURE(f);
      std::string warnings = dsl::verilator_lint(fpga_modules(*p, f));
      INFO(warnings);
      CHECK(warnings.empty());
    }
  }
  for (int f = 0; f < 2; ++f) synthesizes(small, "resnet-mini cut inside res2", f);
}
TEST_CASE("cnv: FPGA 1's top synthesizes with no latches") { synthesizes("cnv", 1); }

// The host API's rtl backend (host/api/engine_api.hpp): one program, three backends. A bundle of sfc
// on one xc7z020 (the plan of tests/cosim/test_rtl_harness.cpp, so that its Verilator build is
// found in the shared cache) runs the same twelve images on reference, sim and rtl: the labels are
// identical and the RTL's cycles per image are the simulator's within 2% (DESIGN.md, rung 3).
// Small networks ending in label select after unsigned streams give the same labels everywhere.
#include "dsl/errors.hpp"
#include "host/design/compile_flow.hpp"
#include "host/api/engine_api.hpp"
#include "host/cli/sim_flow.hpp"
#include "manager/devices.hpp"
#include "manager/model_weights.hpp"
#include "manager/network.hpp"
#include "manager/plan.hpp"
#include "sim/graph_values.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <unistd.h>

using namespace qdf;
using namespace qdf::host;
namespace fs = std::filesystem;

TEST_CASE("engine API: a bundle gives identical outputs on the reference, sim and rtl backends") {
  const std::string dir = fs::temp_directory_path() / fmt::format("qdf-engine-api-rtl-{}", ::getpid());
  fs::remove_all(dir);
  CompileRequest r;
  r.net = "sfc";
  r.seed = 11;
  r.device = "zynq";
  r.fps = 20000;
  r.out = dir;
  compile_network(r);

  // Enough images for a steady state (the pipeline holds about four).
  const auto images = sim::random_images(Engine::load(dir, Backend::Reference).design().plan.graph, 12, 5);
  std::vector<std::vector<std::int64_t>> outputs[3];
  RunStats stats[3];
  for (Backend b : {Backend::Reference, Backend::Sim, Backend::Rtl}) {
    Engine e = Engine::load(dir, b);
    for (const auto& img : images) e.queue(img);
    outputs[static_cast<int>(b)] = e.run();
    stats[static_cast<int>(b)] = e.stats();
  }
  const auto& ref = outputs[static_cast<int>(Backend::Reference)];
  const std::string sim_diff = compare_outputs(ref, outputs[static_cast<int>(Backend::Sim)], "sim vs reference backend");
  const std::string rtl_diff = compare_outputs(ref, outputs[static_cast<int>(Backend::Rtl)], "rtl vs reference backend");
  CHECK_MESSAGE(sim_diff.empty(), sim_diff);
  CHECK_MESSAGE(rtl_diff.empty(), rtl_diff);

  const RunStats& s = stats[static_cast<int>(Backend::Sim)];
  const RunStats& h = stats[static_cast<int>(Backend::Rtl)];
  MESSAGE(fmt::format("sfc, 12 images: sim {:.1f} cycles/image in {:.3f} s; rtl {:.1f} cycles/image, build {:.1f} s, run {:.3f} s",
                      s.cycles_per_image, s.wall_seconds, h.cycles_per_image, h.rtl_build_seconds, h.rtl_run_seconds));
  CHECK(h.backend == Backend::Rtl);
  CHECK(h.images == 12);
  CHECK(h.timed);
  CHECK(h.steady_state);
  CHECK(h.clock_mhz == s.clock_mhz);
  CHECK(h.cycles_per_image == doctest::Approx(s.cycles_per_image).epsilon(0.02));
  CHECK(h.latency_cycles == doctest::Approx(static_cast<double>(s.latency_cycles)).epsilon(0.02));
  CHECK(h.images_per_second == doctest::Approx(h.clock_mhz * 1e6 / h.cycles_per_image));
  CHECK(h.rtl_build_seconds >= 0);
  CHECK(h.rtl_run_seconds > 0);
  CHECK(h.wall_seconds >= h.rtl_run_seconds);
  fs::remove_all(dir);
}

namespace {

// A small design planned on one xc7z020 with random weights (its RTL builds in seconds).
Design small_design(manager::Net net, const std::string& name) {
  net.name = name;
  manager::PlanOptions o;
  o.device = manager::device("zynq");
  manager::ModelWeights w = manager::random_weights(net, 21);
  return plan_design(std::move(net), std::move(w), o, "network " + name);
}

}  // namespace

// Label select after an unsigned stream: a 2-bit activation's 0..3, a binary activation's bits (0
// meaning -1), a global pool's sums. Scores with their top bit set are the large ones on every
// backend (DESIGN.md: whether scores are signed travels with the stream).
TEST_CASE("label select after an activation or a global pool: the same labels on the reference, sim and rtl backends") {
  using namespace manager;
  const std::vector<std::pair<std::string, Net>> nets = {
      {"fc-act2-label", input("x", {1, 1, 16}, 2) >> fc("f", 10) >> act(2) >> label_select()},
      {"fc-act2-top3", input("x", {1, 1, 16}, 2) >> fc("f", 10) >> act(2) >> label_select(3)},
      {"fc-act1-label", input("x", {1, 1, 16}, 2) >> fc("f", 10) >> act(1) >> label_select()},
      {"gpool-label", input("x", {2, 2, 10}, 2) >> global_pool() >> label_select()},
  };
  for (const auto& [name, net] : nets) {
    SUBCASE(name.c_str()) {
      const Design d = small_design(net, name);
      const auto images = sim::random_images(d.plan.graph, 24, 7);
      std::vector<std::vector<std::int64_t>> outputs[3];
      for (Backend b : {Backend::Reference, Backend::Sim, Backend::Rtl}) {
        host::Engine e(d, b);
        for (const auto& img : images) e.queue(img);
        outputs[static_cast<int>(b)] = e.run();
      }
      const auto& ref = outputs[static_cast<int>(Backend::Reference)];
      std::set<std::int64_t> labels;
      for (const auto& o : ref) labels.insert(o.at(0));
      // (a binary activation's scores tie often, and ties go to the lower index)
      CHECK_MESSAGE(labels.size() >= 2, name, ": the images should not all get one label");
      const std::string sim_diff = compare_outputs(ref, outputs[static_cast<int>(Backend::Sim)], name + ": sim vs reference backend");
      const std::string rtl_diff = compare_outputs(ref, outputs[static_cast<int>(Backend::Rtl)], name + ": rtl vs reference backend");
      CHECK_MESSAGE(sim_diff.empty(), sim_diff);
      CHECK_MESSAGE(rtl_diff.empty(), rtl_diff);
    }
  }
}

// The host API's rtl backend (host/api/engine_api.hpp): one program, three backends. A bundle of sfc
// on one xc7z020 (the plan of tests/cosim/test_rtl_harness.cpp, so that its Verilator build is
// found in the shared cache) runs the same twelve images on reference, sim and rtl: the labels are
// identical and the RTL's cycles per image are the simulator's within 2% (DESIGN.md, rung 3).
#include "dsl/errors.hpp"
#include "host/design/compile_flow.hpp"
#include "host/api/engine_api.hpp"
#include "host/cli/sim_flow.hpp"
#include "sim/graph_values.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
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

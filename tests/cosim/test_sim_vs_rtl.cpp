// Fidelity of the simulator: the same images through the simulator and through the bundle's RTL
// under Verilator (every FPGA top, joined by the same link model), for sfc, cnv at a small
// folding on one FPGA and split over two, and resnet-mini (a small residual network) over two,
// also with whole windows per element and several pixels per input element: outputs bit-exact
// (and equal to the reference model), cycles per image in steady state and the first image's
// latency within 2% of the RTL's.
#include "host/cli/sim_flow.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

using namespace qdf;

namespace {

void check_fidelity(const std::string& net, int fpgas, double fps, int images, const std::string& folding = "") {
  host::CompileRequest r;
  r.fpgas = fpgas;
  r.device = "zynq";
  r.fps = fps;
  r.seed = 11;
  r.folding = folding;
  const host::Design d = host::open_design(net, r);
  REQUIRE(d.plan.fpgas.size() == static_cast<size_t>(fpgas));
  const host::VerifyRun v = host::verify_design(d, images, 5);
  MESSAGE(host::verify_table(d, v));
  CHECK(v.reference_match);
  CHECK(v.bit_exact);
  CHECK(v.rtl.timing.images == images);
  CHECK(host::steady(v.sim));  // enough images for the steady state to show
  CHECK(std::abs(v.cycles_error) <= 0.02);
  CHECK(std::abs(v.latency_error) <= 0.02);
}

}  // namespace

TEST_CASE("simulator vs RTL: sfc on one FPGA") { check_fidelity("sfc", 1, 20000, 12); }
TEST_CASE("simulator vs RTL: cnv-w1a2 at a small folding on one FPGA") { check_fidelity("cnv-w1a2", 1, 200, 24); }
TEST_CASE("simulator vs RTL: cnv-w1a2 split over two FPGAs") { check_fidelity("cnv-w1a2", 2, 200, 24); }
TEST_CASE("simulator vs RTL: resnet-mini over two FPGAs") { check_fidelity("resnet-mini", 2, 2000, 12); }

TEST_CASE("simulator vs RTL: resnet-mini with two output pixels per element, whole windows, two pixels per input element and window FIFOs over two FPGAs") {
  // conv1 reads two pixels per element and gives two whole 3x3 windows per element to an
  // unfolded MVTU that computes two output pixels a tick (MMV); res1_conv2 takes whole windows at
  // NF = 4 (a window FIFO between them); res1_conv1 and res2_conv2 take a window row per element.
  const std::string folding = std::filesystem::temp_directory_path() / fmt::format("qdf-wide-folding-{}.json", ::getpid());
  std::ofstream(folding) << R"({"conv1": {"pe": 8, "simd": 27, "in_pixels": 2, "mmv": 2}, "res1_conv1": {"pe": 8, "simd": 24},
    "res1_conv2": {"pe": 2, "simd": 72}, "res2_conv1": {"pe": 4, "simd": 8}, "res2_conv2": {"pe": 8, "simd": 48},
    "res2_proj": {"pe": 4, "simd": 8}, "fc": {"pe": 2, "simd": 4}})";
  check_fidelity("resnet-mini", 2, 0, 24, folding);
  std::filesystem::remove(folding);
}

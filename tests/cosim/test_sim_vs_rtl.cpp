// Fidelity of the simulator: the same images through the simulator and through the bundle's RTL
// under Verilator (every FPGA top; the host links driven by the host link's model, the ring links
// by the RTL of their endpoints joined through a channel of the link's latency), for sfc, cnv at
// a small folding on one FPGA and split over two, and resnet-mini (a small residual network) over
// two, also with whole windows per element, several pixels per input element, and a cut inside a
// residual block on a wide and on a narrow ring lane: outputs bit-exact (and equal to the
// reference model), cycles per image in steady state and the first image's latency within 2% of
// the RTL's.
#include "host/cli/sim_flow.hpp"
#include "manager/plan.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <unistd.h>

using namespace qdf;

namespace {

void check_fidelity(const host::Design& d, int images) {
  const host::VerifyRun v = host::verify_design(d, images, 5);
  MESSAGE(host::verify_table(d, v));
  CHECK(v.reference_match);
  CHECK(v.bit_exact);
  CHECK(v.rtl.timing.images == images);
  CHECK(host::steady(v.sim));  // enough images for the steady state to show
  CHECK(std::abs(v.cycles_error) <= 0.02);
  CHECK(std::abs(v.latency_error) <= 0.02);
}

void check_fidelity(const std::string& net, int fpgas, double fps, int images, const std::string& folding = "") {
  host::CompileRequest r;
  r.fpgas = fpgas;
  r.device = "zynq";
  r.fps = fps;
  r.seed = 11;
  r.folding = folding;
  const host::Design d = host::open_design(net, r);
  REQUIRE(d.plan.fpgas.size() == static_cast<size_t>(fpgas));
  check_fidelity(d, images);
}

// resnet-mini on two FPGAs cut before res2_conv2, inside block res2: the main and the skip stream
// cross one ring link, each with its credits and link FIFO, sharing its lane (side by side when
// their widths fit it, else by slots).
host::Design cut_inside_block(const manager::Folding& folding, double ring_bytes_per_s) {
  const manager::Net& n = manager::builtin_net("resnet-mini").net;
  const manager::ModelWeights w = manager::random_weights(n, 11);
  manager::PlanOptions o;
  o.device = manager::device("zynq");
  o.fpgas = 2;
  o.folding = folding;
  o.ring.bandwidth = ring_bytes_per_s;
  const manager::EngineGraph g = manager::build_engine_graph(n, w, folding);
  int cut = 0;
  while (g.units.at(static_cast<size_t>(cut)).name != "res2_conv2") ++cut;
  host::Design d{n, w, manager::plan_partition(n, w, o, {0, cut}), "resnet-mini cut inside res2"};
  REQUIRE(d.plan.links.at(1).streams.size() == 2);
  return d;
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

TEST_CASE("simulator vs RTL: resnet-mini cut inside a residual block, two output pixels per element, through the ring link endpoints") {
  // conv1 gives two output pixels per element (MMV); the cut puts res2's skip stream on the ring
  // link beside its main stream, into the RTL endpoints of engines/ring_link.hpp; at 5 GB/s both
  // fit the lane side by side, each on a sub-lane of its own.
  const manager::Folding wide = {{"conv1", {8, 27, 2, 2}}, {"res1_conv1", {8, 24}}, {"res1_conv2", {2, 72}}, {"res2_conv1", {4, 8}},
                                 {"res2_conv2", {8, 48}}, {"res2_proj", {4, 8}}, {"fc", {2, 4}}};
  const host::Design d = cut_inside_block(wide, 5e9);
  CHECK(d.plan.links.at(1).ring.sublanes.size() == 2);
  check_fidelity(d, 24);
}

TEST_CASE("simulator vs RTL: a narrow ring lane, several flits per element, the streams in their slots") {
  // 12.5 MB/s at 100 MHz: a lane of 1 bit per cycle, so every element is several flits and the
  // link sets the pace; both streams keep to their slots under the link's credits.
  const manager::Folding f = {{"conv1", {8, 3}}, {"res1_conv1", {8, 8}}, {"res1_conv2", {8, 8}}, {"res2_conv1", {16, 8}},
                              {"res2_conv2", {16, 16}}, {"res2_proj", {16, 8}}, {"fc", {2, 4}}};
  const host::Design d = cut_inside_block(f, 1.25e7);
  const manager::LinkUse& ring = d.plan.links.at(1);
  CHECK(ring.ring.lane_bits == 1);
  CHECK(ring.ring.sublanes.size() == 1);
  for (int k = 0; k < 2; ++k) CHECK(ring.ring.flits(k) > 1);
  CHECK(d.plan.bottleneck == "link ring_0_1");
  check_fidelity(d, 12);
}

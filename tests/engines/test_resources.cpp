// Every engine's generated Verilog lints clean and synthesizes (Yosys synth_xilinx) with no
// latches, and the resource model's LUT estimate is within 25% of Yosys on the calibration sample.
// The sample's wide engines (minutes of Yosys each) are left to bench/calibrate_resources.
#include "dsl/estimate_resources.hpp"
#include "dsl/passes.hpp"
#include "dsl/verilator_runner.hpp"
#include "dsl/yosys_runner.hpp"
#include "engines/calibration_samples.hpp"
#include "engines/mvtu.hpp"
#include "engines/stream_engines.hpp"

#include <cmath>
#include <doctest/doctest.h>

using namespace qdf;

namespace {

void check_samples(int part, int parts) {
  auto samples = engines::calibration_samples();
  for (size_t i = static_cast<size_t>(part); i < samples.size(); i += static_cast<size_t>(parts)) {
    const auto& s = samples[i];
    if (s.wide) continue;
    INFO(s.engine << " " << s.config);
    dsl::Kernel k = dsl::compile_kernel(s.kernel);
    dsl::VerilogModule m = dsl::emit_verilog(k);
    std::string lint = dsl::verilator_lint(m);
    INFO(lint);
    CHECK(lint.empty());
    dsl::SynthResult r = dsl::yosys_synth(m, dsl::SynthFlow::Xilinx);
    REQUIRE(r.ok);
    CHECK(r.latches == 0);
    const double model = dsl::estimate_resources(k).lut, yosys = r.lut_equivalents();
    MESSAGE(s.engine << " " << s.config << ": LUT model " << model << ", Yosys " << yosys);
    CHECK(std::abs(model - yosys) <= 0.25 * yosys);
  }
}

}  // namespace

TEST_CASE("engines lint, synthesize without latches, and match the LUT model (part 1)") { check_samples(0, 2); }
TEST_CASE("engines lint, synthesize without latches, and match the LUT model (part 2)") { check_samples(1, 2); }

// The comparator features, counted by hand from the engines' structure (not from the model).
TEST_CASE("resource features: a chained compare-and-select is told apart from a comparison with thresholds") {
  auto label_select = [](int lanes) {  // 10 classes of 12-bit scores
    engines::LabelSelectConfig c;
    c.classes = 10;
    c.pe = lanes;
    c.score_bits = 12;
    return dsl::resource_features(dsl::compile_kernel(engines::label_select_kernel(c)));
  };
  SUBCASE("label select of 10 lanes: a tree 10 -> 5 -> 3 -> 2 -> 1, then the running best") {
    const dsl::ResourceFeatures f = label_select(10);
    // The first level's 5 comparisons read the lanes; the other 4 of the tree and the one with
    // the running best read candidates chosen by earlier comparisons.
    CHECK(f.compare_bits == 5 * 12);
    CHECK(f.compare_select_bits == 5 * 12);
  }
  SUBCASE("label select of 1 lane: a running best in a register is no chain") {
    const dsl::ResourceFeatures f = label_select(1);
    CHECK(f.compare_bits == 12);
    CHECK(f.compare_select_bits == 0);
  }
  SUBCASE("an MVTU compares its dot products with thresholds read from a ROM through pipeline registers") {
    const engines::MvtuConfig c{.mw = 27, .mh = 10, .simd = 9, .pe = 5, .input = engines::InputKind::Unsigned, .in_bits = 2,
                                .out_bits = 2, .name = "mvtu_features"};
    engines::Thresholds t;
    t.channels = 10;
    t.levels = 3;
    for (int ch = 0; ch < 10; ++ch) {
      for (int i = 0; i < 3; ++i) t.t.push_back(10 * i - 10 + ch);
      t.flip.push_back(ch % 3 == 0);
    }
    const dsl::ResourceFeatures f =
        dsl::resource_features(dsl::compile_kernel(engines::mvtu_kernel(c, engines::BinaryMatrix::random(10, 27, 3), &t)));
    CHECK(f.compare_bits == 0);
    CHECK(f.compare_select_bits == 0);
    // PE x levels comparisons of the acc_bits + 1 wide thresholds, besides the counters' own.
    CHECK(f.compare_const_bits >= 5 * 3 * (c.acc_bits() + 1));
  }
}

// Every engine's generated Verilog lints clean and synthesizes (Yosys synth_xilinx) with no
// latches, and the resource model's LUT estimate is within 25% of Yosys on the calibration sample.
// The sample's wide engines (minutes of Yosys each) are left to bench/calibrate_resources.
#include "dsl/estimate_resources.hpp"
#include "dsl/passes.hpp"
#include "dsl/verilator_runner.hpp"
#include "dsl/yosys_runner.hpp"
#include "engines/calibration_samples.hpp"

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

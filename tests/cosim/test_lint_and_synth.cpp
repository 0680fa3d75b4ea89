// Every emitted module lints clean under `verilator --lint-only -Wall` and synthesizes in Yosys
// with no latches and no errors.
#include "dsl/passes.hpp"
#include "dsl/verilator_runner.hpp"
#include "dsl/yosys_runner.hpp"
#include "examples/example_kernels.hpp"
#include "kernels_for_tests.hpp"

#include <doctest/doctest.h>

using namespace qdf::dsl;
using namespace qdf::examples;

namespace {

std::vector<std::pair<std::string, Kernel>> all_kernels() {
  std::vector<std::pair<std::string, Kernel>> ks;
  for (const ExampleKernel& ex : example_kernels()) ks.push_back({ex.name, ex.record()});
  ks.push_back({"window3x3 in memory", record(Window3x3{100, 5})});
  ks.push_back({"operators", qdf::testing::operator_kernel()});
  ks.push_back({"wide", qdf::testing::wide_kernel()});
  ks.push_back({"enables", qdf::testing::enables_kernel()});
  ks.push_back({"ram_delay", qdf::testing::ram_delay_kernel(13)});
  return ks;
}

}  // namespace

TEST_CASE("verilator --lint-only -Wall finds nothing in any generated module") {
  for (auto& [name, k] : all_kernels()) {
    SUBCASE(name.c_str()) {
      VerilogModule m = emit_verilog(compile_kernel(k));
      std::string warnings = verilator_lint(m);
      INFO(warnings);
      CHECK(warnings.empty());
    }
  }
}

TEST_CASE("yosys synthesizes every generated module with no latches") {
  for (auto& [name, k] : all_kernels()) {
    SUBCASE(name.c_str()) {
      VerilogModule m = emit_verilog(compile_kernel(k));
      SynthResult r = yosys_synth(m);
      INFO(r.log.substr(r.log.size() > 3000 ? r.log.size() - 3000 : 0));
      CHECK(r.ok);
      CHECK(r.latches == 0);
      CHECK(!r.cells.empty());
    }
  }
}

TEST_CASE("line buffers in memory synthesize to memories, not to flip-flop chains") {
  VerilogModule m = emit_verilog(compile_kernel(record(Window3x3{200, 5})));
  SynthResult r = yosys_synth(m, SynthFlow::Xilinx);
  INFO(r.log.substr(r.log.size() > 3000 ? r.log.size() - 3000 : 0));
  REQUIRE(r.ok);
  CHECK(r.count_prefix("RAMB") + r.count_prefix("RAM") > 0);
}

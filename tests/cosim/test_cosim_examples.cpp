// Interpreter vs the kernel's Verilog under Verilator, for every example and test kernel: every
// output element bit-exact, with no stalls and under random input gaps and output backpressure.
#include "dsl/cosim.hpp"
#include "examples/example_kernels.hpp"
#include "kernels_for_tests.hpp"

#include <doctest/doctest.h>

using namespace qdf::dsl;
using namespace qdf::examples;
namespace t = qdf::testing;

namespace {

void check_cosim(const Kernel& k, const RunSpec& spec, const CosimOptions& opt = {}) {
  CosimReport rep = cosimulate(k, spec, opt);
  INFO(k.name << ":\n" << rep.summary());
  CHECK(rep.match);
  std::size_t elements = 0;
  for (const auto& [name, s] : rep.reference.outputs) elements += s.size();
  CHECK(elements > 0);  // a comparison of nothing proves nothing
  for (const CosimRun& r : rep.runs) CHECK(r.done);
}

}  // namespace

TEST_CASE("every example kernel: RTL == interpreter under random gaps and backpressure") {
  for (const ExampleKernel& ex : example_kernels()) {
    SUBCASE(ex.name.c_str()) { check_cosim(ex.record(), ex.sample_run(11)); }
  }
}

TEST_CASE("3x3 window with line buffers in memory (wide image)") {
  Kernel k = record(Window3x3{100, 5});
  CompileOptions hw;
  bool has_memory = false;
  for (const Node& n : compile_kernel(k, hw).nodes) has_memory |= !n.dead && n.op == Op::Delay && n.a1;
  CHECK(has_memory);
  RunSpec s;
  s.ticks = 100 * 5 * 2;
  s.inputs["pixel"] = random_stream(8, s.ticks, 5);
  check_cosim(k, s);
}

TEST_CASE("moving average for several stream lengths (scalar input)") {
  for (std::uint64_t size : {1u, 2u, 5u}) {
    RunSpec s;
    s.ticks = size;
    s.scalars["size"] = size;
    s.inputs["x"] = random_stream(8, size, 3);
    check_cosim(record(MovingAverage{}), s);
  }
}

TEST_CASE("every operator, signed and unsigned, in RTL") { check_cosim(t::operator_kernel(), t::operator_run(300, 2)); }

TEST_CASE("values wider than 64 bits in RTL") { check_cosim(t::wide_kernel(), t::wide_run(200, 4)); }

TEST_CASE("conditional reads and writes in RTL") { check_cosim(t::enables_kernel(), t::enables_run(90, 6)); }

TEST_CASE("RAM with synchronous reads in RTL") { check_cosim(t::ram_delay_kernel(13), t::ram_delay_run(120, 7)); }

TEST_CASE("a stalled output loses and duplicates nothing, and stalls cost cycles, not elements") {
  RunSpec s = example_kernel("block_accumulator").sample_run(2);
  CosimOptions opt;
  opt.patterns = seeded_patterns({{0.0, 0.0}, {0.0, 0.95}, {0.95, 0.0}});
  CosimReport rep = cosimulate(record(BlockAccumulator{7}), s, opt);
  INFO(rep.summary());
  REQUIRE(rep.match);
  // Unstalled: one tick per cycle plus the pipeline and the output buffer.
  CHECK(rep.runs[0].cycles <= s.ticks + 3);
  CHECK(rep.runs[1].cycles > rep.runs[0].cycles);
  CHECK(rep.runs[2].cycles > 5 * rep.runs[0].cycles);
}

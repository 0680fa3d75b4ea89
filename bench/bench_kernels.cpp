// Speed of the two executions of a kernel, measured in one run on the same input stream:
// the interpreter (the logical semantics) and the generated Verilog under Verilator.
// Prints input elements per second of each and their ratio.
#include "dsl/cosim.hpp"
#include "dsl/verilator_runner.hpp"
#include "examples/example_kernels.hpp"

#include <chrono>
#include <fmt/format.h>
#include <iostream>

using namespace qdf::dsl;
using namespace qdf::examples;

namespace {

struct Case {
  std::string name;
  Kernel kernel;
  RunSpec spec;
};

double seconds_of(const std::function<void()>& f, int repeat) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeat; ++i) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / repeat;
}

}  // namespace

int main() {
  std::vector<Case> cases;
  {
    RunSpec s;
    s.ticks = 32 * 32 * 256;  // 256 images of 32x32
    s.inputs["pixel"] = random_stream(8, s.ticks, 1);
    cases.push_back({"window3x3 32x32", record(Window3x3{32, 32}), s});
  }
  {
    RunSpec s;
    s.ticks = 224 * 224 * 4;  // 4 images of 224x224: line buffers in memory
    s.inputs["pixel"] = random_stream(8, s.ticks, 2);
    cases.push_back({"window3x3 224x224", record(Window3x3{224, 224}), s});
  }
  {
    RunSpec s;
    s.ticks = 4 * 50000;
    s.inputs["x"] = random_stream(64, s.ticks, 3);
    cases.push_back({"xnor_dot64 x4", record(XnorDot64{4, 7}), s});
  }
  std::cout << fmt::format("qdf kernel benchmark ({}, one core)\n", verilator_version());
  std::cout << fmt::format("{:<20} {:>10} {:>18} {:>18} {:>8}\n", "kernel", "elements", "interpreter el/s",
                           "verilator el/s", "ratio");
  for (Case& c : cases) {
    CompileOptions zero;
    zero.latency = LatencyModel::zero();
    Interpreter interp(compile_kernel(c.kernel, zero));
    RunResult ref;
    double t_interp = seconds_of([&] { ref = interp.run(c.spec); }, 3);
    Kernel hw = compile_kernel(c.kernel);
    VerilogModule m = emit_verilog(hw);
    BuiltModel model = verilator_build(m, hw);
    RtlRunResult rtl = verilator_run(model, hw, c.spec, {});
    bool same = true;
    for (const auto& [name, s] : ref.outputs) same = same && compare_streams(name, s, rtl.outputs.at(name), 1).empty();
    std::size_t n = 0;
    for (const auto& [name, s] : c.spec.inputs) n += s.size();
    double ei = static_cast<double>(n) / t_interp, ev = static_cast<double>(n) / rtl.sim_seconds;
    std::cout << fmt::format("{:<20} {:>10} {:>18.3g} {:>18.3g} {:>7.2f}x{}\n", c.name, n, ei, ev, ei / ev,
                             same ? "" : "  (OUTPUTS DIFFER)");
  }
  return 0;
}

#include "host/cli/kernel_flow.hpp"

#include "dsl/errors.hpp"
#include "dsl/files.hpp"

#include <chrono>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <ostream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace qdf::host {

KernelFlowResult run_kernel_flow(const dsl::Kernel& recorded, const dsl::RunSpec& spec, const std::string& out_dir,
                                 std::ostream& log) {
  using namespace dsl;
  KernelFlowResult r;
  Kernel hw = compile_kernel(recorded);
  VerilogModule m = emit_verilog(hw);
  dsl::write_directory_atomically(out_dir, [&](const std::string& d) {
    write_verilog(m, d);
    std::ofstream(d + "/" + m.top + ".ir.txt") << dump(hw);
  });
  r.verilog_path = out_dir + "/" + m.top + ".v";
  log << fmt::format("kernel {}: {} IR nodes after lowering, pipeline latency {} ticks -> {}\n", recorded.name,
                     std::count_if(hw.nodes.begin(), hw.nodes.end(), [](const Node& n) { return !n.dead; }), hw.latency,
                     r.verilog_path);
  r.lint = verilator_lint(m);
  log << fmt::format("verilator --lint-only -Wall: {}\n", r.lint.empty() ? "clean" : "WARNINGS\n" + r.lint);

  CompileOptions zero;
  zero.latency = LatencyModel::zero();
  Interpreter interp(compile_kernel(recorded, zero));
  auto t0 = std::chrono::steady_clock::now();
  RunResult ref = interp.run(spec);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::size_t elements = 0;
  for (const auto& [n, s] : spec.inputs) elements += s.size();
  r.interpreter_elements_per_s = secs > 0 ? static_cast<double>(elements) / secs : 0;
  log << fmt::format("interpreter: {} ticks, {} input elements", ref.ticks, elements);
  for (const auto& [name, s] : ref.outputs) log << fmt::format(", {} elements on '{}'", s.size(), name);
  log << "\n";

  log << "building the Verilator model (cached after the first build)...\n" << std::flush;
  r.cosim = cosimulate(recorded, spec);
  log << "RTL under Verilator vs interpreter, with random input gaps and output backpressure:\n" << r.cosim.summary();
  return r;
}

}  // namespace qdf::host

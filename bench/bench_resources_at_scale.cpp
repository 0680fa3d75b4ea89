// The resource model against Yosys on whole FPGA tops (not on single engines, where it is
// calibrated: docs/resource_model.md): each design's FPGA 0 planned by the manager, its LUT and
// block RAM estimate beside what `synth_xilinx -family xc7` (flattened by the runner) reports,
// measured in one run. Minutes of Yosys per design: a benchmark, not a test.
//   bench_resources_at_scale            the designs below
#include "dsl/yosys_runner.hpp"
#include "manager/bundle.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>

using namespace qdf;
using namespace qdf::manager;

int main() {
  struct Design {
    const char* what;
    const char* net;
    double fps;  // 0: the highest throughput that fits
  };
  fmt::print("{:<44} {:>10} {:>10} {:>7} {:>10} {:>10} {:>6} {:>8}\n", "FPGA 0 of (zynq-7000-xc7z020)", "est. LUTs", "Yosys LUTs",
             "ratio", "est. BRAM36", "Yosys BRAM", "DSPs", "Yosys s");
  for (const Design d : {Design{"cnv at 10,000 fps", "cnv", 10000}, Design{"cnv-w1a2 at the highest throughput", "cnv-w1a2", 0},
                         Design{"resnet-mini at the highest throughput", "resnet-mini", 0}}) {
    const Net& n = builtin_net(d.net).net;
    PlanOptions o;
    o.device = device("zynq");
    o.fps = d.fps;
    const Plan p = plan_network(n, random_weights(n, 1), o);
    const auto t0 = std::chrono::steady_clock::now();
    const dsl::SynthResult r = dsl::yosys_synth(fpga_verilog(p, 0), dsl::SynthFlow::Xilinx);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok) {
      fmt::print("{:<44} Yosys failed: {}\n", d.what, r.log.substr(r.log.size() > 2000 ? r.log.size() - 2000 : 0));
      continue;
    }
    const double est = p.fpgas[0].resources.lut;
    const int bram = r.count_prefix("RAMB36") + (r.count_prefix("RAMB18") + 1) / 2;
    fmt::print("{:<44} {:>10.0f} {:>10} {:>7.2f} {:>10} {:>10} {:>6} {:>8.0f}\n", d.what, est, r.lut_equivalents(),
               est / r.lut_equivalents(), p.fpgas[0].bram_blocks, bram, r.count_prefix("DSP"), s);
    std::fflush(stdout);
  }
  return 0;
}

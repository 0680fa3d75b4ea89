// The resource model against Yosys on whole FPGA tops (not on single engines, where it is
// calibrated: docs/resource_model.md): each design's FPGA 0 planned by the manager, its LUT and
// block RAM estimate beside what `synth_xilinx -family xc7` reports, measured in one run. Yosys
// keeps the top's hierarchy (one module per engine), so each engine's LUTs are printed beside its
// estimate too: where the model is off. Minutes of Yosys per design: a benchmark, not a test.
//   bench_resources_at_scale              every design below
//   bench_resources_at_scale NAME...      only those (cnv, cnv-w1a2, resnet-mini)
#include "dsl/errors.hpp"
#include "dsl/yosys_runner.hpp"
#include "manager/bundle.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <vector>

using namespace qdf;
using namespace qdf::manager;

namespace {

struct Design {
  const char* what;
  const char* net;
  double fps;  // 0: the highest throughput that fits
};

// Each engine of FPGA 0: its estimate beside its module's LUT sites and block RAMs in Yosys's
// report, largest first; then the sums by engine kind.
void print_engines(const Plan& p, const dsl::SynthResult& r) {
  struct Row {
    std::string name, kind;
    double est;
    int yosys, bram18_est, bram18_yosys;
  };
  std::vector<Row> rows;
  for (size_t i = 0; i < p.graph.engines.size(); ++i) {
    const Engine& e = p.graph.engines[i];
    if (e.fpga != 0) continue;
    auto it = r.module_cells.find(e.name);
    if (it == r.module_cells.end()) {
      fmt::print("  {}: no module of that name in Yosys's report\n", e.name);
      continue;
    }
    const dsl::CellCounts& c = it->second;
    auto count = [&](const char* type) { return c.count(type) ? c.at(type) : 0; };
    rows.push_back({e.name, std::string(e.kind()), p.engine_resources[i].lut, dsl::lut_equivalents(c), p.engine_resources[i].bram18,
                    count("RAMB18E1") + 2 * count("RAMB36E1")});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.yosys > b.yosys; });
  fmt::print("  | engine | kind | LUT model | LUT Yosys | model / Yosys | BRAM18 model | BRAM18 Yosys |\n");
  fmt::print("  |---|---|---:|---:|---:|---:|---:|\n");
  for (const Row& w : rows)
    fmt::print("  | {} | {} | {:.0f} | {} | {:.2f} | {} | {} |\n", w.name, w.kind, w.est, w.yosys, w.est / std::max(1, w.yosys),
               w.bram18_est, w.bram18_yosys);
  std::vector<std::string> kinds;
  for (const Row& w : rows)
    if (std::find(kinds.begin(), kinds.end(), w.kind) == kinds.end()) kinds.push_back(w.kind);
  fmt::print("\n  | engine kind | engines | LUT model | LUT Yosys | model / Yosys |\n  |---|---:|---:|---:|---:|\n");
  for (const std::string& k : kinds) {
    double est = 0;
    int yosys = 0, n = 0;
    for (const Row& w : rows)
      if (w.kind == k) est += w.est, yosys += w.yosys, ++n;
    fmt::print("  | {} | {} | {:.0f} | {} | {:.2f} |\n", k, n, est, yosys, est / std::max(1, yosys));
  }
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) {
  // cnv at 10,000 images/s no longer fits one xc7z020 once the wide engines are calibrated.
  const std::vector<Design> all = {Design{"cnv at the highest throughput", "cnv", 0}, Design{"cnv-w1a2 at the highest throughput", "cnv-w1a2", 0},
                                   Design{"resnet-mini at the highest throughput", "resnet-mini", 0}};
  std::vector<Design> designs;
  for (int i = 1; i < argc; ++i) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Design& d) { return argv[i] == std::string(d.net); });
    if (it == all.end()) {
      fmt::print(stderr, "bench_resources_at_scale: no design '{}' (expected cnv, cnv-w1a2 or resnet-mini)\n", argv[i]);
      return 2;
    }
    designs.push_back(*it);
  }
  if (designs.empty()) designs = all;
  std::vector<std::string> summary;
  for (const Design& d : designs) {
    const Net& n = builtin_net(d.net).net;
    PlanOptions o;
    o.device = device("zynq");
    o.fps = d.fps;
    Plan p;
    try {
      p = plan_network(n, random_weights(n, 1), o);
    } catch (const UserError& e) {
      summary.push_back(fmt::format("{:<44} no plan: {}", d.what, e.what()));
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const dsl::SynthResult r = dsl::yosys_synth(fpga_verilog(p, 0), dsl::SynthFlow::Xilinx);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok) {
      summary.push_back(fmt::format("{:<44} Yosys failed: {}", d.what, r.log.substr(r.log.size() > 2000 ? r.log.size() - 2000 : 0)));
      continue;
    }
    fmt::print("FPGA 0 of {} (zynq-7000-xc7z020), engine by engine:\n", d.what);
    print_engines(p, r);
    const double est = p.fpgas[0].resources.lut;
    const int bram = r.count_prefix("RAMB36") + (r.count_prefix("RAMB18") + 1) / 2;
    summary.push_back(fmt::format("{:<44} {:>10.0f} {:>10} {:>7.2f} {:>10} {:>10} {:>6} {:>8.0f}", d.what, est, r.lut_equivalents(),
                                  est / r.lut_equivalents(), p.fpgas[0].bram_blocks, bram, r.count_prefix("DSP"), s));
    std::fflush(stdout);
  }
  fmt::print("{:<44} {:>10} {:>10} {:>7} {:>10} {:>10} {:>6} {:>8}\n", "FPGA 0 of (zynq-7000-xc7z020)", "est. LUTs", "Yosys LUTs", "ratio",
             "est. BRAM36", "Yosys BRAM", "DSPs", "Yosys s");
  for (const std::string& l : summary) fmt::print("{}\n", l);
  return 0;
}

// The manager against its anchors, printed as tables (all figures from the timing and resource
// models, measured in this run):
//   1. resnet18 and alexnet on 3 Stratix V 5SGSD8 at the highest throughput, beside Baskin et
//      al.'s figures (their clock cycles, LUTs and latency per image);
//   2. cnv W1A1 with BNN-PYNQ's folding on the xc7z020, beside FINN's analytical bound for that
//      folding (the slowest layer's NF * SF * pixels) and the board's 26,072 LUTs;
//   3. resnet18's and alexnet's throughput on 1..8 Stratix V with the scaling efficiency, the
//      busiest FPGA, the ring links' loads and what limits each (manager/scaling.hpp);
//   4. the manager's own speed: planning resnet18 for 3 FPGAs, in seconds.
#include "manager/plan.hpp"
#include "manager/scaling.hpp"

#include <chrono>
#include <fmt/format.h>
#include <iostream>

using namespace qdf::manager;

namespace {

Plan plan(const std::string& net, int fpgas, const std::string& dev, const std::optional<Folding>& folding = std::nullopt) {
  const Net& n = builtin_net(net).net;
  PlanOptions o;
  o.fpgas = fpgas;
  o.device = device(dev);
  o.folding = folding;
  return plan_network(n, random_weights(n, 1), o);
}

std::string luts_per_fpga(const Plan& p) {
  std::string s;
  for (const FpgaPlan& f : p.fpgas) s += fmt::format("{}{:.0f}", s.empty() ? "" : " / ", f.resources.lut);
  return s;
}

double total_luts(const Plan& p) {
  double t = 0;
  for (const FpgaPlan& f : p.fpgas) t += f.resources.lut;
  return t;
}

}  // namespace

int main() {
  // The manager's own speed first, while no engine has been priced in this process.
  const auto t0 = std::chrono::steady_clock::now();
  const Plan cold = plan("resnet18", 3, "stratix-v-5sgsd8");
  const double cold_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::cout << "1. Baskin et al.'s networks on 3 x stratix-v-5sgsd8 (115 MHz), highest throughput that fits\n";
  std::cout << fmt::format("{:<9} {:>14} {:>10} {:>10} {:>14} {:>10} {:>9} {:>10}  {}\n", "network", "cycles/image", "ms/image",
                           "paper ms", "LUTs (total)", "paper LUTs", "speed-up", "plan s", "LUTs per FPGA; limited by");
  struct Anchor {
    const char* net;
    double paper_ms, paper_luts;
  };
  for (Anchor a : {Anchor{"resnet18", 16.1, 596081}, Anchor{"alexnet", 13.7, 343295}}) {
    Plan p = plan(a.net, 3, "stratix-v-5sgsd8");
    const double ms = 1e3 / p.fps;
    std::cout << fmt::format("{:<9} {:>14} {:>10.3f} {:>10.1f} {:>14.0f} {:>10.0f} {:>8.2f}x {:>10.2f}  {}; {}\n", a.net, p.cycles_per_image, ms,
                             a.paper_ms, total_luts(p), a.paper_luts, a.paper_ms / ms, p.plan_seconds, luts_per_fpga(p), p.limit);
  }
  std::cout << "   (paper: ResNet-18 about 1.85e6 clocks per image, 596,081 LUTs, 16.1 ms; AlexNet 343,295 LUTs, 13.7 ms)\n\n";

  std::cout << "2. cnv W1A1 with BNN-PYNQ's folding on zynq-7000-xc7z020 (100 MHz)\n";
  // PE/SIMD per layer as in BNN-PYNQ; its last layer pads 10 outputs to 64 for PE 4, here it
  // keeps 10 outputs and takes PE 2.
  const std::vector<std::tuple<std::string, int, int>> bnn_pynq = {{"conv1", 16, 3}, {"conv2", 32, 32}, {"conv3", 16, 32},
                                                                   {"conv4", 16, 32}, {"conv5", 4, 32},  {"conv6", 1, 32},
                                                                   {"fc1", 1, 4},     {"fc2", 1, 8},     {"fc3", 2, 1}};
  Folding f;
  for (auto& [layer, pe, simd] : bnn_pynq) f[layer] = {pe, simd};
  Plan cnv = plan("cnv", 1, "zynq-7000-xc7z020", f);
  const Net& cn = builtin_net("cnv").net;
  std::int64_t bound = 0;
  std::string bound_layer;
  for (const Layer& l : cn.layers()) {
    auto it = f.find(l.name);
    if (it == f.end()) continue;
    const std::int64_t mw = l.kind == LayerKind::Conv ? static_cast<std::int64_t>(l.k) * l.k * l.in.c : l.in.size();
    const std::int64_t c = (l.out_channels / it->second.pe) * (mw / it->second.simd) * l.out.h * l.out.w;
    if (c > bound) bound = c, bound_layer = l.name;
  }
  std::cout << fmt::format("{:<34} {:>12} {:>22} {:>10} {:>14}\n", "", "cycles/image", "FINN bound (layer)", "ratio", "LUTs");
  std::cout << fmt::format("{:<34} {:>12} {:>22} {:>10.4f} {:>8.0f} of 26,072 (BNN-PYNQ), {} BRAM36 of 140\n", "cnv, BNN-PYNQ folding",
                           cnv.cycles_per_image, fmt::format("{} ({})", bound, bound_layer),
                           static_cast<double>(cnv.cycles_per_image) / static_cast<double>(bound), total_luts(cnv), cnv.fpgas[0].bram_blocks);
  std::cout << fmt::format("   slowest engine: {}\n", cnv.bottleneck);
  Plan cnv_max = plan("cnv", 1, "zynq-7000-xc7z020");
  std::cout << fmt::format("{:<34} {:>12} {:>22} {:>10} {:>8.0f} LUTs; limited by: {}\n\n", "cnv, searched folding (max fps)",
                           cnv_max.cycles_per_image, "", "", total_luts(cnv_max), cnv_max.limit);

  std::cout << "3. Scaling: resnet18 and alexnet on K = 1..8 FPGAs, highest throughput that fits (engines priced once per process)\n";
  for (const char* net : {"resnet18", "alexnet"}) {
    const Net& n = builtin_net(net).net;
    PlanOptions o;
    o.device = device("stratix-v-5sgsd8");
    const auto t1 = std::chrono::steady_clock::now();
    const ScaleStudy s = scale_study(n, random_weights(n, 1), o, {1, 2, 3, 4, 5, 6, 7, 8});
    const double sweep = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::cout << scale_table(s) << fmt::format("   sweep K = 1..8: {:.1f} s\n\n", sweep);
  }
  {
    std::cout << "   resnet18 on zynq-7000-xc7z020\n";
    const Net& n = builtin_net("resnet18").net;
    PlanOptions o;
    o.device = device("zynq-7000-xc7z020");
    std::cout << scale_table(scale_study(n, random_weights(n, 1), o, {1, 8}));
  }

  std::cout << "\n4. Speed of the manager (one core, nothing priced before)\n";
  std::cout << fmt::format("   resnet18 on 3 FPGAs: {:.2f} s (weights, fold and partition search; no Verilog), {} engines\n", cold_s,
                           cold.graph.engines.size());
  return 0;
}

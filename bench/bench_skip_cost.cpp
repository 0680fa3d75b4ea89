// What a skip connection costs, measured in one run: fashion-resnet and fashion-resnet-noskip (the
// same convs without their skips, manager/network.cpp), each with its trained model
// (host/models/), planned on the same target and run in the simulator on the Fashion-MNIST test
// images. Printed side by side for two targets:
//   1. the highest throughput that fits one xc7z020 (each network at its own);
//   2. one fixed rate, the lower of the two highest: resources at the same throughput (when the
//      two highest differ).
// Columns: accuracy (the simulator's labels), LUTs and 18 Kbit block RAMs of the whole design and
// of its skip paths (forks, skip FIFOs, projection convs, skip width converters, adds), cycles
// per image and the first image's latency (simulated), images/s at the design's clock.
//
//   build/bench/bench_skip_cost [--images N]   (default: all 10,000 test images)
#include "dsl/errors.hpp"
#include "host/cli/eval_flow.hpp"
#include "host/data/idx_dataset.hpp"
#include "host/design/open_design.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <fmt/format.h>
#include <string>
#include <vector>

using namespace qdf;

namespace {

struct Row {
  std::string net;
  double accuracy = 0;
  double lut = 0, skip_lut = 0;
  int bram18 = 0, skip_bram18 = 0;
  std::int64_t planned_cycles = 0;
  double cycles = 0;
  std::int64_t latency = 0;
  double clock_mhz = 0, fps = 0;
};

// An engine of a residual block's skip path, from the names engine_graph.cpp gives them.
bool on_skip_path(const manager::Engine& e) {
  auto has = [&](const char* s) { return e.name.find(s) != std::string::npos; };
  return has("_fork") || has("_skip") || has("_add") || e.layer.ends_with("_proj");
}

Row measure(const std::string& net, double fps, const host::Dataset& test, std::int64_t images) {
  host::CompileRequest r;
  r.net = net;
  r.device = "zynq";
  r.fpgas = 1;
  r.fps = fps;
  if (host::shipped_model(net).empty())
    throw UserError(fmt::format("bench_skip_cost: '{}' has no trained model in host/models/ (`qdf train {}`)", net, net));
  host::Design d = host::open_design(net, r);
  Row row;
  row.net = net;
  for (size_t i = 0; i < d.plan.graph.engines.size(); ++i) {
    const dsl::Resources& res = d.plan.engine_resources[i];
    row.lut += res.lut;
    row.bram18 += res.bram18;
    if (on_skip_path(d.plan.graph.engines[i])) {
      row.skip_lut += res.lut;
      row.skip_bram18 += res.bram18;
    }
  }
  row.planned_cycles = d.plan.cycles_per_image;
  host::Engine e(std::move(d), host::Backend::Sim);
  const host::EvalRun ev = host::evaluate(e, test, images, false);
  row.accuracy = ev.accuracy;
  row.cycles = ev.stats.cycles_per_image;
  row.latency = ev.stats.latency_cycles;
  row.clock_mhz = ev.stats.clock_mhz;
  row.fps = ev.stats.images_per_second;
  return row;
}

void print(const std::string& title, const std::vector<Row>& rows) {
  fmt::print("{}\n", title);
  fmt::print("  {:<22} {:>9} {:>9} {:>9} {:>7} {:>7} {:>11} {:>11} {:>10} {:>11}\n", "network", "accuracy", "LUTs", "skip LUTs",
             "BRAM18", "skip", "cycles/img", "planned", "latency", "images/s");
  for (const Row& r : rows)
    fmt::print("  {:<22} {:>8.2f}% {:>9.0f} {:>9.0f} {:>7} {:>7} {:>11.1f} {:>11} {:>10} {:>11.0f}\n", r.net, 100 * r.accuracy, r.lut,
               r.skip_lut, r.bram18, r.skip_bram18, r.cycles, r.planned_cycles, r.latency, r.fps);
  const Row &a = rows[0], &b = rows[1];
  fmt::print("  skips / no skips: accuracy {:+.2f} points, LUTs x{:.3f} ({:+.0f}), BRAM18 x{:.3f} ({:+d}), cycles/img x{:.3f}, latency x{:.3f} "
             "({:+d} cycles, {:+.1f} us at {:.0f} MHz)\n\n",
             100 * (a.accuracy - b.accuracy), a.lut / b.lut, a.lut - b.lut, static_cast<double>(a.bram18) / b.bram18,
             a.bram18 - b.bram18, a.cycles / b.cycles, static_cast<double>(a.latency) / static_cast<double>(b.latency),
             a.latency - b.latency, static_cast<double>(a.latency - b.latency) / a.clock_mhz, a.clock_mhz);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::int64_t images = 0;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--images" && i + 1 < argc) {
        const std::string v = argv[++i];
        char* end = nullptr;
        images = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != 0 || images < 1) throw UserError(fmt::format("bench_skip_cost: --images takes a count >= 1, found '{}'", v));
      } else {
        throw UserError(fmt::format("bench_skip_cost: unknown argument '{}' (usage: bench_skip_cost [--images N])", a));
      }
    }
    const auto start = std::chrono::steady_clock::now();
    const host::Dataset test = host::load_fashion_mnist("test");
    const std::vector<std::string> nets = {"fashion-resnet", "fashion-resnet-noskip"};
    std::vector<Row> fastest;
    for (const std::string& n : nets) fastest.push_back(measure(n, 0, test, images));
    const std::string count = fmt::format("{} Fashion-MNIST test images", images > 0 ? std::min(images, test.size()) : test.size());
    print(fmt::format("1. each at the highest throughput that fits 1 x xc7z020, {}, simulator", count), fastest);
    const double fps = std::min(fastest[0].fps, fastest[1].fps);
    if (fastest[0].planned_cycles == fastest[1].planned_cycles) {
      fmt::print("2. both already run at the same throughput: 1. is the comparison at the same rate\n");
      fmt::print("{:.1f} s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return 0;
    }
    std::vector<Row> same;
    for (const std::string& n : nets) same.push_back(measure(n, fps, test, images));
    print(fmt::format("2. both planned for {:.0f} images/s on 1 x xc7z020, {}, simulator", fps, count), same);
    fmt::print("{:.1f} s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 1;
  }
}

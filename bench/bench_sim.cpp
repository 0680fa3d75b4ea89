// The simulator's speed, printed as figures and ratios measured in one run:
//   1. simulator vs Verilator on the same RTL: cnv-w1a2 at a small folding on one xc7z020 (24
//      images, and 64: its upstream FIFOs fill for about 30 images before its steady state), and
//      cnv at its highest throughput on one Stratix V, the same images through both, images/s of
//      each (the RTL's build time apart), on one core each and on every core each; the images the
//      simulator moved over in a steady state (sim/simulator.hpp) are counted as run;
//   2. resnet18 on 3 Stratix V with values: simulated images/s on one core, and the binary MACs/s
//      that means; then timing only, 200 images;
//   3. a timing-only sweep of resnet18 over 1..8 FPGAs and three foldings: total seconds.
#include "host/rtl/rtl_harness.hpp"
#include "host/cli/sim_flow.hpp"
#include "manager/plan.hpp"
#include "sim/simulator.hpp"
#include "sim/thread_pool.hpp"

#include <chrono>
#include <ctime>
#include <fmt/format.h>

using namespace qdf;
using namespace qdf::manager;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Plan plan(const std::string& net, int fpgas, const std::string& dev, double fps) {
  const Net& n = builtin_net(net).net;
  PlanOptions o;
  o.fpgas = fpgas;
  o.device = device(dev);
  o.fps = fps;
  return plan_network(n, random_weights(n, 1), o);
}

// The simulator against Verilator on the same RTL and images, one core each: images/s, and the
// simulator's values and timing apart.
void against_verilator(const std::string& label, const Plan& p, int n, bool every_core = true) {
  const auto imgs = host::random_images(p.graph, n, 7);
  sim::simulate(p, imgs);  // schedules traced once (cached per engine configuration)
  sim::SimOptions one_core;
  one_core.threads = 1;  // against Verilator's one thread
  const sim::SimResult s = sim::simulate(p, imgs, one_core);
  const host::RtlRun r = host::run_plan_rtl(p, imgs);
  const bool same = s.outputs == r.outputs;
  const double sim_ips = n / s.seconds, rtl_ips = n / r.run_seconds;
  fmt::print("{} ({} cycles per image planned), {} images\n", label, p.cycles_per_image, n);
  fmt::print("   {:<12} {:>14} {:>16} {:>14}\n", "", "images/s", "cycles/image", "wall s");
  fmt::print("   {:<12} {:>14.2f} {:>16.1f} {:>14.3f}  (values {:.3f} s)\n", "simulator", sim_ips, s.timing.cycles_per_image, s.seconds,
             s.value_seconds);
  fmt::print("   {:<12} {:>14.4f} {:>16.1f} {:>14.3f}  (+ {:.1f} s build)\n", "Verilator", rtl_ips, r.timing.cycles_per_image,
             r.run_seconds, r.build_seconds);
  fmt::print("   ratio: {:.0f}x; outputs {}; simulated cycles {:+.3f}% of the RTL's; {} of the {} images moved over in the steady state\n",
             sim_ips / rtl_ips, same ? "bit-exact" : "DIFFER",
             100 * (s.timing.cycles_per_image - r.timing.cycles_per_image) / r.timing.cycles_per_image, s.images_moved, n);
  // Both on every core: the simulator's values of different images in parallel, Verilator's model
  // with as many threads (--threads; a model of its own, built apart).
  const int cores = sim::resolve_threads(0);
  if (every_core && cores > 1) {
    const sim::SimResult sa = sim::simulate(p, imgs);
    const host::RtlRun ra = host::run_plan_rtl(p, imgs, {}, host::kRtlStallCycles, cores);
    const double sa_ips = n / sa.seconds, ra_ips = n / ra.run_seconds;
    fmt::print("   on every core ({}): simulator {:.2f} images/s, Verilator --threads {} {:.4f} images/s (+ {:.1f} s build): {:.0f}x; outputs {}\n",
               cores, sa_ips, cores, ra_ips, ra.build_seconds, sa_ips / ra_ips,
               sa.outputs == s.outputs && ra.outputs == s.outputs ? "the same" : "DIFFER");
  }
  fmt::print("\n");
}

}  // namespace

int main() {
  host::keep_freed_memory();  // as qdf's command line runs the simulator
  // Enough images for the steady state (the pipelines hold about six).
  const Plan w1a2 = plan("cnv-w1a2", 1, "zynq", 200);
  against_verilator("1. simulator vs Verilator, cnv-w1a2 on 1 x xc7z020 at 200 fps", w1a2, 24);
  against_verilator("   the same, 64 images (one core each)", w1a2, 64, false);
  against_verilator("   cnv on 1 x stratix-v-5sgsd8 at its highest throughput", plan("cnv", 1, "stratix", 0), 100);
  {
    const Plan p = plan("resnet18", 3, "stratix", 0);
    const int n = 14;  // enough for the steady state
    const auto imgs = host::random_images(p.graph, n, 7);
    auto t0 = Clock::now();
    sim::SimOptions warm;
    warm.timing_only = true;
    sim::simulate(p, {}, warm);
    const double setup = since(t0);
    sim::SimOptions one_core, all_cores;
    one_core.threads = 1;
    const sim::SimResult s = sim::simulate(p, imgs, one_core);
    const sim::SimResult a = sim::simulate(p, imgs, all_cores);
    const double macs = static_cast<double>(builtin_net("resnet18").net.binary_macs()) * n;
    fmt::print("2. resnet18 on 3 x stratix-v-5sgsd8 with values, {} images on one core\n", n);
    fmt::print("   {:.2f} images/s ({:.3f} s per image, of which values {:.3f} s); {:.2e} binary MACs/s\n", n / s.seconds,
               s.seconds / n, s.value_seconds / n, macs / s.seconds);
    fmt::print("   on every core ({}): {:.2f} images/s (values {:.3f} s per image); outputs {}\n", sim::resolve_threads(0),
               n / a.seconds, a.value_seconds / n, a.outputs == s.outputs ? "the same" : "DIFFER");
    fmt::print("   {:.1f} cycles per image simulated (plan: {}), latency {} cycles; tracing the engines' schedules took {:.2f} s once\n",
               s.timing.cycles_per_image, p.cycles_per_image, s.timing.latency_cycles, setup);
    // Timing only, the schedules traced: what a design sweep pays per image. CPU time beside the
    // wall time, since other work on the machine stretches the latter.
    sim::SimOptions timing;
    timing.timing_only = true;
    timing.images = 200;
    const auto tt = Clock::now();
    const std::clock_t c0 = std::clock();
    const sim::SimResult ts = sim::simulate(p, {}, timing);
    const double wall = since(tt), cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    fmt::print("   timing only, {} images: {:.1f} images/s ({:.2f} s), {:.1f} images per CPU second; {:.1f} cycles per image\n\n",
               timing.images, timing.images / wall, wall, timing.images / cpu, ts.timing.cycles_per_image);
  }
  {
    auto t0 = Clock::now();
    double plan_s = 0, sim_s = 0;
    int designs = 0;
    const int n = 14;  // enough for the steady state (the pipeline holds about five images)
    fmt::print("3. timing-only sweep of resnet18 on K x stratix-v-5sgsd8, {} images each\n", n);
    fmt::print("   {:>10} {:>3} {:>14} {:>14} {:>10}\n", "target fps", "K", "planned c/img", "simulated c/img", "images/s");
    for (double fps : {0.0, 1000.0, 500.0})
      for (int k = 1; k <= 8; ++k) {
        auto tp = Clock::now();
        const Plan p = plan("resnet18", k, "stratix", fps);
        plan_s += since(tp);
        auto ts = Clock::now();
        sim::SimOptions o;
        o.timing_only = true;
        o.images = n;
        const sim::SimResult s = sim::simulate(p, {}, o);
        sim_s += since(ts);
        ++designs;
        fmt::print("   {:>10} {:>3} {:>14} {:>14.1f} {:>10.1f}\n", fps > 0 ? fmt::format("{:.0f}", fps) : "max", k,
                   p.cycles_per_image, s.timing.cycles_per_image, s.fps);
      }
    fmt::print("   {} designs in {:.2f} s: planning {:.2f} s, simulating {:.2f} s\n", designs, since(t0), plan_s, sim_s);
  }
  return 0;
}

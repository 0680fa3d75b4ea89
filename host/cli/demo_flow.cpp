#include "host/cli/demo_flow.hpp"

#include "dsl/errors.hpp"
#include "dsl/files.hpp"
#include "host/cli/eval_flow.hpp"
#include "host/cli/sim_flow.hpp"
#include "manager/bundle.hpp"

#include <chrono>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

namespace qdf::host {

namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Prints to the terminal and keeps the same text for report.txt.
struct Report {
  std::ostream& out;
  std::string text;
  void operator()(const std::string& s) {
    out << s << std::flush;
    text += s;
  }
};

}  // namespace

int run_demo(const DemoOptions& o, std::ostream& os) {
  const auto start = std::chrono::steady_clock::now();
  Report say{os, {}};
  nlohmann::json report;
  const std::string model = shipped_model(o.net);
  if (model.empty())
    throw UserError(fmt::format("the demo needs a trained model of '{}' (host/models/{}.qdfmodel, from `qdf train {}`), "
                                "and there is none",
                                o.net, o.net, o.net));
  say(fmt::format("qdf demo: Fashion-MNIST through {} ({}), trained model {}\n\n", o.net, manager::builtin_net(o.net).description, model));

  // 1. Compile.
  CompileRequest cr;
  cr.net = o.net;
  cr.model = model;
  cr.fpgas = o.fpgas;
  cr.device = o.device;
  say(fmt::format("[1/4] compile for {} x {} at the highest throughput that fits\n", o.fpgas, o.device));
  Compiled c = compile_network(cr);
  say(manager::plan_table(c.plan));
  report["net"] = o.net;
  report["model"] = model;
  report["plan"] = manager::bundle_manifest(c.plan, c.net);
  report["plan"].erase("engines");
  report["plan"].erase("streams");
  report["plan"].erase("network");

  // 2. The test set in the simulator.
  const Dataset test = load_fashion_mnist("test");
  Design design{c.net, c.weights, c.plan, fmt::format("network {} with {}", o.net, c.weights_source)};
  Engine sim_engine(design, Backend::Sim);
  const std::int64_t n = o.images > 0 ? std::min(o.images, test.size()) : test.size();
  say(fmt::format("\n[2/4] classify {} Fashion-MNIST test images in the cycle-approximate simulator\n", n));
  EvalRun s = evaluate(sim_engine, test, n);
  say(fmt::format("  accuracy            {:.2f}% ({} of {} images)\n", 100 * s.accuracy, s.correct, s.images));
  say(fmt::format("  throughput          {:.0f} images/s at {:.0f} MHz ({:.1f} cycles per image; the plan: {})\n",
                  s.stats.images_per_second, s.stats.clock_mhz, s.stats.cycles_per_image, c.plan.cycles_per_image));
  say(fmt::format("  latency             {} cycles = {:.1f} us (the first image, from its first pixel sent to its label back)\n",
                  s.stats.latency_cycles, static_cast<double>(s.stats.latency_cycles) / s.stats.clock_mhz));
  for (size_t f = 0; f < c.plan.fpgas.size(); ++f)
    say(fmt::format("  FPGA {}              {:.1f}% of LUTs, {:.1f}% of block RAM\n", f, 100 * c.plan.fpgas[f].lut_fraction,
                    100 * c.plan.fpgas[f].bram_fraction));
  say(fmt::format("  simulated in {:.1f} s ({:.0f} images/s on this machine)\n", s.stats.wall_seconds,
                  static_cast<double>(s.images) / s.stats.wall_seconds));
  report["sim"] = eval_json(sim_engine, s);

  // 3. A sample through the RTL and the reference model.
  const int m = static_cast<int>(std::min<std::int64_t>(o.rtl_images, n));
  int status = 0;
  if (m > 0) {
    say(fmt::format("\n[3/4] the first {} test images through the RTL under Verilator and through the reference model\n", m));
    Engine rtl_engine(design, Backend::Rtl);
    EvalRun r = evaluate(rtl_engine, test, m);
    Engine ref_engine(design, Backend::Reference);
    EvalRun ref = evaluate(ref_engine, test, m);
    const std::vector<int>& reference = ref.predicted;
    const double ref_seconds = ref.stats.wall_seconds;
    int rtl_vs_sim = 0, ref_vs_sim = 0;
    std::string first;
    for (int i = 0; i < m; ++i) {
      const auto k = static_cast<size_t>(i);
      if (r.predicted[k] != s.predicted[k] || reference[k] != s.predicted[k]) {
        rtl_vs_sim += r.predicted[k] != s.predicted[k];
        ref_vs_sim += reference[k] != s.predicted[k];
        if (first.empty())
          first = fmt::format(" (first at image {}: simulator {}, RTL {}, reference {})", i, s.predicted[k], r.predicted[k], reference[k]);
      }
    }
    const bool same = rtl_vs_sim == 0 && ref_vs_sim == 0;
    status = same ? 0 : 3;
    say(fmt::format("  predictions         {}\n", same ? fmt::format("identical on all {} images: RTL = simulator = reference", m)
                                                       : fmt::format("DIFFER: RTL on {}, reference on {} of {} images{}", rtl_vs_sim,
                                                                     ref_vs_sim, m, first)));
    say(fmt::format("  accuracy            {:.2f}% on these {} images\n", 100 * r.accuracy, m));
    say(fmt::format("  cycles per image    RTL {:.1f}, simulator {:.1f} ({:+.2f}%)\n", r.stats.cycles_per_image, s.stats.cycles_per_image,
                    100 * (s.stats.cycles_per_image - r.stats.cycles_per_image) / r.stats.cycles_per_image));
    say(fmt::format("  wall time           Verilator build {:.1f} s (cached for the next run), run {:.1f} s; reference {:.1f} s\n",
                    r.stats.rtl_build_seconds, r.stats.rtl_run_seconds, ref_seconds));
    report["rtl"] = eval_json(rtl_engine, r);
    report["rtl"]["identical_to_sim"] = rtl_vs_sim == 0;
    report["rtl"]["reference_identical_to_sim"] = ref_vs_sim == 0;
  }

  // 4. Scaling of the big network on the paper's platform.
  if (o.scaling_fpgas > 0) {
    say(fmt::format("\n[4/4] {} on 1..{} x {} (the paper's platform): plans simulated for timing\n", o.scaling_net, o.scaling_fpgas,
                    o.scaling_device));
    CompileRequest rr;
    rr.net = o.scaling_net;
    rr.device = o.scaling_device;
    std::vector<int> counts;
    for (int k = 1; k <= o.scaling_fpgas; ++k) counts.push_back(k);
    const manager::ScaleStudy study = scale_design(rr, counts, true);
    say(manager::scale_table(study));
    report["scaling"] = manager::scale_json(study);
  }

  const double seconds = since(start);
  report["seconds"] = seconds;
  report["predictions_identical"] = m > 0 ? nlohmann::json(status == 0) : nlohmann::json(nullptr);  // null: nothing compared
  say(fmt::format("\ndemo finished in {:.0f} s\n", seconds));
  dsl::write_directory_atomically(o.out, [&](const std::string& dir) {
    manager::write_bundle(c.plan, c.net, c.weights, dir + "/bundle");
    dsl::write_text_file(dir + "/report.json", report.dump(2) + "\n");
    dsl::write_text_file(dir + "/report.txt", say.text);
  });
  os << fmt::format("bundle written to {}/bundle, reports to {}/report.txt and {}/report.json\n", o.out, o.out, o.out);
  return status;
}

}  // namespace qdf::host

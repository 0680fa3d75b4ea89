// The qdf command line.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"
#include "examples/example_kernels.hpp"
#include "dsl/files.hpp"
#include "host/compile_flow.hpp"
#include "host/sim_flow.hpp"
#include "host/kernel_flow.hpp"
#include "manager/devices.hpp"
#include "manager/links.hpp"
#include "manager/network.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace {

using namespace qdf;

int demo(const std::string& kernel, const std::string& out, std::uint64_t seed) {
  examples::ExampleKernel ex = examples::example_kernel(kernel);
  std::cout << fmt::format("qdf demo: example kernel '{}' ({})\n", ex.name, ex.description);
  host::KernelFlowResult r = host::run_kernel_flow(ex.record(), ex.sample_run(seed), out, std::cout);
  bool ok = r.cosim.match && r.lint.empty();
  std::cout << (r.cosim.match ? "interpreter and Verilator agree on every output element\n"
                              : "interpreter and Verilator DISAGREE\n");
  std::cout << fmt::format("Verilog written to {}\n", r.verilog_path);
  return ok ? 0 : 1;
}

int emit(const std::string& kernel, const std::string& out, bool dump_ir) {
  examples::ExampleKernel ex = examples::example_kernel(kernel);
  dsl::CompileOptions opt;
  if (dump_ir)
    opt.after_pass = [](const std::string& pass, const dsl::Kernel& k) {
      std::cout << "---- after " << pass << " ----\n" << dsl::dump(k);
    };
  dsl::VerilogModule m = dsl::emit_verilog(dsl::compile_kernel(ex.record(), opt));
  dsl::write_directory_atomically(out, [&](const std::string& d) { dsl::write_verilog(m, d); });
  std::cout << fmt::format("wrote {}/{}.v\n", out, m.top);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"qdf: quantized neural networks as C++ programs, simulated and lowered to Verilog"};
  app.require_subcommand(1);

  std::string kernel = qdf::examples::example_kernels().front().name, out = "qdf-out";
  std::uint64_t seed = 1;
  bool dump_ir = false;
  auto* d = app.add_subcommand("demo", "compile an example kernel to Verilog, run it in the interpreter and in "
                                       "Verilator, and show that they agree");
  d->add_option("--kernel", kernel, "example kernel (see `qdf kernels`)")->capture_default_str();
  d->add_option("--out", out, "directory for the generated Verilog")->capture_default_str();
  d->add_option("--seed", seed, "seed of the random input streams")->capture_default_str();

  auto* k = app.add_subcommand("kernels", "list the example kernels");
  auto* dv = app.add_subcommand("devices", "list the FPGA devices and their resource budgets");
  auto* nt = app.add_subcommand("nets", "list the built-in networks");

  host::CompileRequest cr;
  bool max_throughput = false, json_out = false;
  auto* c = app.add_subcommand("compile", "fold a network, partition it over FPGAs and write its bundle (manifest, "
                                          "Verilog per FPGA, init files)");
  c->add_option("net", cr.net, "built-in network (see `qdf nets`)")->required();
  c->add_option("--fpgas", cr.fpgas, "number of FPGAs on the ring")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--device", cr.device, "FPGA device (see `qdf devices`)")->capture_default_str();
  auto* fps_opt = c->add_option("--fps", cr.fps, "target images per second")->check(CLI::PositiveNumber);
  auto* max_opt = c->add_flag("--max-throughput", max_throughput, "the highest throughput that fits (the default)");
  fps_opt->excludes(max_opt);
  c->add_option("--model", cr.model, "model file with the weights (default: seeded random weights)")->check(CLI::ExistingFile);
  c->add_option("--seed", cr.seed, "seed of the random weights")->capture_default_str();
  c->add_option("--folding", cr.folding, "fixed folding, JSON {\"layer\": {\"pe\": P, \"simd\": S}}")->check(CLI::ExistingFile);
  c->add_option("--utilization", cr.utilization, "fraction of each FPGA's LUTs and block RAMs to use")->capture_default_str();
  c->add_option("--ring-gbps", cr.ring_gbps, "ring link bandwidth, GB/s per direction (default 5, an assumption)");
  c->add_option("--ring-latency-us", cr.ring_latency_us, "ring link latency, microseconds (default 1)");
  c->add_option("--host-gbps", cr.host_gbps, "host link bandwidth, GB/s per direction (default 3.2)");
  c->add_option("--host-latency-us", cr.host_latency_us, "host link latency, microseconds (default 2)");
  c->add_option("--out", cr.out, "bundle directory (written atomically)")->required();
  c->add_flag("--json", json_out, "print the manifest's summary as JSON instead of the table");

  // `qdf sim` and `qdf verify` take a bundle, or a built-in network that they plan as `qdf compile` does.
  std::string target;
  host::CompileRequest sr;
  int images = 0;
  bool timing_only = false, sim_json_out = false, sim_max = false;
  std::uint64_t image_seed = 1;
  std::string backend = "rtl";
  auto design_options = [&](CLI::App* a) {
    a->add_option("design", target, "a bundle directory (from `qdf compile`) or a built-in network (see `qdf nets`)")->required();
    a->add_option("--fpgas", sr.fpgas, "(network) number of FPGAs on the ring")->capture_default_str()->check(CLI::PositiveNumber);
    a->add_option("--device", sr.device, "(network) FPGA device (see `qdf devices`)")->capture_default_str();
    auto* f = a->add_option("--fps", sr.fps, "(network) target images per second")->check(CLI::PositiveNumber);
    f->excludes(a->add_flag("--max-throughput", sim_max, "(network) the highest throughput that fits (the default)"));
    a->add_option("--model", sr.model, "(network) model file with the weights (default: seeded random weights)")->check(CLI::ExistingFile);
    a->add_option("--folding", sr.folding, "(network) fixed folding, JSON {\"layer\": {\"pe\": P, \"simd\": S}}")->check(CLI::ExistingFile);
    a->add_option("--seed", image_seed, "seed of the random input images")->capture_default_str();
    a->add_flag("--json", sim_json_out, "print one JSON object instead of the tables");
  };
  auto* sm = app.add_subcommand("sim", "simulate a design: images/s, latency, per-engine stalls, FIFO peaks, link use, "
                                       "and outputs against the reference model");
  design_options(sm);
  sm->add_option("--images", images, "images to run")->default_val(8)->check(CLI::PositiveNumber);
  sm->add_flag("--timing-only", timing_only, "skip values (for design sweeps)");
  auto* vf = app.add_subcommand("verify", "run the same images through the simulator and a backend, and compare "
                                          "outputs and cycles");
  design_options(vf);
  vf->add_option("--images", images, "images to run")->default_val(3)->check(CLI::PositiveNumber);
  vf->add_option("--backend", backend, "backend to check the simulator against")->check(CLI::IsMember({"rtl"}))->capture_default_str();

  auto* e = app.add_subcommand("emit", "write the Verilog of an example kernel");
  e->add_option("kernel", kernel, "example kernel")->required();
  e->add_option("--out", out, "output directory")->capture_default_str();
  e->add_flag("--dump-ir", dump_ir, "print the IR after each pass");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);
  }
  try {
    if (d->parsed()) return demo(kernel, out, seed);
    if (k->parsed()) {
      for (const auto& ex : qdf::examples::example_kernels()) std::cout << fmt::format("{:<20} {}\n", ex.name, ex.description);
      return 0;
    }
    if (e->parsed()) return emit(kernel, out, dump_ir);
    if (c->parsed()) {
      host::Compiled r = host::compile_network(cr);
      if (json_out) {
        nlohmann::json m = manager::bundle_manifest(r.plan, r.net);
        for (const char* big : {"engines", "streams", "network"}) m.erase(big);
        m["bundle"] = cr.out;
        std::cout << m.dump(2) << "\n";
      } else {
        std::cout << fmt::format("qdf compile: {} on {} x {}, planned in {:.2f} s\n", cr.net, r.plan.fpgas.size(), r.plan.device.name,
                                 r.plan.plan_seconds)
                  << manager::plan_table(r.plan) << fmt::format("bundle written to {}\n", cr.out);
      }
      return 0;
    }
    if (sm->parsed()) {
      host::Design design = host::open_design(target, sr);
      host::SimRun r = host::simulate_design(design, images, timing_only, image_seed);
      if (sim_json_out) std::cout << host::sim_json(design, r).dump(2) << "\n";
      else std::cout << host::sim_table(design, r);
      return timing_only || r.outputs_match_reference ? 0 : 3;
    }
    if (vf->parsed()) {
      host::Design design = host::open_design(target, sr);
      host::VerifyRun v = host::verify_design(design, images, image_seed);
      if (sim_json_out) std::cout << host::verify_json(design, v).dump(2) << "\n";
      else std::cout << host::verify_table(design, v);
      return v.bit_exact && v.reference_match ? 0 : 3;
    }
    if (nt->parsed()) {
      std::cout << fmt::format("{:<10} {:>7} {:>14} {:>12}  {}\n", "network", "layers", "binary MACs", "input", "description");
      for (const auto& n : qdf::manager::builtin_nets())
        std::cout << fmt::format("{:<10} {:>7} {:>14} {:>12}  {}\n", n.name, n.net.layers().size(), n.net.binary_macs(),
                                 n.net.layers().front().out.str(), n.description);
      return 0;
    }
    if (dv->parsed()) {
      std::cout << fmt::format("{:<32} {:>10} {:>11} {:>7} {:>12} {:>7} {:>7}\n", "device", "LUTs", "FFs", "BRAMs",
                               "BRAM bits", "DSPs", "MHz");
      for (const auto& d : qdf::manager::devices())
        std::cout << fmt::format("{:<32} {:>10} {:>11} {:>7} {:>12} {:>7} {:>7.0f}\n", d.name,
                                 fmt::format("{} {}", d.luts, d.lut_kind == "ALUT" ? "ALUT" : ""), d.ffs, d.bram_blocks,
                                 d.bram_bits, d.dsps, d.clock_mhz);
      std::cout << fmt::format("\n{:<8} {:>14} {:>12}  {}\n", "link", "GB/s", "latency us", "description");
      for (const auto& l : qdf::manager::default_links())
        std::cout << fmt::format("{:<8} {:>14.2f} {:>12.2f}  {}\n", l.name, l.bandwidth / 1e9, l.latency * 1e6, l.description);
      return 0;
    }
  } catch (const qdf::UserError& err) {
    std::cerr << "qdf: error: " << err.what() << "\n";
    return 1;
  } catch (const std::exception& err) {
    std::cerr << "qdf: " << err.what() << "\n";
    return 2;
  }
  return 0;
}

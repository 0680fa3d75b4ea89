// The qdf command line (host/cli/command_line.hpp): `qdf`'s, and a program's for its own network.
#include "host/cli/command_line.hpp"

#include "dsl/errors.hpp"
#include "dsl/passes.hpp"
#include "examples/example_kernels.hpp"
#include "dsl/files.hpp"
#include "host/design/compile_flow.hpp"
#include "host/cli/demo_flow.hpp"
#include "host/cli/eval_flow.hpp"
#include "host/cli/sim_flow.hpp"
#include "host/cli/sweep_flow.hpp"
#include "host/distributed/ranks.hpp"
#include "host/cli/kernel_flow.hpp"
#include "host/cli/progress.hpp"
#include "host/onnx/export_qonnx.hpp"
#include "host/onnx/import_qonnx.hpp"
#include "host/train/train_network.hpp"
#include "manager/devices.hpp"
#include "manager/links.hpp"
#include "manager/network.hpp"
#include "sim/thread_pool.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <filesystem>
#include <unistd.h>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>

namespace {

using namespace qdf;

int kernel_cosim(const std::string& kernel, const std::string& out, std::uint64_t seed) {
  examples::ExampleKernel ex = examples::example_kernel(kernel);
  std::cout << fmt::format("qdf cosim: example kernel '{}' ({})\n", ex.name, ex.description);
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

// A number in a range, finite: CLI11's PositiveNumber and Range test for being outside the range
// (`v <= 0`), which NaN never is, and let infinity through. `range` says what is expected.
CLI::Validator number_in(double lo, bool lo_included, double hi, const std::string& range) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return fmt::format("expected a number, found '{}'", text);
        if (std::isfinite(v) && (lo_included ? v >= lo : v > lo) && v <= hi) return "";
        return fmt::format("expected {}, found {}", range, text);
      },
      range);
}
const double kHuge = std::numeric_limits<double>::max();
// Counts: CLI11's PositiveNumber and NonNegativeNumber name the largest double in their message.
const CLI::Validator kPositive = number_in(0, false, kHuge, "a positive number");
const CLI::Validator kNonNegative = number_in(0, true, kHuge, "a number >= 0");

// A bundle was compiled with its own network, weights, FPGAs and folding: the options that plan
// a built-in network (their help starts with "(network)") would be ignored, so they are refused.
void refuse_network_options(const CLI::App* a, const std::string& target) {
  if (!std::filesystem::is_directory(target)) return;
  for (const CLI::Option* o : a->get_options())
    if (o->count() > 0 && o->get_description().rfind("(network)", 0) == 0)
      throw qdf::UserError(fmt::format("{} applies to a built-in network, but {} is a bundle, compiled with its own; run "
                                       "`qdf compile` again to change it",
                                       o->get_name(), target));
}

// The options that open a design, declared once for every subcommand that opens one (compile,
// sim, verify, eval): the design, and how a built-in network is planned. Each planning option
// fills a member of host::CompileRequest, which open_design and compile_network plan with.
struct DesignArgs {
  std::string target;            // a bundle directory or a built-in network (a program's tool: a bundle or "")
  host::CompileRequest request;  // how a built-in network is planned (its net and out are set by the caller)
  bool max_throughput = false;   // the default already: request.fps == 0
  CLI::Option* refused_seed = nullptr;  // `--seed` where there are no images (add_design_options)
  bool allow_edited_bundle = false;     // a bundle whose files differ from its manifest is run as it is
};

// Opens the design, saying on stderr which files of an edited bundle run as they are.
host::Design open_design(const DesignArgs& d) {
  if (d.allow_edited_bundle && !std::filesystem::is_directory(d.target))
    throw qdf::UserError(fmt::format("--allow-edited-bundle applies to a bundle, but '{}' is a built-in network, planned afresh", d.target));
  host::Design design = host::open_design(d.target, d.request, d.allow_edited_bundle);
  for (const std::string& e : design.edited_files) std::cerr << "qdf: warning: edited bundle file run as it is: " << e << "\n";
  return design;
}

void refuse_seed(const DesignArgs& d, const std::string& subcommand) {
  if (d.refused_seed && d.refused_seed->count() > 0)
    throw qdf::UserError(fmt::format("qdf {} has no images for --seed to seed; the seed of the random weights is --weights-seed (in "
                                     "sim and verify, --seed is the images' seed, --image-seed)",
                                     subcommand));
}

enum class DesignTarget {
  Network,          // `qdf compile`: a built-in network only
  BundleOrNetwork,  // a bundle too: the planning options' help starts with "(network)", and
                    // refuse_network_options refuses them with a bundle
};

// `target_help`: what the positional design is; a target already set is its default (optional),
// an empty one makes it required. One flag, one meaning: `--weights-seed` seeds the weights
// everywhere, `--image-seed` (alias `--seed`) the images of sim and verify. `qdf compile` and
// `qdf scale` have no images: their `--seed` is refused with a pointer to `--weights-seed`
// rather than taken for the weights' seed, which `qdf sim --seed` is not.
// A program's tool (`program` set) plans its own network: no network to name, and where a bundle
// may be given instead it is an optional directory.
void add_design_options(CLI::App* a, DesignArgs& d, DesignTarget kind, const std::string& target_help,
                        const host::ProgramNetwork* program) {
  const bool network_only = kind == DesignTarget::Network;
  const std::string p = network_only ? "" : "(network) ";
  host::CompileRequest& r = d.request;
  if (program) {
    d.target.clear();
    r.net = program->net.name.empty() ? program->program : program->net.name;
    r.network = program->net;
    r.network_weights = program->weights;
    if (!network_only)
      a->add_option("bundle", d.target, fmt::format("a bundle directory (default: {}, planned as `{} compile` would)", r.net, program->program))
          ->check(CLI::ExistingDirectory);
  } else {
    CLI::Option* t = a->add_option(network_only ? "net" : "design", d.target, target_help);
    if (d.target.empty()) t->required();
    else t->capture_default_str();
  }
  a->add_option("--fpgas", r.fpgas, p + "number of FPGAs on the ring")->capture_default_str()->check(kPositive);
  a->add_option("--device", r.device, p + "FPGA device (see `qdf devices`)")->capture_default_str();
  a->add_option("--fps", r.fps, p + "target images per second")
      ->check(number_in(0, false, kHuge, "a finite number of images per second > 0"))
      ->excludes(a->add_flag("--max-throughput", d.max_throughput, p + "the highest throughput that fits (the default)"));
  a->add_option("--model", r.model, p + fmt::format("model file with the weights (default: the {}, else seeded random weights)",
                                                     program ? "program's weights" : "network's shipped model"))
      ->check(CLI::ExistingFile);
  a->add_option("--weights-seed", r.seed, p + "seed of the random weights")->capture_default_str();
  if (network_only) d.refused_seed = a->add_option("--seed")->group("");  // hidden; refused by refuse_seed
  a->add_flag("--random-weights", r.random_weights,
              p + (program ? "seeded random weights even when the program gives weights"
                           : "seeded random weights even for a network shipped with a trained model"));
  a->add_option("--folding", r.folding, p + "fixed folding, JSON {\"layer\": {\"pe\": P, \"simd\": S}}")->check(CLI::ExistingFile);
  a->add_option("--utilization", r.utilization, p + "fraction of each FPGA's LUTs and block RAMs to use")
      ->capture_default_str()
      ->check(number_in(0, false, 1, "a fraction in (0, 1]"));
  const CLI::Validator gbps = number_in(0, false, kHuge, "a finite number of GB/s > 0");
  const CLI::Validator latency = number_in(0, true, manager::max_link_latency_s * 1e6, fmt::format("0..{:g} microseconds", manager::max_link_latency_s * 1e6));
  a->add_option("--ring-gbps", r.ring_gbps, p + "ring link bandwidth, GB/s per direction (default 5, an assumption)")->check(gbps);
  a->add_option("--ring-latency-us", r.ring_latency_us, p + "ring link latency, microseconds (default 1)")->check(latency);
  a->add_option("--host-gbps", r.host_gbps, p + "host link bandwidth, GB/s per direction (default 3.2)")->check(gbps);
  a->add_option("--host-latency-us", r.host_latency_us, p + "host link latency, microseconds (default 2)")->check(latency);
  if (!network_only)
    a->add_flag("--allow-edited-bundle", d.allow_edited_bundle,
                "(bundle) run a bundle whose files differ from those its manifest records, as they are, saying so");
}

struct TrainArgs {
  std::string net = "fashion-cnv", data, out, resume;
  const host::ProgramNetwork* program = nullptr;  // its network, in place of the built-in `net`
  host::TrainOptions opt;
  bool no_flip = false, json = false;
  bool net_given = false;
  std::vector<std::string> run_flags_given;  // the flags that fix a run, as given (refused with --resume)
};

int train(TrainArgs& a) {
  std::optional<host::Checkpoint> resumed;
  if (!a.resume.empty()) {
    resumed = host::read_checkpoint(a.resume);
    if (!a.run_flags_given.empty())
      throw qdf::UserError(fmt::format("{} cannot be given with --resume: the run goes on with the options of the checkpoint {} "
                                       "({} epochs of {} images, {}, seed {})",
                                       fmt::join(a.run_flags_given, ", "), a.resume, resumed->options.epochs, resumed->options.batch,
                                       resumed->options.optimizer, resumed->options.seed));
    if (!a.program && !a.net_given) a.net = resumed->net;
    const std::string checkpoint = a.opt.checkpoint;
    a.opt = resumed->options;  // what the run goes on with (resume_training reads them again)
    a.opt.checkpoint = checkpoint;
    a.no_flip = !a.opt.flip;
  }
  const manager::Net& net = a.program ? a.program->net : manager::builtin_net(a.net).net;
  if (resumed && resumed->net != net.name)
    throw qdf::UserError(fmt::format("--resume {}: the checkpoint is of network '{}', not '{}'", a.resume, resumed->net, net.name));
  // Refuse an unwritable output before hours of training, not after.
  auto check_writable = [](const char* flag, const std::string& path) {
    const std::filesystem::path out = std::filesystem::absolute(path);
    if (std::filesystem::is_directory(out)) throw qdf::UserError(fmt::format("{} {} is a directory; expected a file name", flag, path));
    if (!std::filesystem::is_directory(out.parent_path()))
      throw qdf::UserError(fmt::format("{} {}: the directory {} does not exist", flag, path, out.parent_path().string()));
    if (::access(out.parent_path().c_str(), W_OK) != 0)
      throw qdf::UserError(fmt::format("{} {}: the directory {} is not writable", flag, path, out.parent_path().string()));
  };
  check_writable("--out", a.out);
  if (!a.opt.checkpoint.empty()) check_writable("--checkpoint", a.opt.checkpoint);
  host::Dataset train_set = host::load_fashion_mnist("train", a.data), test_set = host::load_fashion_mnist("test", a.data);
  a.opt.flip = !a.no_flip;
  std::unique_ptr<host::ProgressBar> bar;
  a.opt.progress = [&](int epoch, double f, double loss, double acc) {
    if (!bar) bar = std::make_unique<host::ProgressBar>(fmt::format("epoch {}/{}", epoch, a.opt.epochs));
    bar->update(f, fmt::format("loss {:.4f} accuracy {:.2f}%", loss, 100 * acc));
  };
  if (!a.json) {
    std::cout << fmt::format("qdf train: {} on {} ({} images; {} test images), {} epochs of {} images, {}, seed {}\n", a.net,
                             train_set.name, a.opt.train_images > 0 ? std::min(a.opt.train_images, train_set.size()) : train_set.size(),
                             test_set.size(), a.opt.epochs, a.opt.batch, a.opt.optimizer, a.opt.seed);
    if (resumed) std::cout << fmt::format("resumed from {} after epoch {}\n", a.resume, resumed->epochs.size());
    std::cout << fmt::format("{:>6} {:>10} {:>16} {:>22} {:>9} {:>8}\n", "epoch", "loss", "train accuracy", "test accuracy (int)",
                             "lr", "seconds");
  }
  a.opt.epoch_done = [&](const host::EpochReport& r) {
    bar.reset();
    if (!a.json)
      std::cout << fmt::format("{:>6} {:>10.4f} {:>15.2f}% {:>21.2f}% {:>9.2e} {:>8.1f}", r.epoch, r.loss, 100 * r.train_accuracy,
                               100 * r.test_accuracy, r.lr, r.seconds)
                << std::endl;
  };
  if (resumed && !a.json)
    for (const host::EpochReport& r : resumed->epochs) a.opt.epoch_done(r);
  host::TrainResult r = resumed ? host::resume_training(net, train_set, test_set, a.resume, a.opt)
                                : host::train_network(net, train_set, test_set, a.opt);
  manager::save_model(a.out, net, r.weights);
  if (a.json) {
    nlohmann::json j = {{"network", a.net}, {"model", a.out}, {"accuracy", r.test_accuracy}, {"images", test_set.size()},
                        {"seconds", r.seconds}, {"epochs", nlohmann::json::array()}};
    for (const auto& e : r.epochs)
      j["epochs"].push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"train_accuracy", e.train_accuracy},
                             {"test_accuracy", e.test_accuracy}, {"seconds", e.seconds}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("trained in {:.1f} s; the folded integer network classifies {:.2f}% of the {} test images "
                             "correctly\nmodel written to {}\n",
                             r.seconds, 100 * r.test_accuracy, test_set.size(), a.out);
  }
  return 0;
}

bool parsed(const CLI::App* a) { return a && a->parsed(); }

// Which process of an MPI job reports an error: "" for rank 0 (and one process alone). A rank
// other than 0 reports its own errors too, since they may be its own (a file missing on its
// node); an error of every rank (a bad flag) is then said once by each, the others' labelled.
std::string rank_note(const host::Ranks& r) { return r.root() ? "" : fmt::format("(rank {} of {}) ", r.rank(), r.size()); }

}  // namespace

namespace {

enum class Stop { AfterChecks, Never };

int command_line(int argc, char** argv, const qdf::host::ProgramNetwork* program, Stop stop) {
  using namespace qdf;
  const std::string tool = program ? program->program : "qdf";
  host::keep_freed_memory();
  // The processes of an MPI job (one without mpirun): MPI is started here when mpirun launched
  // qdf, and ended when the command returns; only rank 0 prints results.
  const host::Ranks* ranks_ptr = nullptr;
  try {
    ranks_ptr = &host::Ranks::world();
  } catch (const qdf::UserError& err) {
    std::cerr << tool << ": error: " << err.what() << "\n";
    return 1;
  }
  const host::Ranks& ranks = *ranks_ptr;
  struct FinishMpi {
    ~FinishMpi() { host::Ranks::finish(); }
  } finish_mpi;
  CLI::App app{program ? fmt::format("network {} as a qdf tool: compiled, simulated, verified against its RTL, evaluated and "
                                     "trained with qdf's subcommands",
                                     program->net.name.empty() ? tool : program->net.name)
                       : "qdf: quantized neural networks as C++ programs, simulated and lowered to Verilog",
               tool};
  app.require_subcommand(1);
  // The subcommands of `qdf` alone (kernels, built-in networks, QONNX import): null in a program's tool.
  auto qdf_only = [&](const std::string& name, const std::string& description) {
    return program ? nullptr : app.add_subcommand(name, description);
  };

  std::string kernel = qdf::examples::example_kernels().front().name, out = "qdf-out";
  std::uint64_t seed = 1;
  bool dump_ir = false;
  host::DemoOptions demo;
  auto* d = qdf_only("demo", "the main job: compile the shipped Fashion-MNIST network for 2 FPGAs, classify the "
                            "test set in the simulator, check a sample against the RTL under Verilator, and "
                            "predict resnet18's throughput on 1..8 FPGAs");
  if (d) {
  d->add_option("--out", demo.out, "directory for the bundle and the reports (written at the end)")->capture_default_str();
  d->add_option("--fpgas", demo.fpgas, "FPGAs for the Fashion-MNIST network")->capture_default_str()->check(kPositive);
  d->add_option("--device", demo.device, "their device (see `qdf devices`)")->capture_default_str();
  d->add_option("--images", demo.images, "test images through the simulator (default: all 10,000)")->check(kPositive);
  d->add_option("--rtl-images", demo.rtl_images, "of which the first N also through the RTL and the reference model")
      ->capture_default_str()->check(kNonNegative);
  d->add_option("--scaling-fpgas", demo.scaling_fpgas, "resnet18 on 1..N FPGAs (0: skip)")->capture_default_str()->check(kNonNegative);
  }

  auto* ck = qdf_only("cosim", "compile an example kernel to Verilog, run it in the interpreter and in "
                               "Verilator under random stalls, and show that they agree");
  if (ck) {
  ck->add_option("kernel", kernel, "example kernel (see `qdf kernels`)")->capture_default_str();
  ck->add_option("--out", out, "directory for the generated Verilog")->capture_default_str();
  ck->add_option("--seed", seed, "seed of the random input streams")->capture_default_str();
  }

  auto* k = qdf_only("kernels", "list the example kernels");
  auto* dv = app.add_subcommand("devices", "list the FPGA devices and their resource budgets");
  auto* nt = qdf_only("nets", "list the built-in networks");

  DesignArgs compile_design;
  bool json_out = false;
  auto* c = app.add_subcommand("compile", "fold a network, partition it over FPGAs and write its bundle (manifest, "
                                          "Verilog per FPGA, init files)");
  add_design_options(c, compile_design, DesignTarget::Network,
                     "built-in network (see `qdf nets`), a QONNX .onnx or a .qdfmodel written by `qdf import`", program);
  c->add_option("--out", compile_design.request.out, "bundle directory (written atomically)")->required();
  c->add_flag("--json", json_out, "print the manifest's summary as JSON instead of the table");

  // `qdf sim` and `qdf verify` take a bundle, or a built-in network that they plan as `qdf compile` does.
  DesignArgs sim_design;
  // Each subcommand its own count: CLI11 writes an option's default into its variable when the
  // option is declared, so one variable shared by sim and verify took verify's default for both.
  int sim_images = 8, verify_images = 3, threads = 0;
  std::string reference = "default";
  bool timing_only = false, sim_json_out = false;
  std::uint64_t image_seed = 1;
  std::int64_t max_cycles = 0;  // none
  std::string backend = "rtl";
  auto sim_options = [&](CLI::App* a) {
    add_design_options(a, sim_design, DesignTarget::BundleOrNetwork,
                       "a bundle directory (from `qdf compile`), a built-in network (see `qdf nets`), a QONNX .onnx or an "
                       "imported .qdfmodel",
                       program);
    a->add_option("--image-seed,--seed", image_seed, "seed of the random input images (the weights': --weights-seed)")->capture_default_str();
    a->add_flag("--json", sim_json_out, "print one JSON object instead of the tables");
    a->add_option("--threads", threads, "threads for the values and the reference check: 0 = every core, or 1 .. 256; "
                                        "the results are the same on any number")
        ->capture_default_str();
    a->add_option("--max-cycles", max_cycles, "stop the simulation with an error past this many cycles (default: no limit)")
        ->check(number_in(0, false, 9e18, "a positive number of cycles"));
  };
  auto* sm = app.add_subcommand("sim", "simulate a design: images/s, latency, per-engine stalls, FIFO peaks, link use, "
                                       "and outputs against the reference model");
  sim_options(sm);
  sm->add_option("--images", sim_images, "images to run")->capture_default_str()->check(kPositive);
  sm->add_flag("--timing-only", timing_only, "skip values (for design sweeps)");
  sm->add_option("--reference", reference,
                 "images checked against the reference model: all, none, or N spread over the run (default: as many as "
                 "2e9 MACs of the reference model allow, at least the first and the last)");
  auto* vf = app.add_subcommand("verify", "run the same images through the simulator and a backend, and compare "
                                          "outputs and cycles");
  sim_options(vf);
  vf->add_option("--images", verify_images, "images to run")->capture_default_str()->check(kPositive);
  vf->add_option("--backend", backend, "backend to check the simulator against")->check(CLI::IsMember({"rtl"}))->capture_default_str();

  struct {
    DesignArgs design;
    std::string backend = "sim", split = "test", data, image_file, label_file, predictions;
    std::int64_t images = 0;
    bool json = false;
  } ea;
  auto* ev = app.add_subcommand("eval", fmt::format("accuracy of a trained model on Fashion-MNIST, or an IDX pair of --image-file and "
                                                    "--label-file, through a backend (by default {} on the 10,000 test images in the simulator)",
                                                    program ? "the program's network" : "the shipped fashion-cnv"));
  ea.design.target = "fashion-cnv";  // the default design of `qdf eval`
  add_design_options(ev, ea.design, DesignTarget::BundleOrNetwork,
                     "a bundle directory, a built-in network with a trained model, a QONNX .onnx or an imported .qdfmodel", program);
  ev->add_option("--backend", ea.backend, "reference, sim or rtl")->capture_default_str()->check(CLI::IsMember({"reference", "sim", "rtl"}));
  ev->add_option("--images", ea.images, "the first N images (default: all)")->check(kPositive);
  ev->add_option("--split", ea.split, "test or train")->capture_default_str()->check(CLI::IsMember({"test", "train"}));
  ev->add_option("--data", ea.data, "directory of the Fashion-MNIST IDX files (default: Debian's, or $QDF_FASHION_MNIST_DIR)")->check(CLI::ExistingDirectory);
  ev->add_flag("--json", ea.json, "print one JSON object instead of the table");
  ev->add_option("--predictions", ea.predictions, "write each image's predicted label to FILE, one a line in image order");
  {
    CLI::Option* imf = ev->add_option("--image-file", ea.image_file, "an IDX image file (raw or .gz; MNIST's format) instead of Fashion-MNIST")
                           ->check(CLI::ExistingFile);
    CLI::Option* lbf = ev->add_option("--label-file", ea.label_file, "its IDX label file (raw or .gz)")->check(CLI::ExistingFile);
    imf->needs(lbf);
    lbf->needs(imf);
    imf->excludes("--data");
    imf->excludes("--split");
  }

  struct {
    std::string model, out, input_range = "auto";
    bool json = false;
  } ia;
  auto* im = qdf_only("import", "turn a QONNX model (ONNX with Quant, BipolarQuant, MultiThreshold) into a qdf network and "
                                "its model file (docs/onnx.md)");
  if (im) {
  im->add_option("model", ia.model, "the .onnx file")->required()->check(CLI::ExistingFile);
  im->add_option("--out", ia.out, "model file to write (.qdfmodel; it describes the network too)")->required();
  im->add_option("--input-range", ia.input_range, "the model's float input for a pixel p: auto, unit (p / 255) or byte (p)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "unit", "byte"}));
  im->add_flag("--json", ia.json, "print the network as JSON instead of its layers");
  }

  // `qdf export` writes weights, not a design: only the options that choose the weights.
  struct {
    host::CompileRequest request;
    std::string out;
  } xa;
  auto* ex = app.add_subcommand("export", "write a network and its weights as a QONNX model (docs/onnx.md)");
  if (program) {
    xa.request.net = program->net.name.empty() ? program->program : program->net.name;
    xa.request.network = program->net;
    xa.request.network_weights = program->weights;
  } else {
    ex->add_option("net", xa.request.net, "a built-in network (its shipped model, --model or random weights), or a .qdfmodel written by "
                                          "`qdf import`")
        ->required();
  }
  ex->add_option("--model", xa.request.model, fmt::format("model file with the weights (default: the {}, else seeded random weights)",
                                                          program ? "program's weights" : "network's shipped model"))
      ->check(CLI::ExistingFile);
  ex->add_option("--weights-seed", xa.request.seed, "seed of the random weights")->capture_default_str();
  ex->add_flag("--random-weights", xa.request.random_weights, "seeded random weights even for a network shipped with a trained model");
  ex->add_option("--out", xa.out, "the .onnx file to write")->required();

  TrainArgs ta;
  ta.program = program;
  if (program) ta.net = program->net.name.empty() ? program->program : program->net.name;
  auto* tr = app.add_subcommand("train", "quantization-aware training of a network on Fashion-MNIST; writes the folded "
                                         "model (docs/model_format.md)");
  if (!program) tr->add_option("net", ta.net, "built-in network (see `qdf nets`)")->capture_default_str();
  tr->add_option("--out", ta.out, "model file to write")->required();
  tr->add_option("--epochs", ta.opt.epochs, "epochs")->capture_default_str()->check(kPositive);
  tr->add_option("--batch", ta.opt.batch, "images per batch")->capture_default_str()->check(kPositive);
  tr->add_option("--optimizer", ta.opt.optimizer, "adam, or sgd with momentum")->capture_default_str()->check(CLI::IsMember({"adam", "sgd"}));
  tr->add_option("--lr", ta.opt.lr, "peak learning rate, decayed to 0 by a cosine (default 2e-3 adam, 0.05 sgd)")->check(number_in(0, false, kHuge, "a finite learning rate > 0"));
  tr->add_option("--momentum", ta.opt.momentum, "momentum of sgd")->capture_default_str()->check(number_in(0, true, 1, "0..1"));
  tr->add_option("--seed", ta.opt.seed, "seed of the weights, the batch order and the flips")->capture_default_str();
  tr->add_option("--train-images", ta.opt.train_images, "train on the first N training images (default: all 60,000)")->check(kPositive);
  tr->add_flag("--no-flip", ta.no_flip, "no random left-right flips of training images");
  tr->add_option("--data", ta.data, "directory of the Fashion-MNIST IDX files (default: Debian's, or $QDF_FASHION_MNIST_DIR)")->check(CLI::ExistingDirectory);
  tr->add_flag("--json", ta.json, "print one JSON object instead of the table");
  tr->add_option("--checkpoint", ta.opt.checkpoint, "write the training state to FILE after every epoch, to go on from with --resume");
  tr->add_option("--resume", ta.resume, "go on with the run of the checkpoint FILE (its network and options) from its last epoch")
      ->check(CLI::ExistingFile);

  DesignArgs scale_args;
  std::string scale_fpgas = "1..8";
  bool scale_simulate = false, scale_json_out = false;
  auto* sc = app.add_subcommand("scale", "a network's highest throughput on 1..K FPGAs: cycles per image, images/s, scaling "
                                         "efficiency, the busiest FPGA, ring link loads, and what limits each");
  add_design_options(sc, scale_args, DesignTarget::Network, "built-in network (see `qdf nets`)", program);
  sc->remove_option(sc->get_option("--fpgas"));
  sc->remove_option(sc->get_option("--fps"));
  sc->remove_option(sc->get_option("--max-throughput"));
  sc->add_option("--fpgas", scale_fpgas, "FPGA counts: N, A..B or A,B,C")->capture_default_str();
  sc->add_flag("--simulate", scale_simulate, "also simulate each plan for timing (steady state) and report the simulated cycles");
  sc->add_flag("--json", scale_json_out, "print one JSON object instead of the table");

  // `qdf sweep`: the design options of `qdf compile`, with lists where a sweep varies them.
  DesignArgs sweep_args;
  std::string sweep_devices = sweep_args.request.device, sweep_fpgas = "1..8", sweep_fps = "max", sweep_foldings = "search";
  bool sweep_simulate = false, sweep_json_out = false;
  int sweep_threads = 0;
  auto* sw = app.add_subcommand("sweep", "a design-space sweep of a network over devices, FPGA counts, fps targets and foldings: "
                                         "each point planned (and timed in the simulator with --simulate); split over the ranks "
                                         "under mpirun, with the same output");
  add_design_options(sw, sweep_args, DesignTarget::Network, "built-in network (see `qdf nets`), a QONNX .onnx or an imported .qdfmodel",
                     program);
  for (const char* varied : {"--fpgas", "--fps", "--max-throughput", "--device", "--folding"}) sw->remove_option(sw->get_option(varied));
  sw->add_option("--device", sweep_devices, "FPGA devices, A,B (see `qdf devices`)")->capture_default_str();
  sw->add_option("--fpgas", sweep_fpgas, "FPGA counts: N, A..B or A,B,C")->capture_default_str();
  sw->add_option("--fps", sweep_fps, "fps targets in images/s, A,B, and max for the highest throughput that fits")->capture_default_str();
  sw->add_option("--folding", sweep_foldings, "folding files F,G (JSON {\"layer\": {\"pe\": P, \"simd\": S}}), and search for the "
                                             "folding search")
      ->capture_default_str();
  sw->add_flag("--simulate", sweep_simulate, "also time each plan in the simulator (timing only, steady state) and report its cycles");
  sw->add_flag("--json", sweep_json_out, "print one JSON object instead of the table");
  sw->add_option("--threads", sweep_threads, "design points planned (and simulated) at once: 0 = every core, or 1 .. 256; the "
                                             "results are the same on any number")
      ->capture_default_str();

  auto* e = qdf_only("emit", "write the Verilog of an example kernel");
  if (e) {
    e->add_option("kernel", kernel, "example kernel")->required();
    e->add_option("--out", out, "output directory")->capture_default_str();
    e->add_flag("--dump-ir", dump_ir, "print the IR after each pass");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return ranks.root() ? app.exit(err) : err.get_exit_code();  // every rank parsed the same argv: rank 0 says it
  }
  // A job of several ranks: eval, sim and sweep split their images or design points over them;
  // any other subcommand would run P times over (and write the same files), so it is refused.
  const std::string subcommand = app.get_subcommands().front()->get_name();
  if (ranks.size() > 1 && !ev->parsed() && !sm->parsed() && !sw->parsed()) {
    if (ranks.root())
      std::cerr << fmt::format("{}: error: {} {} runs as one process, but mpirun launched {} of them; only eval, sim and sweep split "
                               "their work over MPI ranks: run `{} {}` without mpirun\n",
                               tool, tool, subcommand, ranks.size(), tool, subcommand);
    return 1;
  }
  try {
    // The checks of parsed values that need no design, file contents or network, done before any
    // work, and all that check_command_line does.
    if (c->parsed()) refuse_seed(compile_design, "compile");
    if (sc->parsed()) {
      refuse_seed(scale_args, "scale");
      (void)manager::parse_fpga_counts(scale_fpgas);
    }
    if (ev->parsed()) refuse_network_options(ev, ea.design.target);
    for (CLI::App* a : {sm, vf})
      if (a->parsed()) {
        refuse_network_options(a, sim_design.target);
        qdf::sim::resolve_threads(threads);
      }
    if (sm->parsed() && timing_only && sm->count("--reference")) throw qdf::UserError("--reference checks values, which --timing-only skips");
    const host::ReferenceCheck ref = reference == "default" ? host::ReferenceCheck{} : host::parse_reference_check(reference);
    host::SweepRequest sweep_request;
    if (sw->parsed()) {
      refuse_seed(sweep_args, "sweep");
      sweep_request.base = sweep_args.request;
      if (!program) sweep_request.base.net = sweep_args.target;
      sweep_request.devices = host::parse_device_list(sweep_devices);
      sweep_request.fpgas = manager::parse_fpga_counts(sweep_fpgas);
      sweep_request.fps = host::parse_fps_list(sweep_fps);
      sweep_request.foldings = host::parse_folding_list(sweep_foldings);
      sweep_request.simulate = sweep_simulate;
      sweep_request.threads = sweep_threads;
      qdf::sim::resolve_threads(sweep_threads);
    }
    if (stop == Stop::AfterChecks) return 0;

    if (parsed(d)) return host::run_demo(demo, std::cout);
    if (parsed(ck)) return kernel_cosim(kernel, out, seed);
    if (ev->parsed()) {
      const std::string& target = ea.design.target;
      const host::CompileRequest& request = ea.design.request;
      if (program && !std::filesystem::is_directory(target) && request.model.empty() && !request.random_weights &&
          !program->weights)
        throw qdf::UserError(fmt::format("network '{}' has no trained weights: name a model file with --model FILE (from `{} train`), "
                                         "or evaluate a bundle",
                                         request.net, tool));
      if (!program && !std::filesystem::is_directory(target) && !host::is_network_file(target)) {
        manager::builtin_net(target);  // a UserError that lists the networks when it is none
        if (request.model.empty() && !request.random_weights && host::shipped_model(target).empty()) {
          std::string trained;
          for (const auto& n : manager::builtin_nets())
            if (!host::shipped_model(n.name).empty()) trained += (trained.empty() ? "" : ", ") + n.name;
          throw qdf::UserError(fmt::format("network '{}' has no trained model: name one with --model FILE (from `qdf train {}`), "
                                           "or evaluate a bundle; the networks shipped with a model are: {}",
                                           target, target, trained.empty() ? "none" : trained));
        }
      }
      if (!ea.predictions.empty()) {  // refused before the run, not after it
        const std::filesystem::path out = std::filesystem::absolute(ea.predictions);
        if (std::filesystem::is_directory(out) || !std::filesystem::is_directory(out.parent_path()))
          throw qdf::UserError(fmt::format("--predictions {}: expected a file name in an existing directory", ea.predictions));
      }
      host::Engine engine(open_design(ea.design), host::backend_from_name(ea.backend));
      host::Dataset data = ea.image_file.empty()
                               ? host::load_fashion_mnist(ea.split, ea.data)
                               : host::load_idx(ea.image_file, ea.label_file, std::filesystem::path(ea.image_file).filename().string(),
                                                engine.output().labels ? engine.output().classes : 10);
      host::EvalRun r = host::evaluate(engine, data, ea.images, !ea.json, ranks);
      if (!ranks.root()) return 0;
      if (!ea.predictions.empty()) host::write_predictions(ea.predictions, r);
      if (ea.json) std::cout << host::eval_json(engine, r).dump(2) << "\n";
      else std::cout << host::eval_table(engine, r);
      return 0;
    }
    if (parsed(im)) {
      host::ImportOptions opt;
      opt.input_range = host::input_range_from_name(ia.input_range);
      host::ImportedModel m = host::import_qonnx(ia.model, opt);
      if (std::filesystem::path(ia.out).extension() != ".qdfmodel")
        throw qdf::UserError(fmt::format("--out {}: expected a .qdfmodel file name", ia.out));
      manager::save_model(ia.out, m.net, m.weights);
      if (ia.json) {
        std::cout << manager::network_json(m.net).dump(2) << "\n";
      } else {
        std::cout << fmt::format("qdf import: {} as network '{}' (input {}), {} MACs per image\n", ia.model, m.net.name,
                                 to_string(m.input_range), m.net.macs());
        for (const manager::Layer* l : manager::flatten(m.net))
          std::cout << fmt::format("  {:<44} {:>10} -> {:<10} {} bits{}\n", l->describe(),
                                   l->kind == manager::LayerKind::Input ? "" : l->in.str(), l->out.str(), l->out_bits,
                                   l->out_binary ? " (binary)" : "");
        std::cout << fmt::format("model written to {}\n", ia.out);
      }
      return 0;
    }
    if (ex->parsed()) {
      host::DesignInputs in = host::design_inputs(xa.request);
      if (std::filesystem::path(xa.out).extension() != ".onnx")
        throw qdf::UserError(fmt::format("--out {}: expected an .onnx file name", xa.out));
      host::export_qonnx(in.net, in.weights, xa.out);
      std::cout << fmt::format("qdf export: {} ({}) written to {}\n", in.net.name, in.weights_source, xa.out);
      return 0;
    }
    if (parsed(k)) {
      for (const auto& ex : qdf::examples::example_kernels()) std::cout << fmt::format("{:<20} {}\n", ex.name, ex.description);
      return 0;
    }
    if (parsed(e)) return emit(kernel, out, dump_ir);
    if (tr->parsed()) {
      ta.net_given = !program && tr->count("net") > 0;
      for (const char* flag : {"--epochs", "--batch", "--optimizer", "--lr", "--momentum", "--seed", "--train-images", "--no-flip"})
        if (tr->count(flag) > 0) ta.run_flags_given.push_back(flag);
      return train(ta);
    }
    if (c->parsed()) {
      host::CompileRequest cr = compile_design.request;
      if (!program) cr.net = compile_design.target;
      host::Compiled r = host::compile_network(cr);
      if (json_out) {
        nlohmann::json m = manager::bundle_manifest(r.plan, r.net);
        for (const char* big : {"engines", "streams", "network"}) m.erase(big);
        m["bundle"] = cr.out;
        std::cout << m.dump(2) << "\n";
      } else {
        std::cout << fmt::format("qdf compile: {} ({}) on {} x {}, planned in {:.2f} s\n", cr.net, r.weights_source, r.plan.fpgas.size(),
                                 r.plan.device.name, r.plan.plan_seconds)
                  << manager::plan_table(r.plan) << fmt::format("bundle written to {}\n", cr.out);
      }
      return 0;
    }
    if (sc->parsed()) {
      host::CompileRequest r = scale_args.request;
      if (!program) r.net = scale_args.target;
      const manager::ScaleStudy s = host::scale_design(r, manager::parse_fpga_counts(scale_fpgas), scale_simulate);
      if (scale_json_out) std::cout << manager::scale_json(s).dump(2) << "\n";
      else std::cout << manager::scale_table(s);
      return 0;
    }
    if (sw->parsed()) {
      const auto t0 = std::chrono::steady_clock::now();
      const host::SweepStudy s = host::sweep(sweep_request, ranks);
      if (!ranks.root()) return 0;
      if (sweep_json_out) std::cout << host::sweep_json(s).dump(2) << "\n";
      else std::cout << host::sweep_table(s);
      // On stderr, so that the output is the same on any number of ranks.
      std::cerr << fmt::format("{} sweep: {} points in {:.2f} s on {} rank{}\n", tool, s.points.size(),
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), ranks.size(),
                               ranks.size() > 1 ? "s" : "");
      return 0;
    }
    if (sm->parsed()) {
      host::Design design = open_design(sim_design);
      host::SimRun r = host::simulate_design(design, sim_images, timing_only, image_seed, threads, ref, false, max_cycles, ranks);
      if (!ranks.root()) return 0;
      if (sim_json_out) std::cout << host::sim_json(design, r).dump(2) << "\n";
      else std::cout << host::sim_table(design, r);
      return timing_only || r.outputs_match_reference ? 0 : 3;
    }
    if (vf->parsed()) {
      host::Design design = open_design(sim_design);
      host::VerifyRun v = host::verify_design(design, verify_images, image_seed, threads, max_cycles);
      if (sim_json_out) std::cout << host::verify_json(design, v).dump(2) << "\n";
      else std::cout << host::verify_table(design, v);
      return v.bit_exact && v.reference_match ? 0 : 3;
    }
    if (parsed(nt)) {
      std::cout << fmt::format("{:<11} {:>6} {:>14} {:>15} {:>12}  {}\n", "network", "layers", "MACs", "binary MACs", "input",
                               "description");
      for (const auto& n : qdf::manager::builtin_nets())
        std::cout << fmt::format("{:<11} {:>6} {:>14} {:>15} {:>12}  {}\n", n.name, n.net.layers().size(), n.net.macs(),
                                 n.net.binary_macs(), n.net.layers().front().out.str(), n.description);
      std::cout << "\nper image: MACs, one per weight use; binary MACs, the 1-bit MACs the hardware computes: one per weight use\n"
                   "of a binary input, k of an unsigned k-bit input (its k bit planes; 8 for 8-bit pixels)\n";
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
  } catch (const host::ReportedByRoot&) {
    return 1;  // rank 0 printed this rank's error
  } catch (const qdf::UserError& err) {
    std::cerr << fmt::format("{}: error: {}{}\n", tool, rank_note(ranks), err.what()) << std::flush;
    return 1;
  } catch (const std::exception& err) {
    std::cerr << fmt::format("{}: {}{}\n", tool, rank_note(ranks), err.what()) << std::flush;
    return 2;
  }
  return 0;
}

}  // namespace

int qdf::host::run_command_line(int argc, char** argv, const ProgramNetwork* program) {
  return command_line(argc, argv, program, Stop::Never);
}

int qdf::host::check_command_line(int argc, char** argv, const ProgramNetwork* program) {
  return command_line(argc, argv, program, Stop::AfterChecks);
}

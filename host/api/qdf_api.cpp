// The public API (host/api/qdf/qdf.hpp): each function the one the `qdf` command line runs.
#include "qdf/qdf.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <utility>

namespace qdf {

Design plan(Net net, ModelWeights weights, const Target& target) {
  const std::string name = net.name;
  return host::plan_design(std::move(net), std::move(weights), target, fmt::format("network {}", name));
}

Design compile(Net net, ModelWeights weights, const Target& target, const std::string& out_dir) {
  if (out_dir.empty()) throw UserError("compile: the bundle directory is empty; name one, or call plan() to plan without writing");
  Design d = plan(std::move(net), std::move(weights), target);
  manager::write_bundle(d.plan, d.net, d.weights, out_dir);
  return d;
}

Design open_bundle(const std::string& dir) { return host::open_bundle(dir); }

SimRun simulate(const Design& d, int images, bool timing_only, std::uint64_t image_seed) {
  if (images < 1) throw UserError(fmt::format("simulate: {} images; expected at least 1", images));
  return host::simulate_design(d, images, timing_only, image_seed);
}

VerifyRun verify(const Design& d, int images, std::uint64_t image_seed) {
  if (images < 1) throw UserError(fmt::format("verify: {} images; expected at least 1", images));
  return host::verify_design(d, images, image_seed);
}

EvalRun evaluate(const Design& d, const Dataset& data, Backend backend, std::int64_t images) {
  host::Engine engine(d, backend);
  return host::evaluate(engine, data, images, false);
}

TrainResult train(const Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& opt) {
  return host::train_network(net, train_set, test_set, opt);
}

int main(int argc, char** argv, const Net& net, std::optional<ModelWeights> weights) {
  host::ProgramNetwork p;
  p.program = argc > 0 && argv[0] ? std::filesystem::path(argv[0]).filename().string() : std::string("qdf-program");
  if (p.program.empty()) p.program = "qdf-program";
  p.net = net;
  p.weights = std::move(weights);
  return host::run_command_line(argc, argv, &p);
}

}  // namespace qdf

#include "host/design/open_design.hpp"

#include "manager/load_bundle.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <memory>

namespace qdf::host {

Design open_bundle(const std::string& dir, bool allow_edited) {
  auto b = std::make_shared<manager::LoadedBundle>(manager::load_bundle(dir, allow_edited));
  Design d;
  d.net = b->net;
  d.weights = b->weights;
  d.plan = b->plan;
  d.edited_files = b->edited;
  d.source = "bundle " + dir;
  if (!d.edited_files.empty())
    d.source += fmt::format(", EDITED ({} files differ from its manifest; run as they are: --allow-edited-bundle)", d.edited_files.size());
  d.fpga_modules = [b](int fpga) { return manager::bundle_fpga_modules(*b, fpga); };
  return d;
}

Design plan_design(manager::Net net, manager::ModelWeights weights, const manager::PlanOptions& opt, std::string source) {
  Design d;
  d.plan = manager::plan_network(net, weights, opt);
  d.net = std::move(net);
  d.weights = std::move(weights);
  d.source = std::move(source);
  return d;
}

Design open_design(const std::string& target, CompileRequest r, bool allow_edited) {
  if (std::filesystem::is_directory(target)) return open_bundle(target, allow_edited);
  if (!r.network) r.net = target;
  r.out.clear();
  Compiled c = compile_network(r);
  Design d;
  d.net = std::move(c.net);
  d.weights = std::move(c.weights);
  d.plan = std::move(c.plan);
  d.source = fmt::format("network {} with {}", r.net, c.weights_source);
  return d;
}

// Images the pipeline holds (latency over the rate), and a run long enough to show its steady
// state: the median gap needs more than half the gaps to come from full pipelines.
int images_for_steady_state(const sim::RunTiming& t) {
  const double held = static_cast<double>(t.latency_cycles) / std::max(t.cycles_per_image, 1.0);
  return static_cast<int>(std::ceil(2 * held)) + 3;
}
bool steady(const sim::RunTiming& t) { return t.images >= images_for_steady_state(t); }

}  // namespace qdf::host

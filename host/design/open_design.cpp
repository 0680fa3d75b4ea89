#include "host/design/open_design.hpp"

#include "manager/load_bundle.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>

namespace qdf::host {

Design open_bundle(const std::string& dir) {
  manager::LoadedBundle b = manager::load_bundle(dir);
  Design d;
  d.net = std::move(b.net);
  d.weights = std::move(b.weights);
  d.plan = std::move(b.plan);
  d.source = "bundle " + dir;
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

Design open_design(const std::string& target, CompileRequest r) {
  if (std::filesystem::is_directory(target)) return open_bundle(target);
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

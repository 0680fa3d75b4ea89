#include "host/design/compile_flow.hpp"

#include "dsl/errors.hpp"
#include "host/onnx/import_qonnx.hpp"

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

namespace qdf::host {

manager::Folding read_folding(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw UserError(fmt::format("cannot read the folding file '{}'", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("folding file '{}' is not JSON: {}", path, e.what()));
  }
  if (!j.is_object()) throw UserError(fmt::format("folding file '{}' must hold an object of layers", path));
  manager::Folding out;
  for (auto& [layer, v] : j.items()) out[layer] = manager::layer_folding_from_json(v, fmt::format("folding file '{}': layer '{}'", path, layer));
  return out;
}

std::string shipped_model(const std::string& net) {
  const char* env = std::getenv("QDF_MODELS_DIR");
  const std::string path = fmt::format("{}/{}.qdfmodel", env && *env ? env : QDF_MODELS_DIR, net);
  return std::filesystem::is_regular_file(path) ? path : "";
}

bool is_network_file(const std::string& target) {
  return is_onnx_path(target) || (std::filesystem::path(target).extension() == ".qdfmodel" && std::filesystem::is_regular_file(target));
}

DesignInputs design_inputs(const CompileRequest& r) {
  DesignInputs c;
  if (r.random_weights && !r.model.empty()) throw UserError("give either a model file or random weights, not both");
  if (!r.network && is_network_file(r.net)) {
    // A QONNX graph, or a model file that describes its network (`qdf import`): weights included.
    if (!r.model.empty() || r.random_weights)
      throw UserError(fmt::format("{} holds its own weights: --model and --random-weights apply to a built-in network", r.net));
    if (is_onnx_path(r.net)) {
      ImportedModel m = import_qonnx(r.net);
      c.net = std::move(m.net);
      c.weights = std::move(m.weights);
      c.weights_source = fmt::format("QONNX {} (input {})", r.net, to_string(m.input_range));
    } else {
      manager::NetworkModel m = manager::load_network_model(r.net);
      c.net = std::move(m.net);
      c.weights = std::move(m.weights);
      c.weights_source = "model " + r.net;
    }
  } else {
    // A network built in C++: one of the built-in networks, or the program's own. Its weights: a
    // model file, else the weights it came with (a built-in network's shipped model, the
    // program's), else seeded random weights.
    std::string given;  // the weights the network came with, as a model file or "" for the program's
    bool has_given = false;
    if (r.network) {
      c.net = *r.network;
      has_given = r.network_weights.has_value();
    } else {
      c.net = manager::builtin_net(r.net).net;
      given = shipped_model(r.net);
      has_given = !given.empty();
    }
    if (!r.model.empty()) {
      c.weights = manager::load_model(r.model, c.net);
      c.weights_source = "model " + r.model;
    } else if (has_given && !r.random_weights) {
      c.weights = given.empty() ? *r.network_weights : manager::load_model(given, c.net);
      c.weights_source = given.empty() ? "the program's weights" : "model " + given;
    } else {
      c.weights = manager::random_weights(c.net, r.seed);
      c.weights_source = fmt::format("random weights, seed {}", r.seed);
    }
  }
  manager::PlanOptions& o = c.options;
  o.fpgas = r.fpgas;
  o.device = manager::device(r.device);
  o.fps = r.fps;
  o.utilization = r.utilization;
  if (r.ring_gbps) o.ring.bandwidth = *r.ring_gbps * 1e9;
  if (r.host_gbps) o.host.bandwidth = *r.host_gbps * 1e9;
  if (r.ring_latency_us) o.ring.latency = *r.ring_latency_us * 1e-6;
  if (r.host_latency_us) o.host.latency = *r.host_latency_us * 1e-6;
  manager::check_plan_options(o);  // NaN, infinities, 0 GB/s, negative latencies: each refused by its flag
  if (!r.folding.empty()) {
    manager::Folding f = read_folding(r.folding);
    const auto layers = manager::flatten(c.net);
    for (const auto& [name, fold] : f) {
      bool found = false;
      for (const manager::Layer* l : layers) found |= l->name == name;
      if (!found) throw UserError(fmt::format("folding file '{}' names layer '{}', which network {} does not have", r.folding, name, c.net.name));
    }
    for (const manager::Layer* l : layers)
      if ((l->kind == manager::LayerKind::Conv || l->kind == manager::LayerKind::FullyConnected) && !f.count(l->name))
        throw UserError(fmt::format("folding file '{}' has no entry for layer {}", r.folding, l->describe()));
    o.folding = f;
  }
  return c;
}

Compiled compile_network(const CompileRequest& r) {
  DesignInputs in = design_inputs(r);
  Compiled c;
  c.plan = manager::plan_network(in.net, in.weights, in.options);
  c.net = std::move(in.net);
  c.weights = std::move(in.weights);
  c.weights_source = std::move(in.weights_source);
  if (!r.out.empty()) manager::write_bundle(c.plan, c.net, c.weights, r.out);
  return c;
}

}  // namespace qdf::host

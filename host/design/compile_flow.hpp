// `qdf compile`: a network (built-in, with its model file or seeded random weights) folded,
// partitioned over FPGAs and written as a bundle (manager/bundle.hpp).
#pragma once

#include "manager/bundle.hpp"

#include <optional>
#include <string>

namespace qdf::host {

struct CompileRequest {
  std::string net = "sfc";        // a built-in network, a QONNX file (.onnx) or a model file that
                                  // describes its network (.qdfmodel, as `qdf import` writes);
                                  // with `network` set, only its name in messages
  // A network a program built (the public API, host/api/qdf/qdf.hpp), planned in place of `net`:
  // its weights are `model` when given, else `network_weights` (unless random_weights), else
  // seeded random weights.
  std::optional<manager::Net> network;
  std::optional<manager::ModelWeights> network_weights;
  std::string model;              // model file (docs/model_format.md); empty: the network's shipped
                                  // model (shipped_model), else random weights
  std::uint64_t seed = 1;         // of the random weights
  bool random_weights = false;    // seeded random weights even when the network has a shipped model
  int fpgas = 1;
  std::string device = "stratix-v-5sgsd8";
  double fps = 0;                 // 0: the highest throughput that fits
  double utilization = 0.85;
  std::string folding;            // JSON file {"layer": {"pe": P, "simd": S}, ...}; empty: search
  // Link overrides; unset: the defaults of manager/links.cpp. A value set is used as it is, and
  // one out of range (0 GB/s, a negative latency, NaN) is a UserError, never a default.
  std::optional<double> ring_gbps, ring_latency_us, host_gbps, host_latency_us;
  std::string out;                // bundle directory; empty: plan only
};

struct Compiled {
  manager::Net net;
  manager::ModelWeights weights;
  std::string weights_source;  // "model PATH" or "random weights, seed N"
  manager::Plan plan;
};

// The trained model shipped with qdf for a built-in network: host/models/<net>.qdfmodel in the
// source tree (or $QDF_MODELS_DIR/<net>.qdfmodel); "" when the network has none.
std::string shipped_model(const std::string& net);

// What the request plans: the network, its weights and the plan's options (device, FPGAs, fps,
// links, utilization, folding), each checked.
struct DesignInputs {
  manager::Net net;
  manager::ModelWeights weights;
  std::string weights_source;  // as in Compiled
  manager::PlanOptions options;
};
DesignInputs design_inputs(const CompileRequest& r);
// True for a QONNX file (.onnx) or a model file of a network (.qdfmodel): a design that carries
// its own network and weights.
bool is_network_file(const std::string& target);

Compiled compile_network(const CompileRequest& r);

// Reads a folding file: {"layer": {"pe": P, "simd": S}, ...} (the manifest's "folding").
manager::Folding read_folding(const std::string& path);

}  // namespace qdf::host

// The weights and thresholds of a network, and their on-disk format (docs/model_format.md):
// the format that training and importers write and the manager reads.
//
// A conv or fully connected layer has a BinaryMatrix of ±1 weights, one row per output channel,
// columns in the order the sliding window streams them: (ky, kx, input channel). An activation
// layer has the Thresholds that map the preceding accumulators to its activations
// (engines/threshold_rule.hpp).
#pragma once

#include "engines/mvtu.hpp"
#include "engines/threshold_rule.hpp"
#include "manager/network.hpp"

#include <map>
#include <string>

namespace qdf::manager {

struct ModelWeights {
  std::map<std::string, engines::BinaryMatrix> weights;    // by conv / fc layer name
  std::map<std::string, engines::Thresholds> thresholds;   // by activation layer name
};

// Every layer of `net` in order, residual branches included (main branch, then projection).
std::vector<const Layer*> flatten(const Net& net);

// Random ±1 weights and ascending thresholds within each accumulator's range, for benchmarks.
ModelWeights random_weights(const Net& net, std::uint64_t seed);

// Checks that `w` has exactly the weights and thresholds `net` needs, with the right sizes.
void check_weights(const Net& net, const ModelWeights& w);

// Writes atomically (a temporary file renamed into place): on any error nothing is left at path.
void save_model(const std::string& path, const Net& net, const ModelWeights& w);
// Reads a model written by save_model for `net`; a UserError names what is malformed or does not
// match the network (a layer, a size, a truncated file).
ModelWeights load_model(const std::string& path, const Net& net);

// A model file that describes its network too (save_model writes it in the header's "net", as a
// bundle's manifest does): the network and its weights, as `qdf import` writes them.
struct NetworkModel {
  Net net;
  ModelWeights weights;
};
NetworkModel load_network_model(const std::string& path);

}  // namespace qdf::manager

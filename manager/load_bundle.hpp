// Reading a bundle back (manager/bundle.hpp writes it): the network, its weights and exactly the
// Plan that was written, for the host to run on any backend.
//
// The plan is not read field by field but rebuilt: the network from the manifest's "network",
// the weights from DIR/model.qdfmodel, the engine graph at the manifest's folding, placed by its
// FPGAs' layers, on its device, links and clock (plan_partition). The rebuilt plan is then checked
// against the manifest (engines, their configurations, FPGAs and streams, links, cycles per
// image), so that a manifest edited by hand or written by another qdf is an error, not a
// different design run silently.
#pragma once

#include "manager/plan.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace qdf::manager {

struct LoadedBundle {
  std::string dir;
  Net net;
  ModelWeights weights;
  Plan plan;
  nlohmann::json manifest;
};

// A UserError names what is at fault: a missing directory or manifest, a manifest of another
// format or version, a malformed field (by its path, e.g. "engines[3].config"), a model that does
// not match the network, a manifest that disagrees with the plan it describes.
LoadedBundle load_bundle(const std::string& dir);

// The inverse of network_json(): the network, with its shapes inferred again and checked against
// those the JSON states. A UserError names the malformed field or the layer that differs.
Net network_from_json(const nlohmann::json& j);

}  // namespace qdf::manager

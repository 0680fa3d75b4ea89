// Reading a bundle back (manager/bundle.hpp writes it): the network, its weights and exactly the
// Plan that was written, for the host to run on any backend.
//
// The plan is not read field by field but rebuilt: the network from the manifest's "network",
// the weights from DIR/model.qdfmodel, the engine graph at the manifest's folding, placed by its
// FPGAs' layers, on its device, links and clock (plan_partition). The rebuilt plan is then checked
// against the manifest (engines, their configurations, FPGAs and streams, links, cycles per
// image), so that a manifest edited by hand or written by another qdf is an error, not a
// different design run silently. Every other file of the bundle is checked against the hash that
// the manifest's "files" records: a file changed, missing, or not written with this manifest is
// named in a UserError, unless the caller allows an edited bundle (then each is listed in
// LoadedBundle::edited, for the run to say so).
#pragma once

#include "dsl/emit_verilog.hpp"
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
  // With allow_edited: each file that differs from the manifest's record, and how
  // ("fpga0/conv1_mvtu.v: changed since the bundle was written"); empty for an intact bundle.
  std::vector<std::string> edited;
};

// A UserError names what is at fault: a missing directory or manifest, a manifest of another
// format or version, a malformed field (by its path, e.g. "engines[3].config"), a model that does
// not match the network, a manifest that disagrees with the plan it describes.
// A file that differs from the manifest's "files" is an error naming it, or with `allow_edited`
// a line of LoadedBundle::edited.
LoadedBundle load_bundle(const std::string& dir, bool allow_edited = false);

// FPGA `fpga`'s modules as the bundle's files on disk hold them: each DIR/fpga<i>/<name>.v a module
// (its top first), each other file there a ROM file of the module that reads it ($readmemh).
std::vector<dsl::VerilogModule> bundle_fpga_modules(const LoadedBundle& b, int fpga);

// The inverse of network_json(): the network, with its shapes inferred again and checked against
// those the JSON states. A UserError names the malformed field or the layer that differs.
Net network_from_json(const nlohmann::json& j);

}  // namespace qdf::manager

// The bundle: what `qdf compile` writes for a planned network.
//
//   DIR/manifest.json        engines, folding, placement, streams, links, clock, predicted
//                            cycles_per_image and fps, resource estimate per FPGA, the network
//   DIR/model.qdfmodel       the weights and thresholds (docs/model_format.md)
//   DIR/fpga<i>/<top>.v      FPGA i's top: its engines joined by streams; ports clk, rst,
//                            images [31:0] (the run's length; 0: until reset), done, the
//                            host's valid/ready streams (host_in on the first FPGA, host_out on
//                            the last) and the ring links' endpoints (ring_in_*, ring_out_*:
//                            a lane and its credits, engines/ring_link.hpp)
//   DIR/fpga<i>/<engine>.v   one module per engine (FIFOs included), and the $readmemh init
//                            files of their weight and threshold ROMs
//
// The manifest's "files" records every other file written, by its path in DIR, with its FNV-1a
// hash (16 hex digits): loading a bundle checks them (manager/load_bundle.hpp), and the RTL backend
// runs these files, not Verilog generated again, so what is verified is what a user synthesizes.
// Written atomically: on any error nothing is left at DIR.
#pragma once

#include "dsl/emit_verilog.hpp"
#include "manager/plan.hpp"

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace qdf::manager {

constexpr int kBundleVersion = 2;  // 2: the manifest's "files"

// FPGA `fpga`'s top with every module it instantiates, as one VerilogModule (the text of all
// modules, the init files of all), ready for lint, synthesis or a Verilator build.
dsl::VerilogModule fpga_verilog(const Plan& p, int fpga);
// The same as separate modules, the top first.
std::vector<dsl::VerilogModule> fpga_modules(const Plan& p, int fpga);
std::string fpga_top_name(const Plan& p, int fpga);

// Where the modules of each FPGA top come from when a design is run as RTL: a function of the
// FPGA's index giving its modules, the top first (as fpga_modules). Empty: generated from the plan.
using FpgaModuleSource = std::function<std::vector<dsl::VerilogModule>(int fpga)>;

// A file's hash as the manifest's "files" records it: FNV-1a of its bytes, 16 hex digits.
std::string file_hash(const std::string& bytes);

nlohmann::json bundle_manifest(const Plan& p, const Net& net);

void write_bundle(const Plan& p, const Net& net, const ModelWeights& w, const std::string& dir);

// The readable report: per FPGA and per layer, folding, cycles per image, resources against the
// budget; then the links and the prediction.
std::string plan_table(const Plan& p);

// The network's layers as JSON (the manifest's "network").
nlohmann::json network_json(const Net& net);

}  // namespace qdf::manager

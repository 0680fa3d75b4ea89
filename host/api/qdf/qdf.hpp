// qdf's public API, one include: a network written as a C++ expression, compiled for a target
// into a plan and a bundle, simulated, verified against its RTL, evaluated on a dataset and
// trained, all from a program of one's own.
//
//   #include <qdf/qdf.hpp>
//
//   int main(int argc, char** argv) {
//     qdf::Net net = qdf::input("image", {12, 12, 1}, 8)
//                    >> qdf::conv("conv1", 3, 16) >> qdf::act(2)
//                    >> qdf::residual(qdf::conv("a", 3, 16, 1, 1) >> qdf::act(2) >> qdf::conv("b", 3, 16, 1, 1)) >> qdf::act(2)
//                    >> qdf::global_pool() >> qdf::fc("fc", 10) >> qdf::label_select();
//     net.name = "my_net";
//     return qdf::main(argc, argv, net);    // ./my_net compile --fpgas 2 --out b, ./my_net sim, ...
//   }
//
// or, as functions:
//
//   qdf::Target t;                         // device, FPGAs, fps (0: the highest throughput), links, ...
//   t.fpgas = 2;
//   qdf::Design d = qdf::compile(net, qdf::random_weights(net, 1), t, "my_bundle");
//   qdf::SimRun s = qdf::simulate(d, 8);     // values against the reference model, and timing
//   qdf::VerifyRun v = qdf::verify(d, 3);    // the simulator against the RTL under Verilator
//
// A thin layer: every function here is the one the `qdf` command line runs (host/design/,
// host/cli/, host/train/), so that a program and the tool plan, simulate and verify alike.
// Links with qdf::qdf (find_package(qdf) after `cmake --install`, see examples/my_net/).
#pragma once

#include "dsl/errors.hpp"
#include "host/api/engine_api.hpp"
#include "host/cli/command_line.hpp"
#include "host/cli/eval_flow.hpp"
#include "host/cli/sim_flow.hpp"
#include "host/data/idx_dataset.hpp"
#include "host/design/open_design.hpp"
#include "host/train/train_network.hpp"
#include "manager/bundle.hpp"
#include "manager/devices.hpp"
#include "manager/links.hpp"
#include "manager/model_weights.hpp"
#include "manager/network.hpp"
#include "manager/plan.hpp"
#include "manager/static_network.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace qdf {

// ---- Networks: expressions of layers (manager/network.hpp), shapes checked as they are built ----
using manager::Layer;
using manager::LayerKind;
using manager::Net;
using manager::Shape;
using manager::act;
using manager::conv;
using manager::fc;
using manager::global_pool;
using manager::input;
using manager::label_select;
using manager::maxpool;
using manager::residual;
// Static shapes: the same layers with every stream's shape and precision in the type, so that a
// layer that does not fit is a compile error (manager/static_network.hpp); `.net` is the runtime expression.
namespace static_net = manager::static_net;

// ---- Weights: ±1 weights and thresholds per layer (manager/model_weights.hpp) ----
using manager::ModelWeights;
using manager::load_model;      // a model file (docs/model_format.md) for a network
using manager::random_weights;  // seeded random weights of the right shapes
using manager::save_model;

// ---- Compiling: a network planned for a target, written as a bundle ----
// The target: fpgas, device (manager::device("name"), see `qdf devices`), fps (0: the highest
// throughput that fits), utilization, ring and host links, and an optional fixed folding.
using Target = manager::PlanOptions;
using manager::device;
using manager::Plan;
// A network with its weights and its plan: what is simulated, verified and evaluated.
using host::Design;

// Plans `net` for `target` (fold, estimate, partition over the FPGAs, size the FIFOs); a
// UserError when it does not fit or an option is out of range.
Design plan(Net net, ModelWeights weights, const Target& target = {});
// plan(), and the bundle written to `out_dir` (atomically; manager/bundle.hpp): the manifest,
// Verilog per FPGA and its init files, as `qdf compile` writes.
Design compile(Net net, ModelWeights weights, const Target& target, const std::string& out_dir);
// A bundle written by compile() or `qdf compile`.
Design open_bundle(const std::string& dir);

// ---- Running: the verification ladder of DESIGN.md ----
using host::SimRun;
using host::VerifyRun;
// `images` seeded random images through the cycle-approximate simulator: outputs (checked
// against the reference model) and timing; timing only when `timing_only`.
SimRun simulate(const Design& d, int images, bool timing_only = false, std::uint64_t image_seed = 1);
// The same images through the simulator and the design's Verilog under Verilator: outputs bit for
// bit, cycles per image and latency side by side.
VerifyRun verify(const Design& d, int images, std::uint64_t image_seed = 1);
using host::sim_table;
using host::verify_table;

// ---- Data, evaluation and training ----
using host::Backend;  // Reference, Sim or Rtl
using host::Dataset;
using host::Engine;   // queue images, run them, read outputs and statistics (host/api/engine_api.hpp)
using host::EvalRun;
using host::load_fashion_mnist;
using host::load_idx;
using host::TrainOptions;
using host::TrainResult;
using host::eval_table;
// The top-1 accuracy of `d` on the first `images` of `data` (0: all) through `backend`.
EvalRun evaluate(const Design& d, const Dataset& data, Backend backend = Backend::Sim, std::int64_t images = 0);
// Quantization-aware training of `net` (host/train/train_network.hpp); the result's weights are
// folded, ready for plan() and compile(). Residual blocks and global pools are a UserError
// ("not supported by the trainer yet").
TrainResult train(const Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& opt = {});

// ---- A program is a tool ----
// The `qdf` command line for this program's network: `compile`, `sim`, `verify`, `eval`, `train`,
// `export`, `scale` and `devices`, with qdf's flags, help and errors, the network implicit.
// `weights`: the network's trained weights (unset: --model FILE, else seeded random weights).
// Returns the exit code, for main() to return.
int main(int argc, char** argv, const Net& net, std::optional<ModelWeights> weights = std::nullopt);

}  // namespace qdf

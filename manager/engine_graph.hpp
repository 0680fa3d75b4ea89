// The engine graph: a network (manager/network.hpp) with its weights, mapped onto the stream
// engines of engines/ at a given folding. This is the one description that the resource
// estimate, the partition, the bundle's Verilog and the simulator all read.
//
// Mapping of layers to engines (a layer's input stream first gets width converters when its
// lanes differ from what the engine reads):
//   conv (+ act)        sliding window (SIMD lanes) -> MVTU (PE x SIMD; the act's thresholds fused)
//   fully connected     MVTU (+ fused act)
//   act (not fused)     multi-threshold engine (after a residual add)
//   max pool            sliding window -> window max, at the lanes of its input
//   global pool         global sum pool, at the lanes of its input
//   residual block      fork -> main branch -> residual add
//                            \-> skip FIFO -> [projection conv] -> [width converters] -/
//   label select        label select (PE = the input's lanes for top-1, else 1)
// Streams between engines are direct (every kernel has a two-entry output buffer); FIFOs are
// engines of their own, placed where the timing needs them (the skip of a residual block, the
// receiving end of a link between FPGAs).
#pragma once

#include "dsl/estimate_resources.hpp"
#include "engines/engine_kinds.hpp"
#include "manager/model_weights.hpp"
#include "manager/network.hpp"

#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace qdf::manager {

// Folding of one conv or fully connected layer: PE rows and SIMD columns per cycle; of a pool:
// SIMD lanes (PE = SIMD). A conv's or max pool's SIMD also says how its sliding window delivers
// them (window_mode), and `in_pixels` how many pixels of a row its sliding window reads per
// element (1, or a power of two dividing the width when SIMD takes whole pixels).
struct LayerFolding {
  int pe = 1, simd = 1;
  int in_pixels = 1;
  int mmv = 1;  // output pixels per element of a conv (> 1: whole windows into an unfolded MVTU)
  bool operator==(const LayerFolding&) const = default;
};
using Folding = std::map<std::string, LayerFolding>;  // by conv / fc / pool layer name

// How a sliding window gives SIMD lanes on a map of C channels with a K x K window
// (engines/sliding_window.hpp): `lanes` channels of one pixel per element (SIMD divides C), or all
// C channels of `columns` pixels of a window row (SIMD = columns * C, columns divides K), or of
// `rows` whole window rows (SIMD = rows * K * C, rows divides K). Null when SIMD is none of these.
struct WindowMode {
  int lanes = 1, columns = 1, rows = 1;
};
std::optional<WindowMode> window_mode(int simd, int channels, int k);

// The folding as the manifest and --folding files write it: {"layer": {"pe": P, "simd": S}, ...},
// with "in_pixels" and "mmv" when they are not 1; and one layer's entry read back (a UserError names `where`).
nlohmann::json folding_json(const Folding& f);
LayerFolding layer_folding_from_json(const nlohmann::json& j, const std::string& where);

using engines::EngineConfig;  // the engine kinds are those of engines/engine_kinds.hpp

struct Engine {
  std::string name;   // unique in the graph and a Verilog identifier (the module's name)
  std::string layer;  // the network layer it implements
  int unit = 0;       // the partition unit (top-level layer) it belongs to
  EngineConfig config;
  engines::EngineData data;  // its weights and thresholds
  std::vector<int> inputs, outputs;  // stream ids, in the order of the ports below
  std::vector<std::string> input_ports, output_ports;
  std::int64_t cycles_per_image = 0;  // from the engine's timing model
  int fpga = 0;

  std::string_view kind() const { return engines::kind_name(config); }
  template <class Config>
  bool is() const { return std::holds_alternative<Config>(config); }
};

struct StreamEdge {
  std::string name;
  int from = -1, to = -1;  // engine indices; -1: the host (network input or output)
  int from_port = 0, to_port = 0;
  engines::Lanes lanes;
  std::int64_t elements = 0;  // per image
  // At least the elements of one image row of the stream (a bound: the elements per image over
  // the output rows of the layer whose engine produces it), what a burst of its producer can be.
  std::int64_t row_elements = 1;
  int width() const { return lanes.element_bits(); }
};

// A partition unit: a top-level layer (a conv or fc with its fused act, a pool, ...) or a layer of
// a top-level residual block's main branch (the first with the block's fork, the last with its
// skip path and add). Cuts between FPGAs fall between units; a cut inside a residual block is
// crossed by two streams, the main and the skip.
struct Unit {
  std::string name;
  std::vector<int> engines;
};

struct EngineGraph {
  std::string net;
  std::vector<Engine> engines;
  std::vector<StreamEdge> streams;
  std::vector<Unit> units;
  int input_stream = -1, output_stream = -1;
  Shape input_shape, output_shape;
  int input_bits = 0;
  bool input_binary = false;
  Folding folding;
};

// The streams that a cut before unit i crosses, for each i in 0..units (none at 0 and at the
// end): those from an engine of a unit before i to an engine of unit i or after, in stream order.
std::vector<std::vector<int>> cut_streams(const EngineGraph& g);

// Maps `net` with `weights` (checked) at `folding` (every conv and fc layer must have an entry
// whose PE divides its outputs and SIMD its input channels, or inputs for fc).
EngineGraph build_engine_graph(const Net& net, const ModelWeights& weights, const Folding& folding);

// The engines of one layer (with `act` fused when given) at folding `f`, fed at the lanes its
// first engine reads: what the folding search prices.
std::vector<Engine> layer_engines(const Layer& l, const Layer* act, const LayerFolding& f, const ModelWeights& weights);

// A Verilog identifier made from a layer or network name (other characters become '_').
std::string verilog_identifier(const std::string& name);

// The faces of engines/engine_kinds.hpp for an engine of the graph:
// its recorded kernel (not lowered; a FIFO has none, see engines/fifo.hpp),
dsl::Kernel engine_kernel(const Engine& e);
// its resource estimate (the IR estimate of its lowered kernel, or the FIFO's),
dsl::Resources engine_resources(const Engine& e);
// its configuration as JSON (for the manifest, and as a cache key).
nlohmann::json engine_config_json(const Engine& e);

// Depth of a residual block's skip FIFO, in elements of the block's input stream: the rows the
// main branch may take before it gives the first element of an output row (its sliding windows
// read ahead up to their buffer rows), minus the rows the skip path has consumed by then, at
// most, plus one row and pipeline slack. The simulator's deadlock detection checks it
// (tests/sim/test_simulator.cpp).
int skip_fifo_depth(const Layer& residual, int input_lanes, int main_engines);

// Inserts a FIFO of `depth` on stream `s`, on the FPGA and in the unit of the stream's consumer
// (or, with unit >= 0, in that unit on FPGA `fpga`); returns its index.
int insert_fifo(EngineGraph& g, int stream, int depth, const std::string& name, int unit = -1, int fpga = 0);

}  // namespace qdf::manager

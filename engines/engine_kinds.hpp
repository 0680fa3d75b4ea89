// The registry of engine kinds: what an engine kind is, written once (engine_kinds.cpp holds the
// table). Nothing else dispatches on kinds: the manager builds engines from a configuration and
// reads their kernel, RTL, timing and resources here; the simulator reads their functional
// model and whether they are a buffer here.
//
// An entry is a specialization `EngineKind<Config>` (finn-hlslib's policy classes rather than a
// switch in every user) that provides, checked by the concept EngineKindEntry:
//   name                           the kind's name (manifest, reports, schedule cache key)
//   input_ports, output_ports      stream port names, in the order of the engine's streams
//   forward(c, data, inputs)       the functional model: each output stream's values for one image
//   timing(c)                      ticks per frame (an MVTU's frame is one input vector, a
//                                  FIFO's one element, every other kernel's one image)
//   to_json(c)                     the configuration, for the manifest and as a cache key
// and either (a kernel, the usual case: RTL from the DSL's Verilog backend, resources estimated
// from its IR, timed in the simulator by replaying its traced tick schedule)
//   kernel(c, data)                the recorded (not lowered) kernel
// or (a buffer: a Verilog primitive with a kernel's interface, the FIFO, which a kernel cannot
// be because both its sides would stall together; the simulator models it as a bounded queue)
//   module(c), ports(c)            its Verilog and a lowered kernel with its ports
//   resources(c)                   its resource estimate
//   depth(c), capacity(c)          its memory entries; the elements it can hold
// Adding a kind or a mode: its configuration in EngineConfig below, its entry in the table.
#pragma once

#include "dsl/emit_verilog.hpp"
#include "dsl/estimate_resources.hpp"
#include "engines/fifo.hpp"
#include "engines/mvtu.hpp"
#include "engines/sliding_window.hpp"
#include "engines/stream_engines.hpp"

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <variant>
#include <vector>

namespace qdf::engines {

// Every engine kind's configuration; the variant's alternatives are the kinds.
using EngineConfig = std::variant<WindowConfig, MvtuConfig, ThresholdConfig, WindowMaxConfig, GlobalPoolConfig,
                                  ResidualAddConfig, ForkConfig, WidthConverterConfig, LabelSelectConfig, FifoConfig>;

// What an engine carries beside its configuration: the contents of its ROMs.
struct EngineData {
  std::shared_ptr<const BinaryMatrix> weights;   // MVTU
  std::shared_ptr<const Thresholds> thresholds;  // MVTU with a fused act, thresholds engine
};

using Values = std::vector<std::int64_t>;  // a stream's values for one image, in stream order

// The kind's name ("mvtu", "sliding_window", ...).
std::string_view kind_name(const EngineConfig& c);
// The configuration's instance name (a Verilog identifier, the module's name).
const std::string& instance_name(const EngineConfig& c);
const std::vector<std::string>& input_ports(const EngineConfig& c);
const std::vector<std::string>& output_ports(const EngineConfig& c);

// Values of each output stream for one image, from the values of each input stream (moved in:
// an identity moves them on).
std::vector<Values> engine_forward(const EngineConfig& c, const EngineData& d, std::vector<Values> inputs);
// Whether the kind's functional model passes its one input stream on unchanged (a FIFO, a width
// converter).
bool passes_values(const EngineConfig& c);

// Fused functional models: a producer whose output reaches a consumer unchanged (through engines
// that pass values) and that can hand its values over in the consumer's own form, or need not
// write them at all. A sliding window gives an MVTU its windows as bit planes, never written as
// values (the two must agree in bits and in vector size), and a window max the max of each window
// read from the map (a max pool, the two agreeing in K and channels). fused_forward gives the
// consumer's output streams from the producer's inputs, what engine_forward of the two in turn
// gives.
bool fuses(const EngineConfig& producer, const EngineConfig& consumer);
std::vector<Values> fused_forward(const EngineConfig& producer, const EngineConfig& consumer, const EngineData& consumer_data,
                                  std::vector<Values> inputs);

EngineTiming engine_timing(const EngineConfig& c);
nlohmann::json engine_config_json(const EngineConfig& c);

// A buffer (a FIFO) is a Verilog primitive with no kernel: its memory entries and the elements
// it can hold, or 0 for a kernel.
int buffer_depth(const EngineConfig& c);
int buffer_capacity(const EngineConfig& c);
inline bool is_buffer(const EngineConfig& c) { return buffer_depth(c) > 0; }

// The recorded kernel of a kernel engine (an InternalError for a buffer).
dsl::Kernel engine_kernel(const EngineConfig& c, const EngineData& d);

// The engine's Verilog and a lowered kernel with its ports (for harnesses and tops).
struct EngineRtl {
  dsl::VerilogModule module;
  dsl::Kernel ports;
};
EngineRtl engine_rtl(const EngineConfig& c, const EngineData& d);

// The engine's resource estimate (the IR estimate of its lowered kernel, or the buffer's own).
dsl::Resources engine_resources(const EngineConfig& c, const EngineData& d);

}  // namespace qdf::engines

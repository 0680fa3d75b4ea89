// When an engine moves elements: the tick schedule the simulator replays.
//
// A kernel (dsl/ir.hpp's execution model) advances one tick per cycle when every input enabled in
// that tick has an element and every output enabled in it has room, and stalls as a whole
// otherwise. Which ports are enabled in a tick depends only on its counters, never on data, and
// repeats every frame of P ticks (engines/*: frames are independent). So the schedule is read off
// the kernel itself: its lowered RTL form (the one the Verilog is emitted from) runs in the
// interpreter for a few frames of zeros, and the trace of moving ports gives
//   in_pattern[u]   inputs taken at tick u of a frame,
//   out_pattern[u]  outputs written by the logical tick u of a frame, which the pipeline
//                   emits `latency` ticks later.
// A run of N images is T = N x ticks_per_image logical ticks, then `latency` ticks of flush
// (`ticks` and `done` in the emitted Verilog): in tick t the inputs are in_pattern[t % P] while
// t < T, the outputs out_pattern[(t - latency) % P] while latency <= t < T + latency. The trace
// is checked against this periodic form before it is used.
#pragma once

#include "manager/engine_graph.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace qdf::sim {

struct EngineSchedule {
  std::int64_t period = 1;           // P: ticks per frame
  std::int64_t ticks_per_image = 0;  // frames per image x P
  std::int64_t latency = 0;          // pipeline latency in ticks
  int inputs = 0, outputs = 0;       // in the order of the engine's ports
  // Ticks u of a frame where some port moves, with the ports: bit i = input i; bit 16 + j =
  // output j, for the steady state (outputs of the logical tick u - latency, modulo P).
  struct Step {
    std::int64_t tick = 0;
    std::uint32_t in = 0, out = 0;
  };
  std::vector<Step> steps;
  std::vector<std::uint8_t> in_pattern, out_pattern;  // per tick of a frame: port bits (inputs; outputs, bit j)
};

// The schedule of kernel engine `e` (not a FIFO) of graph `g`. Cached per configuration.
std::shared_ptr<const EngineSchedule> engine_schedule(const manager::EngineGraph& g, const manager::Engine& e);

}  // namespace qdf::sim

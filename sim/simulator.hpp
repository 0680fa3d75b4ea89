// The cycle-approximate simulator of a planned design (a manager::Plan: engines placed on FPGAs,
// streams, link FIFOs and links).
//
// Timing. Every engine is a process that replays its tick schedule (sim/engine_schedule.hpp):
// a kernel advances one tick per cycle when every input enabled in that tick holds an element and
// every output enabled in it has room in the kernel's two-entry output buffer, and stalls as a
// whole otherwise; a FIFO moves elements as its Verilog does (engines/fifo.hpp); each link is a
// sim::LinkModel (bandwidth, latency, credits); the host sends images as fast as the host link
// takes them and takes results as they arrive. These rules are the RTL's own handshakes, so the
// cycles agree with the RTL's (tests/cosim/test_sim_vs_rtl.cpp checks them).
//
// It is event-driven, not ticked: a process computes the cycle of its next tick that moves an
// element from the cycles at which the elements it needs were pushed or popped (the tick is
// the max of those plus one and of its previous tick plus the free ticks between), records its
// own pushes and pops, and sleeps when it needs an element or a slot that nobody has produced
// yet, until the process that will produce it wakes it. Ticks that move nothing cost nothing,
// and the order in which processes run does not change any cycle. A FIFO moves its elements
// whenever a neighbour pushes into it or pops from it, so that the kernels on its two sides run
// up to its depth apart.
//
// Steady state. The run goes in phases of one image each (no process moves an element of a
// later image), whose ends are states that do not depend on the order of processes. When one
// such state is the one before it moved on by an image and a period of P cycles, every phase
// after repeats it P cycles later until the run's end comes near, and the simulator moves the
// whole state on to there at once (SimResult::images_moved) instead of simulating those images:
// every figure is the one simulating each image gives (tests/sim/test_simulator.cpp compares
// them). A run shorter than its pipeline's way into the steady state moves over nothing.
//
// Values. The engines' functional models compute every stream's values per image
// (sim/graph_values.hpp), images in parallel on opt.threads threads with the same results on
// any number; `timing_only` skips them for design sweeps.
//
// Deadlock. If every unfinished process sleeps, the run stops with a DeadlockError that names
// the cycle of full and empty streams and the engines blocked on them.
#pragma once

#include "dsl/errors.hpp"
#include "manager/plan.hpp"
#include "sim/run_timing.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace qdf::sim {

struct SimOptions {
  int images = 1;            // used when no image values are given (timing only)
  bool timing_only = false;  // skip values
  int threads = 0;           // for values and schedules: 0 = every core, else 1 .. kMaxThreads (sim/thread_pool.hpp)
  // The run's cycle limit: a run that needs more cycles stops with a UserError naming
  // `--max-cycles` (so that a mistaken design or a run far too long does not go on for hours).
  // 0: no limit.
  std::int64_t max_cycles = 0;
  // Once the run is in its steady state (every image's cycles those of the image before plus the
  // same period, checked on the whole state at image boundaries), move the state on to the last
  // images at once rather than simulate the ones between (simulator.cpp). The results are the
  // same either way; false simulates every image.
  bool steady_state_skip = true;
  // Called now and then with the fraction of output elements delivered (0..1).
  std::function<void(double)> progress;
};

struct EngineStats {
  std::string name, kind;
  int fpga = 0;
  // Fractions of the run's cycles: advancing, stalled waiting for an input element, stalled
  // waiting for room on an output (the rest: finished or not started).
  double busy = 0, stalled_input = 0, stalled_output = 0;
};

struct FifoStats {
  std::string name;
  std::int64_t capacity = 0, peak = 0;  // elements
};

struct LinkStats {
  std::string name;
  double utilization = 0;  // fraction of the run's cycles the wire was busy
  std::int64_t elements = 0;
};

struct SimResult {
  RunTiming timing;
  HostTimes times;
  std::vector<std::vector<std::int64_t>> outputs;  // per image: the output stream's values (none when timing only)
  std::vector<EngineStats> engines;
  std::vector<FifoStats> fifos;
  std::vector<LinkStats> links;
  double clock_mhz = 0;
  double fps = 0;           // clock / cycles_per_image
  double seconds = 0;       // wall time of the whole simulation
  double value_seconds = 0; // of which computing values
  double schedule_seconds = 0;  // and tracing the kernels' tick schedules (sim/engine_schedule.hpp)
  std::int64_t events = 0;  // element moves simulated, with those of the images moved over
  std::int64_t images_moved = 0;  // images of the steady state moved over rather than simulated
};

class DeadlockError : public UserError {
 public:
  using UserError::UserError;
};

// Runs `images` (each the input stream's values, as graph_forward takes them) through `plan`.
// With opt.timing_only, `images` may be empty and opt.images images are timed.
SimResult simulate(const manager::Plan& plan, const std::vector<std::vector<std::int64_t>>& images, const SimOptions& opt = {});

}  // namespace qdf::sim

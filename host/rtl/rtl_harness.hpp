// A whole planned design under Verilator: every FPGA top of the plan (manager/bundle.hpp) in one
// simulation, joined by the links' timing model (sim/link_model.hpp), fed images by a host that
// always has the next input element and takes every output element as it arrives.
//
// The tops run in one generated module, `<net>_system`, in which each ring link is cut into two
// pairs of ports (the sending FPGA's link_out, the receiving FPGA's link_in), so that the harness
// carries elements between them with the same LinkModel the simulator uses: the two executions of
// the manager graph then differ only in the engines, RTL here and timed models there.
//
// Cycle 0 is the first cycle after reset. In every cycle the harness drives each port from the
// links' state at the start of the cycle (a sender's ready when LinkModel::earliest_send(c) == c,
// a receiver's valid when an element has arrived), and records the handshakes the rising edge
// sees (valid && ready) as sends and receives of the links.
#pragma once

#include "dsl/verilator_runner.hpp"
#include "manager/bundle.hpp"
#include "manager/plan.hpp"
#include "sim/run_timing.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace qdf::host {

struct RtlRun {
  std::vector<std::vector<std::int64_t>> outputs;  // per image: the output stream's values (its lanes unpacked)
  sim::HostTimes times;   // host_in: cycle each element left the host; host_out: cycle each reached it
  sim::RunTiming timing;  // times.timing()
  std::uint64_t cycles = 0;  // cycles simulated after reset, until the last output was taken and `done` rose
  double build_seconds = 0;  // generating the system's Verilog and building it (or finding it in the cache)
  double run_seconds = 0;    // the cycle loop only
};

// The system module of `plan`: its Verilog (the system first, then every module of every FPGA
// top) and its ports (without clk): rst, images [31:0], done, fpga<i>_done, host_in_*, host_out_*,
// and for each ring link L, L_send_* (the sending FPGA's link_out) and L_recv_* (the receiving
// FPGA's link_in), each a valid/ready stream (_data, _valid, _ready). The FPGA tops' modules come
// from `fpga_modules` (a bundle's own files: open_bundle), else are generated from the plan.
struct SystemDesign {
  std::vector<dsl::VerilogModule> modules;
  std::vector<dsl::DesignPort> ports;
};
SystemDesign system_design(const manager::Plan& plan, const manager::FpgaModuleSource& fpga_modules = {});
std::string system_top_name(const manager::Plan& plan);

// A stall: no element moved for this many cycles while none was in flight on a link.
constexpr std::int64_t kRtlStallCycles = 1'000'000;

// images: per image, the input stream's values in stream order (row, column, channel), as the
// graph's input stream carries them (a binary input: bits, 1 = +1). A UserError names an image of
// the wrong size, and reports a stall (no element moved for `stall_cycles` cycles, and none in
// flight on a link: a link's latency may be longer than the bound) with the ports that were waiting.
RtlRun run_plan_rtl(const manager::Plan& plan, const std::vector<std::vector<std::int64_t>>& images,
                   const manager::FpgaModuleSource& fpga_modules = {}, std::int64_t stall_cycles = kRtlStallCycles);

}  // namespace qdf::host

// A whole planned design under Verilator: every FPGA top of the plan (manager/bundle.hpp) in one
// simulation, fed images by a host that always has the next input element and takes every output
// element as it arrives.
//
// The tops run in one generated module, `<net>_system`. The host links are valid/ready streams
// that the harness drives with the host link's timing model (sim/link_model.hpp, the one the
// simulator uses: the host is not RTL). Each ring link is the RTL of its two endpoints
// (engines/ring_link.hpp) in the sending and the receiving FPGA's tops, whose lane and credit
// ports the harness joins through a channel that delays each by the link's latency; so the
// simulator's ring link model is checked against that RTL, not shared with it.
//
// Cycle 0 is the first cycle after reset. In every cycle the harness drives each port from the
// links' state at the start of the cycle (a host link's ready when LinkModel::earliest_send(c) ==
// c, its valid when an element has arrived; a ring channel's flit and credits sent `latency`
// cycles before), and records the handshakes the rising edge sees (valid && ready).
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
// top) and its ports (without clk): rst, images [31:0], done, fpga<i>_done, the host links'
// streams host_in_* and host_out_* (_data, _valid, _ready), and for each ring link L the sending
// FPGA's L_tx_lane_data, L_tx_lane_valid, L_tx_lane_stream (out) and L_tx_credit (in), and the
// receiving FPGA's L_rx_lane_* (in), L_rx_credit and L_rx_overflow (out). The FPGA tops' modules
// come from `fpga_modules` (a bundle's own files: open_bundle), else are generated from the plan.
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
// verilator_threads: the model's own threads (Verilator --threads), 1..64.
RtlRun run_plan_rtl(const manager::Plan& plan, const std::vector<std::vector<std::int64_t>>& images,
                   const manager::FpgaModuleSource& fpga_modules = {}, std::int64_t stall_cycles = kRtlStallCycles,
                   int verilator_threads = 1);

}  // namespace qdf::host

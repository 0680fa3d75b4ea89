// Shared steps of the engine tests: run a kernel's RTL under Verilator, check it against the
// functional model's output stream, and measure cycles per frame.
#pragma once

#include "dsl/cosim.hpp"
#include "dsl/passes.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>

namespace qdf::testing {

struct RtlCheck {
  std::int64_t cycles_per_frame = 0;  // steady state, from runs of 1 and 3 frames without stalls
  std::int64_t latency_cycles = 0;    // cycles of a 1-frame run beyond its ticks
};

// Runs `frames3` (three frames) under random stalls and compares the output with `expected`;
// then measures cycles per frame without stalls from the first frame alone (`frames1`).
inline RtlCheck check_rtl(const dsl::Kernel& k, const dsl::RunSpec& frames1, const dsl::RunSpec& frames3,
                          const std::map<std::string, dsl::Stream>& expected3) {
  using namespace dsl;
  Kernel hw = compile_kernel(k);
  VerilogModule m = emit_verilog(hw);
  BuiltModel model = verilator_build(m, hw);
  for (const StallPattern& p : seeded_patterns({{0.0, 0.0}, {0.4, 0.4}})) {
    RtlRunOptions o;
    o.seed = p.seed;
    o.input_gap = p.input_gap;
    o.output_stall = p.output_stall;
    RtlRunResult r = verilator_run(model, hw, frames3, o);
    CHECK(r.done);
    std::string diff;
    for (const auto& [output, expected] : expected3) diff += compare_streams(output, expected, r.outputs.at(output), 5);
    INFO(k.name << " under gap " << p.input_gap << ", stall " << p.output_stall << ", seed " << p.seed << " (replay: QDF_SEED="
                << stall_seed() << "):\n" << diff);
    CHECK(diff.empty());
  }
  RtlRunResult one = verilator_run(model, hw, frames1, {});
  RtlRunResult three = verilator_run(model, hw, frames3, {});
  RtlCheck c;
  c.cycles_per_frame = static_cast<std::int64_t>(three.cycles - one.cycles) / 2;
  c.latency_cycles = static_cast<std::int64_t>(one.cycles) - static_cast<std::int64_t>(frames1.ticks);
  return c;
}

inline RtlCheck check_rtl(const dsl::Kernel& k, const dsl::RunSpec& frames1, const dsl::RunSpec& frames3,
                          const std::string& output, const dsl::Stream& expected3) {
  return check_rtl(k, frames1, frames3, std::map<std::string, dsl::Stream>{{output, expected3}});
}

}  // namespace qdf::testing

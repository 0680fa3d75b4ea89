// Kernels that exercise corners of the DSL the examples do not: every operator, values wider
// than 64 bits, conditional reads and writes, a RAM outside a loop (synchronous reads).
#pragma once

#include "dsl/interpreter.hpp"

namespace qdf::testing {

dsl::Kernel operator_kernel();  // inputs a: SInt<13>, b: SInt<9>, u: UInt<12>, v: UInt<5>
dsl::RunSpec operator_run(std::size_t n, std::uint64_t seed);

dsl::Kernel wide_kernel();  // inputs a: UInt<100>, b: UInt<90>, c: SInt<70>
dsl::RunSpec wide_run(std::size_t n, std::uint64_t seed);

// a read every tick, b every third tick (held in between), out 'sum' every tick, out 'odd'
// only when a is odd; a scalar offset added to both.
dsl::Kernel enables_kernel();
dsl::RunSpec enables_run(std::size_t ticks, std::uint64_t seed);

// x delayed by `depth` ticks through a RAM written and read at the same address (read before
// write), next to x itself.
dsl::Kernel ram_delay_kernel(int depth);
dsl::RunSpec ram_delay_run(std::size_t ticks, std::uint64_t seed);

}  // namespace qdf::testing

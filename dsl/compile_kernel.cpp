// The IR pass pipeline, in order. Each line says why the pass is where it is.
#include "dsl/passes.hpp"

namespace qdf::dsl {

Kernel compile_kernel(Kernel k, const CompileOptions& opt) {
  auto after = [&](const char* pass) {
    if (opt.after_pass) opt.after_pass(pass, k);
  };
  after("recorded");
  // Types first: every later pass trusts widths and operand kinds.
  check_types(k);
  // Offsets within bounds and enables that can be computed before reading inputs.
  check_structure(k);
  // Dead nodes must go before scheduling so that they neither constrain nor cost.
  remove_dead_nodes(k);
  after("remove_dead_nodes");
  // One node per distinct computation, so that scheduling balances (and pays for) each once.
  merge_common_subexpressions(k);
  after("merge_common_subexpressions");
  // A same-tick cycle has no schedule; report it with its nodes rather than as a schedule bug.
  check_combinational_loops(k);
  // Shifts per node from operator latencies and offsets (loops forced to latency 0).
  schedule(k, opt.latency);
  after("schedule");
  // Offsets and latencies become explicit delays; operands are balanced to their consumers.
  lower_to_delays(k);
  remove_dead_nodes(k);
  after("lower_to_delays");
  // Long delay lines become memories (line buffers), short ones stay shift registers.
  map_delays_to_memories(k, opt.memory_min_depth, opt.memory_min_bits);
  after("map_delays_to_memories");
  // The result must be consistent before any backend sees it.
  verify_lowered(k);
  return k;
}

}  // namespace qdf::dsl

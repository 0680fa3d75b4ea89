// verify_lowered: the consistency check after the pipeline (what Verilator does after its
// passes). A failure here is a bug in a pass, never the user's: no offsets left, every delay at
// least one tick, every operand ready exactly at its consumer's stage, types still consistent.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <fmt/format.h>

namespace qdf::dsl {

void verify_lowered(const Kernel& k) {
  check_types(k);
  auto sh = [&](NodeId v) { return k.shift.at(static_cast<size_t>(v)); };
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    const Node& n = k.at(v);
    if (n.dead) continue;
    if (n.op == Op::Offset) throw InternalError(fmt::format("{} survived lowering", k.describe(v)));
    if (n.op == Op::Delay && (n.a0 < 0 || (n.a0 == 0 && n.a2 == 0))) throw InternalError(fmt::format("{} has delay {}", k.describe(v), n.a0));
    for (size_t i = 0; i < n.args.size(); ++i) {
      NodeId u = n.args[i];
      if (u == kNoNode || k.at(u).op == Op::Const || k.at(u).op == Op::Scalar) continue;
      std::int64_t want;
      if (n.op == Op::Delay) want = sh(v) - n.a0 - n.a2;
      else if (n.op == Op::RamRead) want = i == 0 ? sh(v) - n.a1 : sh(n.args[0]);
      else if (n.op == Op::Rom) want = sh(v) - n.a1;
      else want = sh(v);
      if (sh(u) != want)
        throw InternalError(fmt::format("{} reads {} at stage {}, ready at {}", k.describe(v), k.describe(u), want, sh(u)));
    }
  }
}

}  // namespace qdf::dsl

// check_types: every live node's type is the one the rules of types.hpp give for its operands,
// every width is known, and every argument refers to a live node of the right kind.
// check_structure: the things the rules of one operator cannot see: offsets within the kernel's
// declared maximum, enables that are Bool, input enables that do not read stream data.
// Both expect a recorded (unscheduled) kernel and change nothing.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <fmt/format.h>

namespace qdf::dsl {
namespace {

[[noreturn]] void fail(const Kernel& k, NodeId id, const std::string& what) {
  throw UserError(fmt::format("{}: error: in kernel '{}', node {}: {}", k.at(id).loc.str(), k.name, k.describe(id), what));
}

rules::Result expected_type(const Kernel& k, const Node& n) {
  auto t = [&](int i) { return k.at(n.args.at(static_cast<size_t>(i))).type; };
  switch (n.op) {
    case Op::Add: return rules::add(t(0), t(1));
    case Op::Sub: return rules::sub(t(0), t(1));
    case Op::Mul: return rules::mul(t(0), t(1));
    case Op::Neg: return rules::neg(t(0));
    case Op::And: case Op::Or: case Op::Xor: case Op::Xnor: return rules::bitwise(t(0), t(1));
    case Op::Not: return rules::bit_not(t(0));
    case Op::Eq: case Op::Ne: return rules::equality(t(0), t(1));
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: return rules::ordering(t(0), t(1));
    case Op::Mux: return rules::mux(t(0), t(1), t(2));
    case Op::Shl: return rules::shl(t(0), static_cast<int>(n.a0));
    case Op::Shr: return rules::shr(t(0), static_cast<int>(n.a0));
    case Op::ShlKeep: case Op::ShrKeep: return rules::shift_keep(t(0), t(1));
    case Op::Popcount: return rules::popcount(t(0));
    case Op::Slice: return rules::slice(t(0), static_cast<int>(n.a0), static_cast<int>(n.a1));
    case Op::Concat: return rules::concat(t(0), t(1));
    case Op::ReduceAnd: case Op::ReduceOr: case Op::ReduceXor: return rules::reduce(t(0));
    case Op::Cast: return rules::cast(t(0), n.type);
    case Op::RunActive: case Op::Started: return rules::checked(Type::boolean());
    case Op::Offset: case Op::Delay: return rules::checked(t(0));
    case Op::RamRead: return rules::checked(t(0));
    default: return rules::checked(n.type);  // sources and state: their declared type
  }
}

size_t arity(Op op) {
  switch (op) {
    case Op::Const: case Op::Scalar: case Op::RunActive: case Op::Started: return 0;
    case Op::Input: return 1;
    case Op::Output: case Op::Register: return 2;
    case Op::Ram: case Op::Mux: return 3;
    case Op::RamRead: return 2;
    case Op::Rom: case Op::Offset: case Op::Delay: case Op::Neg: case Op::Not: case Op::Shl: case Op::Shr:
    case Op::Popcount: case Op::Slice: case Op::ReduceAnd: case Op::ReduceOr: case Op::ReduceXor: case Op::Cast:
      return 1;
    default: return 2;
  }
}

// Arguments that may be absent: enables (absent = always) and nothing else.
bool optional_arg(Op op, size_t i) {
  return (op == Op::Input && i == 0) || (op == Op::Output && i == 1) || (op == Op::Register && i == 1);
}

}  // namespace

void check_types(const Kernel& k) {
  for (NodeId id = 0; id < static_cast<NodeId>(k.nodes.size()); ++id) {
    const Node& n = k.at(id);
    if (n.dead) continue;
    if (!n.type.valid())
      fail(k, id, fmt::format("unknown or invalid width {}: {}", n.type.width, rules::rule_message(rules::Err::BadWidth)));
    if (n.args.size() != arity(n.op))
      throw InternalError(fmt::format("{} has {} arguments, expected {}", k.describe(id), n.args.size(), arity(n.op)));
    for (size_t i = 0; i < n.args.size(); ++i) {
      NodeId a = n.args[i];
      if (a == kNoNode) {
        if (optional_arg(n.op, i)) continue;
        if (n.op == Op::Output) fail(k, id, "output is not connected to any value");
        if (n.op == Op::Register) fail(k, id, "register has no next value: call .next(value)");
        if (n.op == Op::Ram) fail(k, id, "RAM is never written: use rom() for a constant table");
        throw InternalError(fmt::format("{} misses argument {}", k.describe(id), i));
      }
      if (a < 0 || a >= static_cast<NodeId>(k.nodes.size()) || k.at(a).dead)
        throw InternalError(fmt::format("{} refers to a missing node n{}", k.describe(id), a));
      if (k.at(a).op == Op::Output) throw InternalError(fmt::format("{} reads an output node", k.describe(id)));
      if ((k.at(a).op == Op::Ram) != (n.op == Op::RamRead && i == 0))
        throw InternalError(fmt::format("{} argument {} has the wrong kind", k.describe(id), i));
      if (!k.at(a).type.valid()) fail(k, a, "unknown or invalid width");
    }
    rules::Result r = expected_type(k, n);
    if (!r.ok()) fail(k, id, rules::rule_message(r.err).data());
    if (r.type != n.type)
      fail(k, id, fmt::format("has type {} but its operands give {}", to_string(n.type), to_string(r.type)));
    if (n.op == Op::Output && k.at(n.args[0]).type != n.type)
      fail(k, id, fmt::format("declared {} but connected to {}", to_string(n.type), to_string(k.at(n.args[0]).type)));
    if (n.op == Op::Register && k.at(n.args[0]).type != n.type)
      fail(k, id, fmt::format("is {} but its next value is {}", to_string(n.type), to_string(k.at(n.args[0]).type)));
  }
}

void check_structure(const Kernel& k) {
  for (NodeId id = 0; id < static_cast<NodeId>(k.nodes.size()); ++id) {
    const Node& n = k.at(id);
    if (n.dead) continue;
    if (n.op == Op::Offset && (n.a0 > k.max_offset || -n.a0 > k.max_offset))
      fail(k, id, fmt::format("offset {} exceeds the declared maximum offset of {} elements (set_max_offset())", n.a0,
                              k.max_offset));
    const bool has_enable = n.op == Op::Input || n.op == Op::Output || n.op == Op::Register;
    if (has_enable) {
      NodeId en = n.args[n.op == Op::Input ? 0 : 1];
      if (en != kNoNode && k.at(en).type.kind != Kind::Bool)
        fail(k, id, fmt::format("enable is {}: {}", to_string(k.at(en).type), rules::rule_message(rules::Err::NotBool)));
    }
    if (n.op == Op::Ram && k.at(n.args[2]).type.kind != Kind::Bool) fail(k, id, "write enable must be Bool");
  }
  // An input's enable decides whether the input is read in this tick, so it cannot depend on
  // what a stream input delivers in this same tick (through registers it may).
  for (NodeId in : k.inputs) {
    NodeId en = k.at(in).args[0];
    if (en == kNoNode) continue;
    std::vector<char> seen(k.nodes.size(), 0);
    std::vector<NodeId> stack{en};
    while (!stack.empty()) {
      NodeId v = stack.back();
      stack.pop_back();
      if (seen[static_cast<size_t>(v)]) continue;
      seen[static_cast<size_t>(v)] = 1;
      const Node& m = k.at(v);
      if (m.op == Op::Input)
        fail(k, in, fmt::format("its enable depends on the data of stream input '{}' in the same tick; compute it "
                                "from counters, registers or scalars",
                                m.name));
      for (size_t i = 0; i < m.args.size(); ++i)
        if (m.args[i] != kNoNode && is_combinational_arg(m, static_cast<int>(i))) stack.push_back(m.args[i]);
    }
  }
}

bool is_combinational_arg(const Node& n, int arg) {
  switch (n.op) {
    case Op::Register: case Op::Ram: return false;          // stored for the next tick
    case Op::RamRead: return arg == 1 && n.a1 == 0;          // async read depends on its address
    case Op::Rom: return n.a1 == 0;
    case Op::Offset: return n.a0 > 0;                        // reads ahead: resolved by scheduling
    case Op::Delay: return n.a0 == 0;                        // a zero-tick delay is a wire
    default: return true;
  }
}

std::vector<std::vector<std::pair<NodeId, int>>> users_of(const Kernel& k) {
  std::vector<std::vector<std::pair<NodeId, int>>> u(k.nodes.size());
  for (NodeId id = 0; id < static_cast<NodeId>(k.nodes.size()); ++id) {
    const Node& n = k.at(id);
    if (n.dead) continue;
    for (size_t i = 0; i < n.args.size(); ++i)
      if (n.args[i] != kNoNode) u[static_cast<size_t>(n.args[i])].push_back({id, static_cast<int>(i)});
  }
  return u;
}

}  // namespace qdf::dsl

// merge_common_subexpressions: nodes that compute the same thing (same operation, type,
// attributes and operands) are merged into one, so that, for example, every `row == 0` of a
// kernel is one comparator and one delay chain, however often the C++ wrote it. Only pure nodes
// merge: constants and operators, never ports, state or memories. Repeats until nothing merges
// (a merge can make two consumers identical). Expects a checked kernel; keeps indices stable.
#include "dsl/passes.hpp"

#include <map>
#include <tuple>

namespace qdf::dsl {
namespace {

bool is_pure(const Node& n) {
  switch (n.op) {
    case Op::Input: case Op::Scalar: case Op::Output: case Op::Register: case Op::Ram: case Op::RamRead:
    case Op::Offset: case Op::Delay: case Op::RunActive: case Op::Started:
      return false;
    default:
      return true;  // constants, operators, ROM reads (a ROM is its table)
  }
}

using Key = std::tuple<Op, Kind, int, std::int64_t, std::int64_t, std::vector<NodeId>, std::vector<std::uint64_t>>;

}  // namespace

void merge_common_subexpressions(Kernel& k) {
  for (bool changed = true; changed;) {
    changed = false;
    std::map<Key, NodeId> seen;
    std::vector<NodeId> replace(k.nodes.size(), kNoNode);
    for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
      const Node& n = k.at(v);
      if (n.dead || !is_pure(n)) continue;
      Key key{n.op, n.type.kind, n.type.width, n.a0, n.a1, n.args, n.bits};
      auto [it, fresh] = seen.emplace(key, v);
      if (!fresh) replace[static_cast<size_t>(v)] = it->second;
    }
    for (Node& n : k.nodes) {
      if (n.dead) continue;
      for (NodeId& a : n.args)
        if (a != kNoNode && replace[static_cast<size_t>(a)] != kNoNode) {
          a = replace[static_cast<size_t>(a)];
          changed = true;
        }
    }
    for (size_t i = 0; i < k.nodes.size(); ++i)
      if (replace[i] != kNoNode) k.nodes[i].dead = true;
  }
}

}  // namespace qdf::dsl

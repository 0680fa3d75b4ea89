// merge_common_subexpressions: nodes that compute the same thing (same operation, type,
// attributes and operands) are merged into one, so that, for example, every `row == 0` of a
// kernel is one comparator and one delay chain, however often the C++ wrote it. Only pure nodes
// merge: constants and operators, never ports, state or memories. Repeats until nothing merges
// (a merge can make two consumers identical). Expects a checked kernel; keeps indices stable.
#include "dsl/hash.hpp"
#include "dsl/passes.hpp"

#include <tuple>
#include <unordered_map>

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

// What a node computes, seen in place (a ROM's table can be large: not copied into a key).
auto computes(const Node& n) { return std::tie(n.op, n.type.kind, n.type.width, n.a0, n.a1, n.args, n.bits); }

std::uint64_t hash_of(const Node& n) {
  Fnv1a h;
  h.add(static_cast<std::uint64_t>(n.op)).add(static_cast<std::uint64_t>(n.type.kind)).add(static_cast<std::uint64_t>(n.type.width));
  h.add(static_cast<std::uint64_t>(n.a0)).add(static_cast<std::uint64_t>(n.a1)).add(n.args.size());
  for (NodeId a : n.args) h.add(static_cast<std::uint64_t>(a));
  for (std::uint64_t w : n.bits) h.add(w);
  return h.value();
}

}  // namespace

void merge_common_subexpressions(Kernel& k) {
  // In index order a pure node comes after its operands, whose merges are then already known: its
  // operands are renamed before it is looked up, so one pass merges whole chains. A pass that
  // renames an operand after its use was looked up (a forward reference) is followed by another.
  for (bool changed = true; changed;) {
    changed = false;
    const auto hash = [&k](NodeId a) { return hash_of(k.at(a)); };
    const auto same = [&k](NodeId a, NodeId b) { return computes(k.at(a)) == computes(k.at(b)); };
    std::unordered_map<NodeId, NodeId, decltype(hash), decltype(same)> seen(k.nodes.size(), hash, same);  // the first that computes the same
    std::vector<NodeId> replace(k.nodes.size(), kNoNode);
    const auto rename = [&](Node& n, NodeId v) {
      for (NodeId& a : n.args)
        if (a != kNoNode && replace[static_cast<size_t>(a)] != kNoNode) {
          if (a >= v && is_pure(n)) changed = true;  // renamed after node v was looked up
          a = replace[static_cast<size_t>(a)];
        }
    };
    for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
      Node& n = k.nodes[static_cast<size_t>(v)];
      if (n.dead) continue;
      rename(n, v);
      if (!is_pure(n)) continue;
      auto [it, fresh] = seen.emplace(v, v);
      if (!fresh) replace[static_cast<size_t>(v)] = it->second;
    }
    for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
      Node& n = k.nodes[static_cast<size_t>(v)];
      if (n.dead) continue;
      rename(n, v);
      if (replace[static_cast<size_t>(v)] != kNoNode) n.dead = true;
    }
  }
}

}  // namespace qdf::dsl

#include "dsl/ir.hpp"

#include <fmt/format.h>

namespace qdf::dsl {

std::string_view to_string(Kind k) {
  switch (k) {
    case Kind::UInt: return "UInt";
    case Kind::SInt: return "SInt";
    case Kind::Bits: return "Bits";
    case Kind::Bool: return "Bool";
  }
  return "?";
}

std::string to_string(Type t) {
  if (t.kind == Kind::Bool) return "Bool";
  return fmt::format("{}<{}>", to_string(t.kind), t.width);
}

const char* op_name(Op op) {
  switch (op) {
    case Op::Const: return "Const";
    case Op::Input: return "Input";
    case Op::Scalar: return "Scalar";
    case Op::RunActive: return "RunActive";
    case Op::Started: return "Started";
    case Op::Output: return "Output";
    case Op::Register: return "Register";
    case Op::Ram: return "Ram";
    case Op::RamRead: return "RamRead";
    case Op::Rom: return "Rom";
    case Op::Offset: return "Offset";
    case Op::Delay: return "Delay";
    case Op::Add: return "Add";
    case Op::Sub: return "Sub";
    case Op::Mul: return "Mul";
    case Op::Neg: return "Neg";
    case Op::And: return "And";
    case Op::Or: return "Or";
    case Op::Xor: return "Xor";
    case Op::Xnor: return "Xnor";
    case Op::Not: return "Not";
    case Op::Eq: return "Eq";
    case Op::Ne: return "Ne";
    case Op::Lt: return "Lt";
    case Op::Le: return "Le";
    case Op::Gt: return "Gt";
    case Op::Ge: return "Ge";
    case Op::Mux: return "Mux";
    case Op::Shl: return "Shl";
    case Op::Shr: return "Shr";
    case Op::ShlKeep: return "ShlKeep";
    case Op::ShrKeep: return "ShrKeep";
    case Op::Popcount: return "Popcount";
    case Op::Slice: return "Slice";
    case Op::Concat: return "Concat";
    case Op::ReduceAnd: return "ReduceAnd";
    case Op::ReduceOr: return "ReduceOr";
    case Op::ReduceXor: return "ReduceXor";
    case Op::Cast: return "Cast";
  }
  return "?";
}

std::string SourceLoc::str() const {
  if (file.empty()) return "<generated>";
  auto slash = file.find_last_of('/');
  return fmt::format("{}:{}", slash == std::string::npos ? file : file.substr(slash + 1), line);
}

NodeId Kernel::add(Node n) {
  nodes.push_back(std::move(n));
  return static_cast<NodeId>(nodes.size() - 1);
}

std::string Kernel::describe(NodeId id) const {
  const Node& n = at(id);
  if (!n.name.empty()) return fmt::format("'{}' ({} n{}, {})", n.name, op_name(n.op), id, n.loc.str());
  return fmt::format("n{} ({}, {})", id, op_name(n.op), n.loc.str());
}

static std::string hex_of(const std::vector<std::uint64_t>& words, size_t from, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s += fmt::format("{:016x}", words[from + static_cast<size_t>(i)]);
  auto nz = s.find_first_not_of('0');
  return "0x" + (nz == std::string::npos ? std::string("0") : s.substr(nz));
}

std::string dump(const Kernel& k) {
  std::string out = fmt::format("kernel {} ({} nodes{})\n", k.name, k.nodes.size(),
                                k.scheduled ? fmt::format(", latency {} ticks", k.latency) : "");
  for (size_t i = 0; i < k.nodes.size(); ++i) {
    const Node& n = k.nodes[i];
    if (n.dead) continue;
    std::string line = fmt::format("  n{:<4} {:<10} {:<9} = {}(", i, to_string(n.type), n.name, op_name(n.op));
    for (size_t a = 0; a < n.args.size(); ++a)
      line += (a ? ", " : "") + (n.args[a] == kNoNode ? std::string("-") : fmt::format("n{}", n.args[a]));
    line += ")";
    switch (n.op) {
      case Op::Offset: case Op::Shl: case Op::Shr: line += fmt::format(" k={}", n.a0); break;
      case Op::Delay: line += fmt::format(" d={}{}{}", n.a0, n.a2 ? fmt::format(" k={}", n.a2) : "", n.a1 ? " mem" : ""); break;
      case Op::Slice: line += fmt::format(" [{}:{}]", n.a0, n.a1); break;
      case Op::Ram: case Op::Rom: line += fmt::format(" depth={}{}", n.a0, n.a1 ? " sync" : ""); break;
      case Op::RamRead: if (n.a1) line += " sync"; break;
      case Op::Const: case Op::Register:
        line += " " + hex_of(n.bits, 0, words_of(n.type));
        break;
      default: break;
    }
    if (k.scheduled && i < k.shift.size()) line += fmt::format("  @{}", k.shift[i]);
    out += line + "   # " + n.loc.str() + "\n";
  }
  return out;
}

}  // namespace qdf::dsl

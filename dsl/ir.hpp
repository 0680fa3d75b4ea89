// The kernel IR: a kernel is a graph of nodes recorded once from C++ and then rewritten by the
// passes of passes.hpp. Nodes are plain structs; a node refers to its operands by index.
//
// The execution model (written once, here; the interpreter and the Verilog emitter implement it):
//   A kernel runs in ticks t = 0, 1, 2, ... . In each tick every node takes a value. A stream
//   input whose enable holds in tick t consumes its next element; a stream output whose enable
//   holds writes one element. The kernel advances one tick when every input enabled in that tick
//   has data and every output enabled in it has room; otherwise it stalls as a whole (no node
//   changes). A run lasts `ticks` ticks, set by the host (0: run forever). Values of any node at
//   ticks before 0 are zero, which is what offset(x, -k) reads at the start of a stream; stream
//   inputs read as zero at ticks >= `ticks`, which is what offset(x, +k) reads at the end of a run.
//   State: register q has q(0) = init and q(t+1) = en(t) ? next(t) : q(t); a RAM read in tick t
//   sees every write of ticks < t (read before write). A RAM holds zeros when the device is
//   configured; a reset does not clear it (a kernel that needs it cleared writes zeros itself).
//   A RAM read at an address past its depth gives zero; such a write is dropped.
#pragma once

#include "dsl/types.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace qdf::dsl {

using NodeId = int;
inline constexpr NodeId kNoNode = -1;

enum class Op : std::uint8_t {
  // sources
  Const,      // bits = value
  Input,      // stream input; args = {enable}; name
  Scalar,     // host-set value, constant during a run; name
  RunActive,  // Bool: 1 in ticks 0 <= t < ticks (the host's tick count)
  Started,    // Bool: 1 in ticks t >= 0 (0 only for the pre-start ticks of a scheduled graph)
  // sinks and state
  Output,     // args = {value, enable}; name
  Register,   // args = {next, enable}; bits = init; name
  Ram,        // args = {write_addr, write_data, write_enable}; a0 = depth; type = element type
  RamRead,    // args = {ram, addr}; a1 = 1 for a registered (synchronous) read after scheduling
  Rom,        // args = {addr}; bits = table (depth * words(type) words); a0 = depth; a1 = sync read
  Offset,     // args = {x}; a0 = k (ticks; negative = earlier)
  Delay,      // args = {x}; a0 = d ticks; a1 = 1 when kept in a memory (line buffer); a2 = offset k.
              // d >= 1, except d == 0 for an offset(x, +k) that needs no storage (a renamed wire).
  // arithmetic and logic
  Add, Sub, Mul, Neg,
  And, Or, Xor, Xnor, Not,
  Eq, Ne, Lt, Le, Gt, Ge,
  Mux,        // args = {sel, if_true, if_false}
  Shl, Shr,   // a0 = constant amount
  ShlKeep, ShrKeep,  // args = {x, amount}; keep the width
  Popcount, Slice,   // Slice: a0 = hi, a1 = lo
  Concat,     // args = {high part, low part}
  ReduceAnd, ReduceOr, ReduceXor,
  Cast,
};

const char* op_name(Op op);

struct SourceLoc {
  std::string file;
  unsigned line = 0;
  std::string str() const;  // "file:line" (file without its directories)
};

struct Node {
  Op op = Op::Const;
  Type type{};
  std::vector<NodeId> args;
  std::int64_t a0 = 0, a1 = 0;
  std::int64_t a2 = 0;  // Delay: the logical offset k it implements (value = x(t + k) read d ticks late)
  std::vector<std::uint64_t> bits;  // constant value, register init, ROM table
  std::string name;                 // C++-derived name for ports, registers, memories; may be empty
  SourceLoc loc;
  bool dead = false;  // removed by a pass; kept so that indices stay stable
};

// Words of 64 bits that hold a value of type t.
inline int words_of(Type t) { return (t.width + 63) / 64; }

struct Kernel {
  std::string name;
  std::vector<Node> nodes;
  std::vector<NodeId> inputs, outputs, scalars;  // in declaration order
  std::map<std::string, std::string> params;     // generator parameters, for headers and dumps
  std::int64_t max_offset = 1 << 16;             // declared bound on |k| of offset(x, k)

  // Filled by scheduling (schedule.cpp): the tick at which each node's value is ready relative
  // to tick 0 of the input side (its "shift"), and the latency between the first input and the
  // last output.
  std::vector<std::int64_t> shift;
  std::vector<int> op_latency;  // latency each node was given (0 inside feedback loops)
  std::int64_t latency = 0;
  bool scheduled = false;

  const Node& at(NodeId id) const { return nodes.at(static_cast<size_t>(id)); }
  Node& at(NodeId id) { return nodes.at(static_cast<size_t>(id)); }
  NodeId add(Node n);
  // Readable name of a node for messages and dumps: "acc (Register, kernel.cpp:12)".
  std::string describe(NodeId id) const;
};

// A human-readable dump, one line per live node, used by --dump-ir and in failing tests.
std::string dump(const Kernel& k);

}  // namespace qdf::dsl

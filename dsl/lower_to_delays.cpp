// lower_to_delays: turns a scheduled kernel into one a backend can run tick by tick:
//   - an operator with latency L becomes the operator followed by a Delay of L ticks (its
//     pipeline register); a memory read with latency 1 becomes a synchronous read instead;
//   - offset(x, k) becomes Delay(x', shift[y] - shift[x] - k), where for k < 0 the delay line
//     is fed x' = Started ? x : 0, so that it reads zero before the stream starts;
//   - every operand that arrives earlier than its consumer's stage is delayed to it (balancing),
//     with one tapped chain of delays per source value;
//   - enables are gated by the run: registers and RAM writes change only from tick 0 on
//     (Started), inputs are read and outputs written only while the run is active (RunActive).
// Afterwards there are no Offset nodes, every Delay is at least one tick (or a zero-tick wire that
// renames x as x(t + k)), and the value of every operand is ready exactly at its consumer's stage. Expects a scheduled kernel.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <algorithm>
#include <climits>
#include <fmt/format.h>
#include <map>

namespace qdf::dsl {
namespace {

class Lowering {
 public:
  explicit Lowering(Kernel& k) : k_(k) {}

  void run() {
    const NodeId n0 = static_cast<NodeId>(k_.nodes.size());
    started_ = add(node(Op::Started, Type::boolean(), {}, {}), 0);
    run_active_ = add(node(Op::RunActive, Type::boolean(), {}, {}), 0);
    explicit_delay_.assign(k_.nodes.size(), 0);
    materialize_latencies(n0);
    lower_offsets(n0);
    gate_enables(n0);
    balance();
    remove_zero_delays();
  }

 private:
  // A node of the lowering, member by member as KernelBuilder::make builds one (an aggregate
  // initializer would leave the members after its last one to their defaults unsaid).
  static Node node(Op op, Type type, std::vector<NodeId> args, SourceLoc loc) {
    Node n;
    n.op = op;
    n.type = type;
    n.args = std::move(args);
    n.loc = std::move(loc);
    return n;
  }

  NodeId add(Node n, std::int64_t shift) {
    NodeId id = k_.add(std::move(n));
    k_.shift.push_back(shift);
    k_.op_latency.push_back(0);
    explicit_delay_.push_back(0);
    return id;
  }
  std::int64_t& sh(NodeId v) { return k_.shift[static_cast<size_t>(v)]; }
  bool is_free(NodeId v) const { return k_.at(v).op == Op::Const || k_.at(v).op == Op::Scalar; }

  NodeId delay(NodeId x, std::int64_t d, SourceLoc loc, bool is_explicit) {  // by value, as gate_of
    Node n = node(Op::Delay, k_.at(x).type, {x}, std::move(loc));
    n.a0 = d;
    NodeId id = add(std::move(n), sh(x) + d);
    explicit_delay_[static_cast<size_t>(id)] = is_explicit;
    return id;
  }

  void redirect_users(NodeId from, NodeId to, NodeId except) {
    for (auto& n : k_.nodes) {
      if (n.dead) continue;
      for (NodeId& a : n.args)
        if (a == from && &n != &k_.at(except)) a = to;
    }
  }

  void materialize_latencies(NodeId n0) {
    for (NodeId v = 0; v < n0; ++v) {
      if (k_.at(v).dead) continue;
      int L = k_.op_latency[static_cast<size_t>(v)];
      if (L == 0) continue;
      Node& n = k_.at(v);
      if (n.op == Op::RamRead || n.op == Op::Rom) {
        if (L != 1) throw InternalError("memory read latency other than 1 is not supported by the backends");
        n.a1 = 1;  // synchronous read: the registered read is the latency
        continue;
      }
      SourceLoc loc = n.loc;
      sh(v) -= L;
      NodeId d = delay(v, L, loc, true);
      redirect_users(v, d, d);
      // ports keep referring to their nodes; only operands were redirected
    }
  }

  void lower_offsets(NodeId n0) {
    for (NodeId v = 0; v < n0; ++v) {
      Node& n = k_.at(v);
      if (n.dead || n.op != Op::Offset) continue;
      NodeId x = n.args[0];
      std::int64_t k = n.a0;
      std::int64_t d = sh(v) - sh(x) - k;
      if (d < 0) throw InternalError(fmt::format("negative delay {} for {}", d, k_.describe(v)));
      // Earlier elements come from one zero-gated copy of x per source, later ones from x
      // itself; either way the delay is a tap of the source's shared delay chain.
      NodeId src = k < 0 ? gate_of(x, k_.at(v).loc) : x;
      Node& o = k_.at(v);
      o.op = Op::Delay;
      o.args = {src};
      o.a0 = 0;  // the tap carries the storage; this node only renames it as x(t + k)
      o.a1 = 0;
      o.a2 = k;
      explicit_delay_[static_cast<size_t>(v)] = 1;
      if (d > 0) taps_[src][d].push_back({v, 0});
    }
  }

  // Started ? x : 0, shared by every negative offset of x.
  NodeId gate_of(NodeId x, SourceLoc loc) {  // by value: adding nodes moves them
    auto it = gates_.find(x);
    if (it != gates_.end()) return it->second;
    Type t = k_.at(x).type;
    Node zero = node(Op::Const, t, {}, {});
    zero.bits.assign(static_cast<size_t>(words_of(t)), 0);
    NodeId z = add(std::move(zero), 0);
    Node gate = node(Op::Mux, t, {started_, x, z}, std::move(loc));
    NodeId g = add(std::move(gate), sh(x));
    gates_[x] = g;
    return g;
  }

  NodeId gated(NodeId en, NodeId gate, std::int64_t at, const SourceLoc& loc) {
    Node g = node(Op::And, Type::boolean(), {en, gate}, loc);
    if (en == kNoNode) return gate;
    return add(std::move(g), at);
  }

  void gate_enables(NodeId n0) {
    for (NodeId v = 0; v < n0; ++v) {
      if (k_.at(v).dead) continue;
      Op op = k_.at(v).op;
      SourceLoc loc = k_.at(v).loc;
      std::int64_t at = sh(v);
      if (op == Op::Register) {
        NodeId g = gated(k_.at(v).args[1], started_, at, loc);
        k_.at(v).args[1] = g;
      } else if (op == Op::Ram) {
        NodeId g = gated(k_.at(v).args[2], started_, at, loc);
        k_.at(v).args[2] = g;
      } else if (op == Op::Input) {
        NodeId g = gated(k_.at(v).args[0], run_active_, at, loc);
        k_.at(v).args[0] = g;
      } else if (op == Op::Output) {
        NodeId g = gated(k_.at(v).args[1], run_active_, at, loc);
        k_.at(v).args[1] = g;
      }
    }
  }

  static constexpr std::int64_t kNoStage = INT64_MIN;
  // The stage at which node v reads its argument i, or kNoStage if it needs no balancing.
  std::int64_t stage_of(NodeId v, size_t i) {
    const Node& n = k_.at(v);
    switch (n.op) {
      case Op::Delay: return explicit_delay_[static_cast<size_t>(v)] ? kNoStage : sh(v) - n.a0 - n.a2;
      case Op::RamRead:
        if (i == 0) {
          if (sh(n.args[0]) != sh(v) - n.a1) throw InternalError(fmt::format("{} misaligned with its RAM", k_.describe(v)));
          return kNoStage;
        }
        return sh(n.args[0]);
      case Op::Rom: return sh(v) - n.a1;
      default: return sh(v);
    }
  }

  void balance() {
    auto& taps = taps_;
    for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v) {
      const Node& n = k_.at(v);
      if (n.dead) continue;
      for (size_t i = 0; i < n.args.size(); ++i) {
        NodeId u = n.args[i];
        if (u == kNoNode || is_free(u)) continue;
        std::int64_t stage = stage_of(v, i);
        if (stage == kNoStage) continue;
        std::int64_t d = stage - sh(u);
        if (d < 0)
          throw InternalError(fmt::format("{} reads {} {} ticks before it is ready", k_.describe(v), k_.describe(u), -d));
        if (d > 0) taps[u][d].push_back({v, i});
      }
    }
    for (auto& [src, by_depth] : taps) {
      NodeId prev = src;
      std::int64_t prev_d = 0;
      for (auto& [d, users] : by_depth) {
        NodeId tap = delay(prev, d - prev_d, k_.at(src).loc, true);
        for (auto [v, i] : users) k_.at(v).args[i] = tap;
        prev = tap;
        prev_d = d;
      }
    }
  }

  void remove_zero_delays() {
    for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v) {
      Node& n = k_.at(v);
      if (n.dead || n.op != Op::Delay || n.a0 != 0 || n.a2 != 0) continue;
      NodeId src = n.args[0];
      n.dead = true;
      for (auto& m : k_.nodes)
        if (!m.dead)
          for (NodeId& a : m.args)
            if (a == v) a = src;
    }
  }

  Kernel& k_;
  // source -> delay in ticks -> the (node, argument) pairs that read the source that late
  std::map<NodeId, std::map<std::int64_t, std::vector<std::pair<NodeId, size_t>>>> taps_;
  std::map<NodeId, NodeId> gates_;
  NodeId started_ = kNoNode, run_active_ = kNoNode;
  std::vector<char> explicit_delay_;
};

}  // namespace

void lower_to_delays(Kernel& k) {
  if (!k.scheduled) throw InternalError("lower_to_delays needs a scheduled kernel");
  Lowering(k).run();
}

void map_delays_to_memories(Kernel& k, std::int64_t min_depth, std::int64_t min_bits) {
  for (Node& n : k.nodes)
    if (!n.dead && n.op == Op::Delay)
      // a line buffer keeps d - 1 entries and an output register, so it needs d >= 3
      n.a1 = (n.a0 >= std::max<std::int64_t>(min_depth, 3) && n.a0 * n.type.width >= min_bits) ? 1 : 0;
}

}  // namespace qdf::dsl

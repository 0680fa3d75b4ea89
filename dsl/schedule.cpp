// schedule: gives every node a shift, the tick (relative to the input side) at which its value is
// ready, such that values meeting at an operator belong to the same element: what MaxCompiler's
// stream scheduler does. Constraints, each an edge u -> v of weight w meaning shift[v] >= shift[u] + w:
//   operand of an operator v        weight latency(v)
//   offset(x, +k)                   weight k     (the consumer must wait until x(t+k) exists)
//   offset(x, -k)                   weight 0     (a delay line of k ticks, plus balancing)
//   next/enable of a register       weight 0
//   write port and read addresses of a RAM -> the RAM     weight 0 (reads and writes meet in one stage)
//   RAM -> its reads, address -> ROM                      weight latency of a memory read
// Constants and scalars are free: available at any shift. A cycle of constraints is a feedback
// loop; it must close within one tick, so every operator on it gets latency 0, and an offset(+k)
// on it is an error. The shifts are the longest paths of the acyclic condensation (ASAP).
// Expects a checked kernel without combinational loops; fills k.shift, k.op_latency, k.latency
// (the largest shift of any port).
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace qdf::dsl {
namespace {

struct Edge {
  NodeId from, to;
  int weight;
  NodeId carrier;  // the node whose latency the weight is (for loop overrides), or kNoNode
};

bool is_free(const Node& n) { return n.op == Op::Const || n.op == Op::Scalar; }

std::vector<Edge> constraint_edges(const Kernel& k, const std::vector<int>& lat) {
  std::vector<Edge> edges;
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    const Node& n = k.at(v);
    if (n.dead) continue;
    for (size_t i = 0; i < n.args.size(); ++i) {
      NodeId u = n.args[i];
      if (u == kNoNode || is_free(k.at(u))) continue;
      switch (n.op) {
        case Op::Output: case Op::Register: case Op::Ram: case Op::Input:
          edges.push_back({u, v, 0, kNoNode});
          break;
        case Op::RamRead:
          if (i == 0) edges.push_back({u, v, lat[static_cast<size_t>(v)], v});
          else edges.push_back({u, n.args[0], 0, kNoNode});
          break;
        case Op::Offset:
          edges.push_back({u, v, static_cast<int>(std::max<std::int64_t>(n.a0, 0)), kNoNode});
          break;
        default:
          edges.push_back({u, v, lat[static_cast<size_t>(v)], v});
      }
    }
  }
  return edges;
}

// Tarjan's strongly connected components, iteratively; components come out sinks first.
std::vector<std::vector<NodeId>> components(size_t n, const std::vector<std::vector<NodeId>>& succ) {
  std::vector<int> index(n, -1), low(n, 0);
  std::vector<char> on(n, 0);
  std::vector<NodeId> st;
  std::vector<std::vector<NodeId>> out;
  int next = 0;
  for (NodeId root = 0; root < static_cast<NodeId>(n); ++root) {
    if (index[static_cast<size_t>(root)] != -1) continue;
    std::vector<std::pair<NodeId, size_t>> call{{root, 0}};
    index[static_cast<size_t>(root)] = low[static_cast<size_t>(root)] = next++;
    st.push_back(root);
    on[static_cast<size_t>(root)] = 1;
    while (!call.empty()) {
      auto& [v, i] = call.back();
      const auto& s = succ[static_cast<size_t>(v)];
      if (i < s.size()) {
        NodeId w = s[i++];
        if (index[static_cast<size_t>(w)] == -1) {
          index[static_cast<size_t>(w)] = low[static_cast<size_t>(w)] = next++;
          st.push_back(w);
          on[static_cast<size_t>(w)] = 1;
          call.push_back({w, 0});
        } else if (on[static_cast<size_t>(w)]) {
          low[static_cast<size_t>(v)] = std::min(low[static_cast<size_t>(v)], index[static_cast<size_t>(w)]);
        }
      } else {
        NodeId done = v;
        call.pop_back();
        if (!call.empty())
          low[static_cast<size_t>(call.back().first)] =
              std::min(low[static_cast<size_t>(call.back().first)], low[static_cast<size_t>(done)]);
        if (low[static_cast<size_t>(done)] == index[static_cast<size_t>(done)]) {
          std::vector<NodeId> comp;
          NodeId w;
          do {
            w = st.back();
            st.pop_back();
            on[static_cast<size_t>(w)] = 0;
            comp.push_back(w);
          } while (w != done);
          out.push_back(std::move(comp));
        }
      }
    }
  }
  return out;
}

}  // namespace

int LatencyModel::of(const Kernel& k, const Node& n) const {
  auto wide = [&] { return n.type.width > wide_bits; };
  switch (n.op) {
    case Op::Add: case Op::Sub: case Op::Neg: return wide() ? arith : 0;
    case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Eq: case Op::Ne: {
      // the operands' width decides: a comparison's result is one bit
      int w = 0;
      for (NodeId a : n.args) w = std::max(w, k.at(a).type.width);
      return w > wide_bits ? arith : 0;
    }
    case Op::Mul: return mul;
    case Op::Popcount: return n.type.width > 3 ? popcount : 0;  // more than 7 input bits
    case Op::RamRead: case Op::Rom: return memory;
    default: return 0;
  }
}

void schedule(Kernel& k, const LatencyModel& model) {
  const size_t n = k.nodes.size();
  std::vector<int> lat(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (!k.nodes[i].dead) lat[i] = model.of(k, k.nodes[i]);

  std::vector<Edge> edges = constraint_edges(k, lat);
  std::vector<std::vector<NodeId>> succ(n);
  for (const Edge& e : edges) succ[static_cast<size_t>(e.from)].push_back(e.to);
  auto comps = components(n, succ);
  std::vector<int> comp_of(n, -1);
  for (size_t c = 0; c < comps.size(); ++c)
    for (NodeId v : comps[c]) comp_of[static_cast<size_t>(v)] = static_cast<int>(c);

  // Feedback loops close in one tick: zero the latency of operators on them.
  for (const Edge& e : edges) {
    if (comp_of[static_cast<size_t>(e.from)] != comp_of[static_cast<size_t>(e.to)] || e.weight == 0) continue;
    const Node& to = k.at(e.to);
    if (to.op == Op::Offset)
      throw UserError(fmt::format("{}: error: in kernel '{}': offset(x, +{}) {} is inside a feedback loop: a value "
                                  "cannot depend on its own future; use a negative offset or a register",
                                  to.loc.str(), k.name, to.a0, k.describe(e.to)));
    lat[static_cast<size_t>(e.carrier)] = 0;
  }
  edges = constraint_edges(k, lat);
  std::vector<std::vector<Edge>> in_edges(n);
  for (const Edge& e : edges) in_edges[static_cast<size_t>(e.to)].push_back(e);

  std::vector<std::int64_t> shift(n, 0);
  for (size_t c = comps.size(); c-- > 0;) {  // topological order: sources first
    std::int64_t s = 0;
    for (NodeId v : comps[c])
      for (const Edge& e : in_edges[static_cast<size_t>(v)])
        if (comp_of[static_cast<size_t>(e.from)] != static_cast<int>(c))
          s = std::max(s, shift[static_cast<size_t>(e.from)] + e.weight);
    for (NodeId v : comps[c]) shift[static_cast<size_t>(v)] = s;
  }
  for (const Edge& e : edges)
    if (shift[static_cast<size_t>(e.to)] < shift[static_cast<size_t>(e.from)] + e.weight)
      throw InternalError(fmt::format("schedule violates {} -> {}", k.describe(e.from), k.describe(e.to)));

  k.shift = std::move(shift);
  k.op_latency = std::move(lat);
  k.latency = 0;
  // The run lasts until the last output and the last input have seen tick `ticks - 1`: an input
  // whose enable takes time to compute is read later than the outputs are written.
  for (NodeId o : k.outputs) k.latency = std::max(k.latency, k.shift[static_cast<size_t>(o)]);
  for (NodeId i : k.inputs) k.latency = std::max(k.latency, k.shift[static_cast<size_t>(i)]);
  k.scheduled = true;
}

}  // namespace qdf::dsl

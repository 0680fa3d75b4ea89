#include "dsl/interpreter.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <algorithm>
#include <bit>
#include <fmt/format.h>

namespace qdf::dsl {

void Stream::push(std::uint64_t v) {
  const size_t n = static_cast<size_t>(words_per_element());
  words.push_back(width >= 64 ? v : (v & ((std::uint64_t{1} << width) - 1)));
  for (size_t i = 1; i < n; ++i) words.push_back(0);
}


namespace {

using bits::Word;

inline std::int64_t sext(Word v, int w) {
  return w >= 64 ? static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v << (64 - w)) >> (64 - w);
}
inline Word trunc(Word v, int w) { return w >= 64 ? v : v & ((Word{1} << w) - 1); }

// Evaluates one combinational node. `val` is the value store; operands are read from their slots.
class Evaluator {
 public:
  Evaluator(const Kernel& k, const std::vector<size_t>& slot, std::vector<Word>& val)
      : k_(k), slot_(slot), val_(val), scratch_a_(64), scratch_b_(64) {}

  Word* at(NodeId v) { return &val_[slot_[static_cast<size_t>(v)]]; }
  const Type& type(NodeId v) const { return k_.at(v).type; }

  void eval(NodeId id, const Node& n) {
    Word* d = at(id);
    const int w = n.type.width;
    const bool narrow = w <= 64 && std::all_of(n.args.begin(), n.args.end(), [&](NodeId a) {
      return a == kNoNode || k_.at(a).type.width <= 64;
    });
    if (narrow) {
      d[0] = eval_narrow(n);
      return;
    }
    eval_wide(n, d);
  }

 private:
  Word arg(const Node& n, int i) const { return val_[slot_[static_cast<size_t>(n.args[static_cast<size_t>(i)])]]; }
  std::int64_t sarg(const Node& n, int i) const { return sext(arg(n, i), type(n.args[static_cast<size_t>(i)]).width); }
  bool signed_arg(const Node& n, int i) const { return type(n.args[static_cast<size_t>(i)]).is_signed(); }

  Word eval_narrow(const Node& n) {
    const int w = n.type.width;
    switch (n.op) {
      case Op::Add: return trunc(signed_arg(n, 0) ? Word(sarg(n, 0) + sarg(n, 1)) : arg(n, 0) + arg(n, 1), w);
      case Op::Sub: {
        std::int64_t a = signed_arg(n, 0) ? sarg(n, 0) : static_cast<std::int64_t>(arg(n, 0));
        std::int64_t b = signed_arg(n, 1) ? sarg(n, 1) : static_cast<std::int64_t>(arg(n, 1));
        return trunc(Word(a) - Word(b), w);
      }
      case Op::Mul:
        return trunc(signed_arg(n, 0) ? Word(sarg(n, 0)) * Word(sarg(n, 1)) : arg(n, 0) * arg(n, 1), w);
      case Op::Neg: return trunc(Word(0) - Word(sarg(n, 0)), w);
      case Op::And: return arg(n, 0) & arg(n, 1);
      case Op::Or: return arg(n, 0) | arg(n, 1);
      case Op::Xor: return arg(n, 0) ^ arg(n, 1);
      case Op::Xnor: return trunc(~(arg(n, 0) ^ arg(n, 1)), w);
      case Op::Not: return trunc(~arg(n, 0), w);
      case Op::Eq: case Op::Ne: {
        bool s = signed_arg(n, 0);
        bool e = s ? sarg(n, 0) == sarg(n, 1) : arg(n, 0) == arg(n, 1);
        return n.op == Op::Eq ? e : !e;
      }
      case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
        bool s = signed_arg(n, 0);
        int c = s ? (sarg(n, 0) < sarg(n, 1) ? -1 : sarg(n, 0) > sarg(n, 1))
                  : (arg(n, 0) < arg(n, 1) ? -1 : arg(n, 0) > arg(n, 1));
        switch (n.op) {
          case Op::Lt: return c < 0;
          case Op::Le: return c <= 0;
          case Op::Gt: return c > 0;
          default: return c >= 0;
        }
      }
      case Op::Mux: return arg(n, 0) ? arg(n, 1) : arg(n, 2);
      case Op::Shl: return trunc(n.a0 >= 64 ? 0 : arg(n, 0) << n.a0, w);
      case Op::Shr: return trunc(arg(n, 0) >> n.a0, w);
      case Op::ShlKeep: {
        Word k = arg(n, 1);
        return k >= static_cast<Word>(w) ? 0 : trunc(arg(n, 0) << k, w);
      }
      case Op::ShrKeep: {
        Word k = arg(n, 1);
        if (signed_arg(n, 0)) return trunc(Word(sarg(n, 0) >> std::min<Word>(k, 63)), w);
        return k >= static_cast<Word>(w) ? 0 : arg(n, 0) >> k;
      }
      case Op::Popcount: return static_cast<Word>(std::popcount(arg(n, 0)));
      case Op::Slice: return trunc(arg(n, 0) >> n.a1, w);
      case Op::Concat: {
        int lw = type(n.args[1]).width;
        return trunc((lw >= 64 ? 0 : arg(n, 0) << lw) | arg(n, 1), w);
      }
      case Op::ReduceAnd: {
        int aw = type(n.args[0]).width;
        return arg(n, 0) == trunc(~Word{0}, aw);
      }
      case Op::ReduceOr: return arg(n, 0) != 0;
      case Op::ReduceXor: return std::popcount(arg(n, 0)) & 1;
      case Op::Cast: return trunc(signed_arg(n, 0) ? Word(sarg(n, 0)) : arg(n, 0), w);
      default: throw InternalError(fmt::format("interpreter cannot evaluate {}", op_name(n.op)));
    }
  }

  // Operand i resized to `w` bits by its own signedness, in a scratch buffer.
  const Word* resized(const Node& n, int i, int w, std::vector<Word>& buf) {
    NodeId a = n.args[static_cast<size_t>(i)];
    buf.assign(static_cast<size_t>(bits::words(w)), 0);
    bits::resize(buf.data(), w, at(a), type(a).width, type(a).is_signed());
    return buf.data();
  }

  void eval_wide(const Node& n, Word* d) {
    const int w = n.type.width;
    auto A = [&](int i) { return at(n.args[static_cast<size_t>(i)]); };
    auto W = [&](int i) { return type(n.args[static_cast<size_t>(i)]).width; };
    switch (n.op) {
      case Op::Add: case Op::Sub: case Op::Mul: {
        const Word* a = resized(n, 0, w, scratch_a_);
        const Word* b = resized(n, 1, w, scratch_b_);
        if (n.op == Op::Add) bits::add(d, a, b, w);
        else if (n.op == Op::Sub) bits::sub(d, a, b, w);
        else bits::mul(d, a, b, w);
        return;
      }
      case Op::Neg: {
        const Word* a = resized(n, 0, w, scratch_a_);
        std::vector<Word> zero(static_cast<size_t>(bits::words(w)), 0);
        bits::sub(d, zero.data(), a, w);
        return;
      }
      case Op::And: case Op::Or: case Op::Xor: case Op::Xnor: {
        const Word *a = A(0), *b = A(1);
        for (int i = 0; i < bits::words(w); ++i) {
          Word x = n.op == Op::And ? a[i] & b[i] : n.op == Op::Or ? a[i] | b[i] : a[i] ^ b[i];
          d[i] = n.op == Op::Xnor ? ~x : x;
        }
        bits::mask(d, w);
        return;
      }
      case Op::Not:
        for (int i = 0; i < bits::words(w); ++i) d[i] = ~A(0)[i];
        bits::mask(d, w);
        return;
      case Op::Eq: case Op::Ne: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
        int cw = std::max(W(0), W(1));
        const Word* a = resized(n, 0, cw, scratch_a_);
        const Word* b = resized(n, 1, cw, scratch_b_);
        bool s = type(n.args[0]).is_signed();
        bool eq = bits::equal(a, b, cw), lt = bits::less(a, b, cw, s);
        bool r = n.op == Op::Eq ? eq : n.op == Op::Ne ? !eq : n.op == Op::Lt ? lt : n.op == Op::Le ? (lt || eq)
               : n.op == Op::Gt ? !(lt || eq) : !lt;
        d[0] = r;
        return;
      }
      case Op::Mux: {
        const Word* src = A(0)[0] ? A(1) : A(2);
        std::copy(src, src + bits::words(w), d);
        return;
      }
      case Op::Shl: bits::shift_left(d, w, A(0), W(0), static_cast<int>(n.a0)); return;
      case Op::Shr: bits::extract(d, w, A(0), W(0), static_cast<int>(n.a0)); return;
      case Op::ShlKeep: {
        Word k = A(1)[0];
        if (k >= static_cast<Word>(w)) std::fill(d, d + bits::words(w), 0);
        else bits::shift_left(d, w, A(0), W(0), static_cast<int>(k));
        return;
      }
      case Op::ShrKeep: {
        Word k = A(1)[0];
        bool s = type(n.args[0]).is_signed();
        bool fill = s && bits::sign_bit(A(0), W(0));
        bits::extract(d, w, A(0), W(0), static_cast<int>(std::min<Word>(k, static_cast<Word>(w))), fill);
        return;
      }
      case Op::Popcount: d[0] = static_cast<Word>(bits::popcount(A(0), W(0))); return;
      case Op::Slice: bits::extract(d, w, A(0), W(0), static_cast<int>(n.a1)); return;
      case Op::Concat: {
        int lw = W(1);
        std::vector<Word> hi(static_cast<size_t>(bits::words(w)), 0);
        bits::shift_left(hi.data(), w, A(0), W(0), lw);
        std::fill(d, d + bits::words(w), 0);
        std::copy(A(1), A(1) + bits::words(lw), d);
        for (int i = 0; i < bits::words(w); ++i) d[i] |= hi[static_cast<size_t>(i)];
        return;
      }
      case Op::ReduceAnd: d[0] = bits::popcount(A(0), W(0)) == W(0); return;
      case Op::ReduceOr: d[0] = bits::popcount(A(0), W(0)) != 0; return;
      case Op::ReduceXor: d[0] = bits::popcount(A(0), W(0)) & 1; return;
      case Op::Cast: bits::resize(d, w, A(0), W(0), type(n.args[0]).is_signed()); return;
      default: throw InternalError(fmt::format("interpreter cannot evaluate {}", op_name(n.op)));
    }
  }

  const Kernel& k_;
  const std::vector<size_t>& slot_;
  std::vector<Word>& val_;
  std::vector<Word> scratch_a_, scratch_b_;
};

bool is_state(const Node& n) {
  return (n.op == Op::Delay && n.a0 > 0) || n.op == Op::Register || ((n.op == Op::RamRead || n.op == Op::Rom) && n.a1 == 1);
}

}  // namespace

Interpreter::Interpreter(const Kernel& k) : k_(k) {
  if (!k_.scheduled) throw InternalError("the interpreter runs lowered kernels (compile_kernel first)");
  slot_.assign(k_.nodes.size(), 0);
  for (size_t i = 0; i < k_.nodes.size(); ++i) {
    slot_[i] = total_words_;
    if (!k_.nodes[i].dead) total_words_ += static_cast<size_t>(words_of(k_.nodes[i].type));
  }
  // Dependence order of the combinational part (state outputs and sources are roots).
  std::vector<char> state(k_.nodes.size(), 0);
  std::vector<int> pending(k_.nodes.size(), 0);
  auto users = users_of(k_);
  for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v) {
    const Node& n = k_.at(v);
    if (n.dead) continue;
    for (size_t i = 0; i < n.args.size(); ++i)
      if (n.args[i] != kNoNode && is_combinational_arg(n, static_cast<int>(i))) ++pending[static_cast<size_t>(v)];
  }
  std::vector<NodeId> ready;
  for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v)
    if (!k_.at(v).dead && pending[static_cast<size_t>(v)] == 0) ready.push_back(v);
  while (!ready.empty()) {
    NodeId v = ready.back();
    ready.pop_back();
    order_.push_back(v);
    for (auto [u, i] : users[static_cast<size_t>(v)])
      if (is_combinational_arg(k_.at(u), i) && --pending[static_cast<size_t>(u)] == 0) ready.push_back(u);
  }
  for (NodeId v = 0; v < static_cast<NodeId>(k_.nodes.size()); ++v)
    if (!k_.at(v).dead && pending[static_cast<size_t>(v)] != 0)
      throw InternalError(fmt::format("combinational cycle through {} after lowering", k_.describe(v)));
}

RunResult Interpreter::run(const RunSpec& spec) const {
  const Kernel& k = k_;
  std::vector<Word> val(total_words_ + 1, 0);
  Evaluator ev(k, slot_, val);
  auto words = [&](NodeId v) { return static_cast<size_t>(words_of(k.at(v).type)); };

  // Ports.
  struct In { NodeId node; const Stream* s; size_t next = 0; };
  std::vector<In> ins;
  for (NodeId p : k.inputs) {
    const Node& n = k.at(p);
    auto it = spec.inputs.find(n.name);
    if (it == spec.inputs.end()) throw UserError(fmt::format("kernel '{}': no data given for input '{}'", k.name, n.name));
    if (it->second.width != n.type.width)
      throw UserError(fmt::format("kernel '{}': input '{}' is {} but the given stream has elements of {} bits", k.name,
                                  n.name, to_string(n.type), it->second.width));
    ins.push_back({p, &it->second});
  }
  for (const auto& [name, s] : spec.inputs) {
    bool known = std::any_of(k.inputs.begin(), k.inputs.end(), [&](NodeId p) { return k.at(p).name == name; });
    if (!known) throw UserError(fmt::format("kernel '{}' has no input named '{}'", k.name, name));
  }
  RunResult res;
  for (NodeId p : k.outputs) res.outputs.emplace(k.at(p).name, Stream(k.at(p).type.width));
  for (NodeId p : k.scalars) {
    const Node& n = k.at(p);
    auto it = spec.scalars.find(n.name);
    if (it == spec.scalars.end()) throw UserError(fmt::format("kernel '{}': no value given for scalar '{}'", k.name, n.name));
    Word v = it->second;
    if (n.type.width < 64 && !n.type.is_signed() && (v >> n.type.width) != 0)
      throw UserError(fmt::format("kernel '{}': scalar '{}' = {} does not fit in {}", k.name, n.name, v, to_string(n.type)));
    val[slot_[static_cast<size_t>(p)]] = trunc(v, n.type.width);
  }

  // State.
  struct Line { NodeId node; size_t pos = 0; std::vector<Word> ring; };
  std::vector<Line> lines;
  std::vector<std::vector<Word>> mems(k.nodes.size());
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    const Node& n = k.at(v);
    if (n.dead) continue;
    if (n.op == Op::Const || n.op == Op::Register) std::copy(n.bits.begin(), n.bits.end(), ev.at(v));
    if (n.op == Op::Delay && n.a0 > 0) lines.push_back({v, 0, std::vector<Word>(static_cast<size_t>(n.a0) * words(v), 0)});
    if (n.op == Op::Ram) mems[static_cast<size_t>(v)].assign(static_cast<size_t>(n.a0) * words(v), 0);
  }
  std::vector<NodeId> stateful;
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v)
    if (!k.at(v).dead && (is_state(k.at(v)) || k.at(v).op == Op::Ram)) stateful.push_back(v);
  std::vector<Word> staged(total_words_ + 1, 0);

  auto read_mem = [&](const Node& n, const Word* table, NodeId addr_node, Word* dst, size_t w) {
    Word addr = ev.at(addr_node)[0];
    bool wide_addr = words_of(k.at(addr_node).type) > 1 && std::any_of(ev.at(addr_node) + 1, ev.at(addr_node) + words_of(k.at(addr_node).type), [](Word x) { return x != 0; });
    if (wide_addr || addr >= static_cast<Word>(n.a0)) std::fill(dst, dst + w, 0);  // out of range reads 0
    else std::copy(table + addr * w, table + addr * w + w, dst);
  };

  const std::uint64_t end = spec.ticks ? spec.ticks + static_cast<std::uint64_t>(k.latency) : ~std::uint64_t{0};
  std::uint64_t tick = 0;
  for (; tick < end; ++tick) {
    const bool active = spec.ticks == 0 || tick < spec.ticks;
    // Evaluate the tick.
    bool starved = false;
    for (NodeId v : order_) {
      const Node& n = k.at(v);
      switch (n.op) {
        case Op::Delay:
          if (n.a0 == 0) std::copy(ev.at(n.args[0]), ev.at(n.args[0]) + words(v), ev.at(v));
          break;
        case Op::Const: case Op::Scalar: case Op::Register: case Op::Ram: case Op::Output: break;
        case Op::RunActive: ev.at(v)[0] = active; break;
        case Op::Started: ev.at(v)[0] = 1; break;
        case Op::Input: {
          In& in = *std::find_if(ins.begin(), ins.end(), [&](const In& x) { return x.node == v; });
          bool en = n.args[0] == kNoNode || ev.at(n.args[0])[0];
          if (en && in.next >= in.s->size()) {
            starved = true;
            std::fill(ev.at(v), ev.at(v) + words(v), 0);
          } else if (en) {
            std::copy(in.s->at(in.next), in.s->at(in.next) + words(v), ev.at(v));
          } else {
            std::fill(ev.at(v), ev.at(v) + words(v), 0);
          }
          break;
        }
        case Op::RamRead:
          if (n.a1 == 0) read_mem(k.at(n.args[0]), mems[static_cast<size_t>(n.args[0])].data(), n.args[1], ev.at(v), words(v));
          break;
        case Op::Rom:
          if (n.a1 == 0) read_mem(n, n.bits.data(), n.args[0], ev.at(v), words(v));
          break;
        default: ev.eval(v, n);
      }
    }
    if (starved) {
      if (spec.ticks == 0) break;  // ran until the inputs ran out
      std::string which;
      for (const In& in : ins) {
        const Node& n = k.at(in.node);
        if ((n.args[0] == kNoNode || ev.at(n.args[0])[0]) && in.next >= in.s->size())
          which += fmt::format(" '{}' (all {} elements consumed)", n.name, in.s->size());
      }
      throw UserError(fmt::format("kernel '{}': the run of {} ticks needs more input at tick {} on{}", k.name,
                                  spec.ticks, tick, which));
    }
    for (In& in : ins) {
      const Node& n = k.at(in.node);
      if (n.args[0] == kNoNode || ev.at(n.args[0])[0]) ++in.next;
    }
    for (NodeId p : k.outputs) {
      const Node& n = k.at(p);
      if (n.args[1] == kNoNode || ev.at(n.args[1])[0]) res.outputs[n.name].push(ev.at(n.args[0]));
    }
    // Advance the state: stage every new value first, then apply (delays feed delays).
    for (NodeId v : stateful) {
      const Node& n = k.at(v);
      Word* s = &staged[slot_[static_cast<size_t>(v)]];
      size_t w = words(v);
      if (n.op == Op::Register) {
        bool en = n.args[1] == kNoNode || ev.at(n.args[1])[0];
        const Word* src = en ? ev.at(n.args[0]) : ev.at(v);
        std::copy(src, src + w, s);
      } else if (n.op == Op::RamRead) {
        read_mem(k.at(n.args[0]), mems[static_cast<size_t>(n.args[0])].data(), n.args[1], s, w);
      } else if (n.op == Op::Rom) {
        read_mem(n, n.bits.data(), n.args[0], s, w);
      }
    }
    for (Line& l : lines) {
      size_t w = words(l.node);
      std::int64_t d = k.at(l.node).a0;
      std::copy(ev.at(k.at(l.node).args[0]), ev.at(k.at(l.node).args[0]) + w, &l.ring[l.pos * w]);
      size_t out = (l.pos + 1) % static_cast<size_t>(d);
      std::copy(&l.ring[out * w], &l.ring[out * w] + w, &staged[slot_[static_cast<size_t>(l.node)]]);
      l.pos = out;
    }
    // RAM writes use this tick's values, so they go before any state changes.
    for (NodeId v : stateful) {
      const Node& n = k.at(v);
      if (n.op != Op::Ram || !ev.at(n.args[2])[0]) continue;
      Word addr = ev.at(n.args[0])[0];
      size_t w = words(v);
      if (addr < static_cast<Word>(n.a0))  // writes out of range are dropped
        std::copy(ev.at(n.args[1]), ev.at(n.args[1]) + w, &mems[static_cast<size_t>(v)][addr * w]);
    }
    for (NodeId v : stateful) {
      const Node& n = k.at(v);
      if (n.op == Op::Ram) continue;
      size_t w = words(v);
      std::copy(&staged[slot_[static_cast<size_t>(v)]], &staged[slot_[static_cast<size_t>(v)]] + w, ev.at(v));
    }
  }
  res.ticks = tick;
  return res;
}

RunResult interpret(const Kernel& recorded, const RunSpec& spec) {
  CompileOptions opt;
  opt.latency = LatencyModel::zero();
  return Interpreter(compile_kernel(recorded, opt)).run(spec);
}

}  // namespace qdf::dsl

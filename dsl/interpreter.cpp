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
using Slot = std::uint32_t;  // word offset of a value in the value store

inline Word low_mask(int w) { return w >= 64 ? ~Word{0} : (Word{1} << w) - 1; }
// A value of w <= 64 bits is read signed as load(x, sext_shift(w)) and unsigned as load(x, 0),
// so that one instruction serves both and the choice is made once, when compiling.
inline std::uint8_t sext_shift(int w) { return static_cast<std::uint8_t>(w >= 64 ? 0 : 64 - w); }
inline Word load(Word x, unsigned s) { return static_cast<Word>(static_cast<std::int64_t>(x << s) >> s); }

// Instructions of the combinational part. Single-word nodes with single-word operands each have
// a code of their own; every other node is a Wide instruction that goes through WideEvaluator.
enum class Code : std::uint8_t {
  Copy, CopyWords, RunActive, Input, ReadMem, Wide,
  Add, Sub, Mul, Neg, And, Or, Xor, Xnor, Not,
  Eq, Ne, Lt, Le, Gt, Ge, Mux,
  Shl, Shr, ShlKeep, ShrKeep, ShrKeepSigned, Popcount, Concat,
  ReduceAnd, ReduceOr, ReduceXor, Cast,
};

struct Instr {
  Code code = Code::Copy;
  std::uint8_t sa = 0, sb = 0;  // load shifts of operands a and b
  Slot d = 0, a = 0, b = 0, c = 0;
  Word mask = ~Word{0};  // of the result's width
  // Depending on the code: a shift amount, a width, the key flip of an ordering comparison (the
  // sign bit for signed operands, so that one unsigned comparison serves both), a word count,
  // a node (Wide).
  Word imm = 0;
};

// A read of a RAM or ROM table, asynchronous (into the value store) or synchronous (staged).
struct MemRead {
  Slot dst = 0, addr = 0;
  int addr_words = 1, words = 1;
  Word depth = 0;
  int table = 0;
};
struct Port {
  NodeId node = kNoNode;
  Slot value = 0, enable = 0;
};
struct Reg {
  Slot q = 0, next = 0, enable = 0;
  int words = 1;
};
// A delay line of d ticks keeps its last d inputs in a ring of a power-of-two number of
// elements, so that tick t writes element t mod size and reads element t + 1 - d mod size with a
// mask. The elements not yet written are zero, the values before tick 0.
struct Line {
  Slot value = 0, input = 0;
  int words = 1;
  std::size_t depth = 1, mask = 0, ring = 0;  // ring: offset of its words in the run's ring storage
};
struct RamWrite {
  Slot addr = 0, data = 0, enable = 0;
  int words = 1;
  Word depth = 0;
  int table = 0;
};

bool is_state(const Node& n) {
  return (n.op == Op::Delay && n.a0 > 0) || n.op == Op::Register || ((n.op == Op::RamRead || n.op == Op::Rom) && n.a1 == 1);
}

// Combinational nodes in dependence order (state outputs and sources are roots).
std::vector<NodeId> dependence_order(const Kernel& k) {
  std::vector<NodeId> order;
  std::vector<int> pending(k.nodes.size(), 0);
  auto users = users_of(k);
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    const Node& n = k.at(v);
    if (n.dead) continue;
    for (size_t i = 0; i < n.args.size(); ++i)
      if (n.args[i] != kNoNode && is_combinational_arg(n, static_cast<int>(i))) ++pending[static_cast<size_t>(v)];
  }
  std::vector<NodeId> ready;
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v)
    if (!k.at(v).dead && pending[static_cast<size_t>(v)] == 0) ready.push_back(v);
  while (!ready.empty()) {
    NodeId v = ready.back();
    ready.pop_back();
    order.push_back(v);
    for (auto [u, i] : users[static_cast<size_t>(v)])
      if (is_combinational_arg(k.at(u), i) && --pending[static_cast<size_t>(u)] == 0) ready.push_back(u);
  }
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v)
    if (!k.at(v).dead && pending[static_cast<size_t>(v)] != 0)
      throw InternalError(fmt::format("combinational cycle through {} after lowering", k.describe(v)));
  return order;
}

// The kernel as flat tables. Value slots are laid out in node order (dead nodes take no words),
// followed by a word that is always 1: the enable of whatever has none.
struct Compiled {
  std::vector<Slot> slot;
  Slot one = 0;
  std::vector<Word> initial;  // the value store before tick 0: constants, register inits
  std::vector<Instr> code;    // the combinational nodes in dependence order
  std::vector<MemRead> reads;       // asynchronous reads, by Instr::c
  std::vector<MemRead> sync_reads;  // in node order
  std::vector<Port> inputs, outputs;
  std::vector<Reg> registers;
  std::vector<Line> lines;
  std::vector<RamWrite> ram_writes;
  std::vector<Slot> state_words;  // every word of every state value, copied from staged each tick
  std::size_t ring_words = 0;     // of all delay lines together
  std::vector<NodeId> tables;     // the RAM or ROM node of each table
  std::string unsupported;        // why a node cannot be evaluated (the first in order), if any

  explicit Compiled(const Kernel& k);

 private:
  Slot slot_of(NodeId v) const { return v == kNoNode ? one : slot[static_cast<size_t>(v)]; }
  int table_of(NodeId v) const {
    return static_cast<int>(std::find(tables.begin(), tables.end(), v) - tables.begin());
  }
  MemRead mem_read(const Kernel& k, NodeId v) const;
  void compile(const Kernel& k, NodeId v);
  Instr narrow(const Kernel& k, NodeId v) const;
};

Compiled::Compiled(const Kernel& k) {
  slot.assign(k.nodes.size(), 0);
  Slot total = 0;
  for (size_t i = 0; i < k.nodes.size(); ++i) {
    slot[i] = total;
    if (!k.nodes[i].dead) total += static_cast<Slot>(words_of(k.nodes[i].type));
  }
  one = total;
  const std::vector<NodeId> order = dependence_order(k);
  // A zero-tick delay is a wire: it shares the words of its source instead of copying them in
  // every tick. Its readers are all evaluated after the source in the same tick, so they see the
  // same value either way.
  auto is_wire = [&](NodeId v) {
    const Node& n = k.at(v);
    return n.op == Op::Delay && n.a0 == 0 && words_of(n.type) == words_of(k.at(n.args[0]).type);
  };
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    if (k.at(v).dead || !is_wire(v)) continue;
    NodeId source = k.at(v).args[0];
    while (is_wire(source)) source = k.at(source).args[0];
    slot[static_cast<size_t>(v)] = slot[static_cast<size_t>(source)];
  }

  initial.assign(static_cast<size_t>(one) + 1, 0);
  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    const Node& n = k.at(v);
    if (n.dead) continue;
    if (n.op == Op::Const || n.op == Op::Register) std::copy(n.bits.begin(), n.bits.end(), &initial[slot_of(v)]);
    // Started is 1 in every tick the interpreter runs, and nothing reads it before tick 0.
    if (n.op == Op::Started) initial[slot_of(v)] = 1;
    if (n.op == Op::Ram || n.op == Op::Rom) tables.push_back(v);
  }
  initial[one] = 1;

  for (NodeId p : k.inputs) inputs.push_back({p, slot_of(p), slot_of(k.at(p).args[0])});
  for (NodeId p : k.outputs) outputs.push_back({p, slot_of(k.at(p).args[0]), slot_of(k.at(p).args[1])});
  for (NodeId v : order) compile(k, v);

  for (NodeId v = 0; v < static_cast<NodeId>(k.nodes.size()); ++v) {
    const Node& n = k.at(v);
    if (n.dead) continue;
    const int w = words_of(n.type);
    if (n.op == Op::Ram)
      ram_writes.push_back({slot_of(n.args[0]), slot_of(n.args[1]), slot_of(n.args[2]), w, static_cast<Word>(n.a0),
                            table_of(v)});
    if (!is_state(n)) continue;
    if (n.op == Op::Register) {
      registers.push_back({slot_of(v), slot_of(n.args[0]), slot_of(n.args[1]), w});
    } else if (n.op == Op::Delay) {
      const std::size_t size = std::bit_ceil(static_cast<std::size_t>(n.a0));
      lines.push_back({slot_of(v), slot_of(n.args[0]), w, static_cast<std::size_t>(n.a0), size - 1, ring_words});
      ring_words += size * static_cast<std::size_t>(w);
    } else {
      sync_reads.push_back(mem_read(k, v));
    }
    for (int i = 0; i < w; ++i) state_words.push_back(slot_of(v) + static_cast<Slot>(i));
  }
}

MemRead Compiled::mem_read(const Kernel& k, NodeId v) const {
  const Node& n = k.at(v);
  const bool ram = n.op == Op::RamRead;
  const NodeId table = ram ? n.args[0] : v, addr = ram ? n.args[1] : n.args[0];
  return {slot_of(v), slot_of(addr), words_of(k.at(addr).type), words_of(n.type), static_cast<Word>(k.at(table).a0),
          table_of(table)};
}

void Compiled::compile(const Kernel& k, NodeId v) {
  const Node& n = k.at(v);
  Instr i;
  i.d = slot_of(v);
  switch (n.op) {
    case Op::Const: case Op::Scalar: case Op::Register: case Op::Ram: case Op::Output: case Op::Started: return;
    case Op::Delay:
      if (n.a0 != 0 || i.d == slot_of(n.args[0])) return;
      i.a = slot_of(n.args[0]);
      i.imm = static_cast<Word>(words_of(n.type));
      i.code = i.imm == 1 ? Code::Copy : Code::CopyWords;
      break;
    case Op::RunActive: i.code = Code::RunActive; break;
    case Op::Input: {
      i.code = Code::Input;
      i.a = slot_of(n.args[0]);
      i.c = static_cast<Slot>(std::find_if(inputs.begin(), inputs.end(), [&](const Port& p) { return p.node == v; }) - inputs.begin());
      i.imm = static_cast<Word>(words_of(n.type));
      break;
    }
    case Op::RamRead: case Op::Rom:
      if (n.a1 != 0) return;
      i.code = Code::ReadMem;
      i.c = static_cast<Slot>(reads.size());
      reads.push_back(mem_read(k, v));
      break;
    case Op::Add: case Op::Sub: case Op::Mul: case Op::Neg: case Op::And: case Op::Or: case Op::Xor: case Op::Xnor:
    case Op::Not: case Op::Eq: case Op::Ne: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: case Op::Mux:
    case Op::Shl: case Op::Shr: case Op::ShlKeep: case Op::ShrKeep: case Op::Popcount: case Op::Slice:
    case Op::Concat: case Op::ReduceAnd: case Op::ReduceOr: case Op::ReduceXor: case Op::Cast: {
      const bool single_word = n.type.width <= 64 && std::all_of(n.args.begin(), n.args.end(), [&](NodeId a) {
        return a == kNoNode || k.at(a).type.width <= 64;
      });
      if (single_word) {
        i = narrow(k, v);
      } else {
        i.code = Code::Wide;
        i.imm = static_cast<Word>(v);
      }
      break;
    }
    default:
      // The run fails on its first tick, as evaluating this node would.
      if (unsupported.empty()) unsupported = fmt::format("interpreter cannot evaluate {}", op_name(n.op));
      return;
  }
  code.push_back(i);
}

// The single-word form of the arithmetic and logic of node v: how each operand is read is decided
// here, following the integer semantics of each operator.
Instr Compiled::narrow(const Kernel& k, NodeId v) const {
  const Node& n = k.at(v);
  auto arg = [&](size_t j) { return j < n.args.size() ? n.args[j] : kNoNode; };
  auto width = [&](size_t j) { return arg(j) == kNoNode ? 0 : k.at(arg(j)).type.width; };
  auto is_signed = [&](size_t j) { return arg(j) != kNoNode && k.at(arg(j)).type.is_signed(); };
  Instr i;
  i.d = slot_of(v);
  i.a = slot_of(arg(0));
  i.b = slot_of(arg(1));
  i.c = slot_of(arg(2));
  i.mask = low_mask(n.type.width);
  // Most operators read both operands by the signedness of the first.
  const std::uint8_t sa = is_signed(0) ? sext_shift(width(0)) : 0, sb = is_signed(0) ? sext_shift(width(1)) : 0;
  switch (n.op) {
    case Op::Add: i.code = Code::Add; i.sa = sa; i.sb = sb; break;
    case Op::Sub:
      i.code = Code::Sub;
      i.sa = sa;
      i.sb = is_signed(1) ? sext_shift(width(1)) : 0;
      break;
    case Op::Mul: i.code = Code::Mul; i.sa = sa; i.sb = sb; break;
    case Op::Neg: i.code = Code::Neg; i.sa = sext_shift(width(0)); break;
    case Op::And: i.code = Code::And; break;
    case Op::Or: i.code = Code::Or; break;
    case Op::Xor: i.code = Code::Xor; break;
    case Op::Xnor: i.code = Code::Xnor; break;
    case Op::Not: i.code = Code::Not; break;
    case Op::Eq: case Op::Ne: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
      i.code = n.op == Op::Eq ? Code::Eq : n.op == Op::Ne ? Code::Ne : n.op == Op::Lt ? Code::Lt
             : n.op == Op::Le ? Code::Le : n.op == Op::Gt ? Code::Gt : Code::Ge;
      i.sa = sa;
      i.sb = sb;
      i.imm = is_signed(0) ? Word{1} << 63 : 0;
      break;
    case Op::Mux: i.code = Code::Mux; break;
    case Op::Shl: i.code = Code::Shl; i.imm = static_cast<Word>(n.a0); break;
    case Op::Shr: i.code = Code::Shr; i.imm = static_cast<Word>(n.a0); break;
    case Op::Slice: i.code = Code::Shr; i.imm = static_cast<Word>(n.a1); break;
    case Op::ShlKeep: i.code = Code::ShlKeep; i.imm = static_cast<Word>(n.type.width); break;
    case Op::ShrKeep:
      i.code = is_signed(0) ? Code::ShrKeepSigned : Code::ShrKeep;
      i.sa = sext_shift(width(0));
      i.imm = static_cast<Word>(n.type.width);
      break;
    case Op::Popcount: i.code = Code::Popcount; break;
    case Op::Concat: i.code = Code::Concat; i.imm = static_cast<Word>(width(1)); break;
    case Op::ReduceAnd: i.code = Code::ReduceAnd; i.imm = low_mask(width(0)); break;
    case Op::ReduceOr: i.code = Code::ReduceOr; break;
    case Op::ReduceXor: i.code = Code::ReduceXor; break;
    case Op::Cast: i.code = Code::Cast; i.sa = sa; break;
    default: throw InternalError(fmt::format("no single-word form of {}", op_name(n.op)));
  }
  return i;
}

// Nodes wider than a word (or with such operands), on the arithmetic of bits.hpp.
class WideEvaluator {
 public:
  WideEvaluator(const Kernel& k, const std::vector<Slot>& slot, Word* val) : k_(k), slot_(slot), val_(val) {}

  void eval(NodeId id) {
    const Node& n = k_.at(id);
    Word* d = at(id);
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
        scratch_b_.assign(static_cast<size_t>(bits::words(w)), 0);
        bits::sub(d, scratch_b_.data(), a, w);
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
        Word k = amount(n);
        if (k >= static_cast<Word>(w)) std::fill(d, d + bits::words(w), 0);
        else bits::shift_left(d, w, A(0), W(0), static_cast<int>(k));
        return;
      }
      case Op::ShrKeep: {
        Word k = amount(n);
        bool s = type(n.args[0]).is_signed();
        bool fill = s && bits::sign_bit(A(0), W(0));
        bits::extract(d, w, A(0), W(0), static_cast<int>(std::min<Word>(k, static_cast<Word>(w))), fill);
        return;
      }
      case Op::Popcount: d[0] = static_cast<Word>(bits::popcount(A(0), W(0))); return;
      case Op::Slice: bits::extract(d, w, A(0), W(0), static_cast<int>(n.a1)); return;
      case Op::Concat: {
        int lw = W(1);
        scratch_a_.assign(static_cast<size_t>(bits::words(w)), 0);
        bits::shift_left(scratch_a_.data(), w, A(0), W(0), lw);
        std::fill(d, d + bits::words(w), 0);
        std::copy(A(1), A(1) + bits::words(lw), d);
        for (int i = 0; i < bits::words(w); ++i) d[i] |= scratch_a_[static_cast<size_t>(i)];
        return;
      }
      case Op::ReduceAnd: d[0] = bits::popcount(A(0), W(0)) == W(0); return;
      case Op::ReduceOr: d[0] = bits::popcount(A(0), W(0)) != 0; return;
      case Op::ReduceXor: d[0] = bits::popcount(A(0), W(0)) & 1; return;
      case Op::Cast: bits::resize(d, w, A(0), W(0), type(n.args[0]).is_signed()); return;
      default: throw InternalError(fmt::format("interpreter cannot evaluate {}", op_name(n.op)));
    }
  }

 private:
  Word* at(NodeId v) const { return val_ + slot_[static_cast<size_t>(v)]; }
  const Type& type(NodeId v) const { return k_.at(v).type; }

  // A shift amount; one that does not fit 64 bits shifts everything out, as in Verilog.
  Word amount(const Node& n) const {
    NodeId a = n.args[1];
    const Word* v = at(a);
    for (int i = 1; i < words_of(type(a)); ++i)
      if (v[i]) return ~Word{0};
    return v[0];
  }

  // Operand i resized to `w` bits by its own signedness, in a scratch buffer.
  const Word* resized(const Node& n, int i, int w, std::vector<Word>& buf) {
    NodeId a = n.args[static_cast<size_t>(i)];
    buf.assign(static_cast<size_t>(bits::words(w)), 0);
    bits::resize(buf.data(), w, at(a), type(a).width, type(a).is_signed());
    return buf.data();
  }

  const Kernel& k_;
  const std::vector<Slot>& slot_;
  Word* val_;
  std::vector<Word> scratch_a_, scratch_b_;
};

// The mutable state of one run. Values live in one word array indexed by slot; the next values
// of state elements are staged in a second array of the same layout, because state elements
// read each other (delays feed delays) and all must see this tick's values.
class Machine {
 public:
  struct Input {
    const Word* data = nullptr;
    std::size_t size = 0, next = 0;
  };

  Machine(const Kernel& k, const Compiled& p, std::vector<Input> inputs)
      : p_(p), val_(p.initial), staged_(p.initial.size(), 0), inputs_(std::move(inputs)),
        wide_(k, p.slot, val_.data()) {
    rings_.assign(p.ring_words, 0);
    rams_.resize(p.tables.size());
    for (size_t t = 0; t < p.tables.size(); ++t) {
      const Node& n = k.at(p.tables[t]);
      if (n.op == Op::Ram) {
        rams_[t].assign(static_cast<size_t>(n.a0) * static_cast<size_t>(words_of(n.type)), 0);
        tables_.push_back(rams_[t].data());
      } else {
        tables_.push_back(n.bits.data());
      }
    }
  }

  Word* val() { return val_.data(); }
  const std::vector<Input>& inputs() const { return inputs_; }

  // This tick's values of the combinational nodes; false when an enabled input has no data left
  // (it then reads zero).
  bool evaluate(Word active) {
    Word* const v = val_.data();
    bool starved = false;
    for (const Instr& i : p_.code) {
      switch (i.code) {
        case Code::Copy: v[i.d] = v[i.a]; break;
        case Code::CopyWords: std::copy_n(v + i.a, i.imm, v + i.d); break;
        case Code::RunActive: v[i.d] = active; break;
        case Code::Input: {
          Input& in = inputs_[i.c];
          if (v[i.a] && in.next < in.size) {
            std::copy_n(in.data + in.next * i.imm, i.imm, v + i.d);
          } else {
            starved = starved || v[i.a];
            std::fill_n(v + i.d, i.imm, 0);
          }
          break;
        }
        case Code::ReadMem: read(p_.reads[i.c], v + p_.reads[i.c].dst); break;
        case Code::Wide: wide_.eval(static_cast<NodeId>(i.imm)); break;
        case Code::Add: v[i.d] = (load(v[i.a], i.sa) + load(v[i.b], i.sb)) & i.mask; break;
        case Code::Sub: v[i.d] = (load(v[i.a], i.sa) - load(v[i.b], i.sb)) & i.mask; break;
        case Code::Mul: v[i.d] = (load(v[i.a], i.sa) * load(v[i.b], i.sb)) & i.mask; break;
        case Code::Neg: v[i.d] = (Word{0} - load(v[i.a], i.sa)) & i.mask; break;
        case Code::And: v[i.d] = v[i.a] & v[i.b]; break;
        case Code::Or: v[i.d] = v[i.a] | v[i.b]; break;
        case Code::Xor: v[i.d] = v[i.a] ^ v[i.b]; break;
        case Code::Xnor: v[i.d] = ~(v[i.a] ^ v[i.b]) & i.mask; break;
        case Code::Not: v[i.d] = ~v[i.a] & i.mask; break;
        case Code::Eq: v[i.d] = load(v[i.a], i.sa) == load(v[i.b], i.sb); break;
        case Code::Ne: v[i.d] = load(v[i.a], i.sa) != load(v[i.b], i.sb); break;
        case Code::Lt: v[i.d] = (load(v[i.a], i.sa) ^ i.imm) < (load(v[i.b], i.sb) ^ i.imm); break;
        case Code::Le: v[i.d] = (load(v[i.a], i.sa) ^ i.imm) <= (load(v[i.b], i.sb) ^ i.imm); break;
        case Code::Gt: v[i.d] = (load(v[i.a], i.sa) ^ i.imm) > (load(v[i.b], i.sb) ^ i.imm); break;
        case Code::Ge: v[i.d] = (load(v[i.a], i.sa) ^ i.imm) >= (load(v[i.b], i.sb) ^ i.imm); break;
        case Code::Mux: v[i.d] = v[i.a] ? v[i.b] : v[i.c]; break;
        case Code::Shl: v[i.d] = i.imm >= 64 ? 0 : (v[i.a] << i.imm) & i.mask; break;
        case Code::Shr: v[i.d] = (v[i.a] >> i.imm) & i.mask; break;
        case Code::ShlKeep: {
          const Word s = v[i.b];
          v[i.d] = s >= i.imm ? 0 : (v[i.a] << s) & i.mask;
          break;
        }
        case Code::ShrKeep: {
          const Word s = v[i.b];
          v[i.d] = s >= i.imm ? 0 : v[i.a] >> s;
          break;
        }
        case Code::ShrKeepSigned:
          v[i.d] = static_cast<Word>(static_cast<std::int64_t>(load(v[i.a], i.sa)) >> std::min<Word>(v[i.b], 63)) & i.mask;
          break;
        case Code::Popcount: v[i.d] = static_cast<Word>(std::popcount(v[i.a])); break;
        case Code::Concat: v[i.d] = ((i.imm >= 64 ? 0 : v[i.a] << i.imm) | v[i.b]) & i.mask; break;
        case Code::ReduceAnd: v[i.d] = v[i.a] == i.imm; break;
        case Code::ReduceOr: v[i.d] = v[i.a] != 0; break;
        case Code::ReduceXor: v[i.d] = static_cast<Word>(std::popcount(v[i.a]) & 1); break;
        case Code::Cast: v[i.d] = load(v[i.a], i.sa) & i.mask; break;
      }
    }
    return !starved;
  }

  // The ports that move an element in this tick (RunResult::trace).
  std::uint32_t moving_ports() const {
    std::uint32_t m = 0;
    for (size_t j = 0; j < p_.inputs.size(); ++j)
      if (val_[p_.inputs[j].enable]) m |= 1u << j;
    for (size_t j = 0; j < p_.outputs.size(); ++j)
      if (val_[p_.outputs[j].enable]) m |= 1u << (RunResult::kTraceOutputBit + j);
    return m;
  }

  void consume_inputs() {
    for (size_t j = 0; j < p_.inputs.size(); ++j)
      if (val_[p_.inputs[j].enable]) ++inputs_[j].next;
  }

  void write_outputs(const std::vector<Stream*>& streams) {
    for (size_t j = 0; j < p_.outputs.size(); ++j) {
      const Port& o = p_.outputs[j];
      if (!val_[o.enable]) continue;
      Stream& s = *streams[j];
      if (s.width <= 64) s.words.push_back(val_[o.value]);
      else s.push_words(&val_[o.value]);
    }
  }

  // Moves the state to the next tick: registers, synchronous reads and delay lines take their
  // next values, then RAMs take this tick's writes (a read in this tick saw none of them).
  void advance() {
    Word* const v = val_.data();
    Word* const s = staged_.data();
    for (const Reg& r : p_.registers) {
      const Word* src = v[r.enable] ? v + r.next : v + r.q;
      if (r.words == 1) s[r.q] = *src;
      else std::copy_n(src, r.words, s + r.q);
    }
    for (const MemRead& r : p_.sync_reads) read(r, s + r.dst);
    for (const Line& l : p_.lines) {
      Word* ring = &rings_[l.ring];
      const std::size_t in = tick_ & l.mask, out = (tick_ + 1 - l.depth) & l.mask;
      if (l.words == 1) {
        ring[in] = v[l.input];
        s[l.value] = ring[out];
      } else {
        const std::size_t w = static_cast<std::size_t>(l.words);
        std::copy_n(v + l.input, w, ring + in * w);
        std::copy_n(ring + out * w, w, s + l.value);
      }
    }
    for (const RamWrite& r : p_.ram_writes) {
      const Word addr = v[r.addr];
      if (v[r.enable] && addr < r.depth)  // writes out of range are dropped
        std::copy_n(v + r.data, r.words, rams_[static_cast<size_t>(r.table)].data() + addr * static_cast<Word>(r.words));
    }
    for (Slot w : p_.state_words) v[w] = s[w];
    ++tick_;
  }

 private:
  // A read past the depth reads 0, and so does one whose address has a high word set.
  void read(const MemRead& r, Word* dst) const {
    const Word* a = &val_[r.addr];
    const bool wide_addr = r.addr_words > 1 && std::any_of(a + 1, a + r.addr_words, [](Word x) { return x != 0; });
    if (wide_addr || a[0] >= r.depth) {
      std::fill_n(dst, r.words, 0);
    } else {
      const Word* src = tables_[static_cast<size_t>(r.table)] + a[0] * static_cast<Word>(r.words);
      std::copy_n(src, r.words, dst);
    }
  }

  const Compiled& p_;
  std::vector<Word> val_, staged_;
  std::vector<Input> inputs_;
  WideEvaluator wide_;
  std::vector<Word> rings_;
  std::size_t tick_ = 0;
  std::vector<std::vector<Word>> rams_;  // by table; empty for ROMs
  std::vector<const Word*> tables_;
};

}  // namespace

struct Interpreter::Program : Compiled {
  using Compiled::Compiled;
};

Interpreter::Interpreter(const Kernel& k) : k_(k) {
  if (!k_.scheduled) throw InternalError("the interpreter runs lowered kernels (compile_kernel first)");
  prog_ = std::make_shared<const Program>(k_);
}

RunResult Interpreter::run(const RunSpec& spec) const {
  const Kernel& k = k_;
  const Program& p = *prog_;

  std::vector<Machine::Input> ins;
  for (NodeId port : k.inputs) {
    const Node& n = k.at(port);
    auto it = spec.inputs.find(n.name);
    if (it == spec.inputs.end()) throw UserError(fmt::format("kernel '{}': no data given for input '{}'", k.name, n.name));
    if (it->second.width != n.type.width)
      throw UserError(fmt::format("kernel '{}': input '{}' is {} but the given stream has elements of {} bits", k.name,
                                  n.name, to_string(n.type), it->second.width));
    // Bits above an element's width would reach the logic here but be cut off by the RTL's port.
    const Stream& st = it->second;
    const int wpe = st.words_per_element();
    const Word top = bits::top_mask(st.width);
    for (size_t e = 0; e < st.size(); ++e)
      if (st.words[e * static_cast<size_t>(wpe) + static_cast<size_t>(wpe - 1)] & ~top)
        throw UserError(fmt::format("kernel '{}': element {} of input '{}' has bits set above its {} bits", k.name, e,
                                    n.name, st.width));
    ins.push_back({st.words.data(), st.size(), 0});
  }
  for (const auto& input : spec.inputs) {
    const std::string& name = input.first;  // a named variable: clang 14 cannot capture a structured binding
    bool known = std::any_of(k.inputs.begin(), k.inputs.end(), [&](NodeId port) { return k.at(port).name == name; });
    if (!known) throw UserError(fmt::format("kernel '{}' has no input named '{}'", k.name, name));
  }
  RunResult res;
  for (NodeId port : k.outputs) res.outputs.emplace(k.at(port).name, Stream(k.at(port).type.width));
  std::vector<Stream*> out_streams;
  for (NodeId port : k.outputs) out_streams.push_back(&res.outputs.at(k.at(port).name));

  Machine m(k, p, std::move(ins));
  for (NodeId port : k.scalars) {
    const Node& n = k.at(port);
    auto it = spec.scalars.find(n.name);
    if (it == spec.scalars.end()) throw UserError(fmt::format("kernel '{}': no value given for scalar '{}'", k.name, n.name));
    Word v = it->second;  // a signed scalar is given as the two's complement of its value
    const auto sv = static_cast<std::int64_t>(v);
    const bool fits = n.type.width >= 64 ||
                      (n.type.is_signed() ? (sv >> (n.type.width - 1)) == 0 || (sv >> (n.type.width - 1)) == -1
                                          : (v >> n.type.width) == 0);
    if (!fits)
      throw UserError(fmt::format("kernel '{}': scalar '{}' = {} does not fit in {}", k.name, n.name,
                                  n.type.is_signed() ? std::to_string(sv) : std::to_string(v), to_string(n.type)));
    m.val()[p.slot[static_cast<size_t>(port)]] = v & low_mask(n.type.width);
  }
  if (!p.unsupported.empty()) throw InternalError(p.unsupported);
  if (spec.trace && (p.inputs.size() > RunResult::kTraceOutputBit || p.outputs.size() > 32 - RunResult::kTraceOutputBit))
    throw InternalError(fmt::format("kernel '{}': too many ports to trace", k.name));

  const std::uint64_t end = spec.ticks ? spec.ticks + static_cast<std::uint64_t>(k.latency) : ~std::uint64_t{0};
  std::uint64_t tick = 0;
  for (; tick < end; ++tick) {
    const Word active = spec.ticks == 0 || tick < spec.ticks;
    if (!m.evaluate(active)) {
      if (spec.ticks == 0) break;  // ran until the inputs ran out
      std::string which;
      for (size_t j = 0; j < p.inputs.size(); ++j) {
        const Machine::Input& in = m.inputs()[j];
        if (m.val()[p.inputs[j].enable] && in.next >= in.size)
          which += fmt::format(" '{}' (all {} elements consumed)", k.at(p.inputs[j].node).name, in.size);
      }
      throw UserError(fmt::format("kernel '{}': the run of {} ticks needs more input at tick {} on{}", k.name,
                                  spec.ticks, tick, which));
    }
    if (spec.trace) res.trace.push_back(m.moving_ports());
    m.consume_inputs();
    m.write_outputs(out_streams);
    m.advance();
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

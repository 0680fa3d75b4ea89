#include "dsl/signal.hpp"

#include "dsl/bits.hpp"
#include "dsl/errors.hpp"

#include <fmt/format.h>

namespace qdf::dsl {
namespace {

thread_local KernelBuilder* g_current = nullptr;

KernelBuilder& builder_of(const At& a) {
  if (!a.s.valid())
    throw UserError(fmt::format("{}: use of a signal that holds no value (default-constructed Signal)", a.loc.str()));
  return *a.s.kb;
}

void check_same_kernel(const At& a, const Signal& b) {
  if (!b.valid())
    throw UserError(fmt::format("{}: use of a signal that holds no value (default-constructed Signal)", a.loc.str()));
  if (a.s.kb != b.kb)
    throw UserError(fmt::format("{}: operands belong to different kernels ('{}' and '{}')", a.loc.str(),
                                a.s.kb->name(), b.kb->name()));
}

Signal apply(const char* what, rules::Result r, Op op, At a, std::vector<Signal> args, std::int64_t a0 = 0,
             std::int64_t a1 = 0) {
  KernelBuilder& kb = builder_of(a);
  for (const Signal& s : args) check_same_kernel(a, s);
  if (!r.ok()) {
    std::string operands;
    for (size_t i = 0; i < args.size(); ++i) operands += (i ? ", " : "") + to_string(args[i].type);
    kb.fail(a.loc, fmt::format("{}({}): {}", what, operands, rules::rule_message(r.err)));
  }
  return kb.make(op, r.type, std::move(args), a.loc, a0, a1);
}

}  // namespace

SourceLoc loc_of(const std::source_location& l) { return SourceLoc{l.file_name(), l.line()}; }

const Signal& Signal::named(const std::string& name) const {
  if (valid()) kb->graph().at(id).name = name;
  return *this;
}

// ---- builder -------------------------------------------------------------------------------

KernelBuilder::KernelBuilder(std::string name) : previous_(g_current) {
  k_.name = std::move(name);
  g_current = this;
}

KernelBuilder::~KernelBuilder() { g_current = previous_; }

KernelBuilder& KernelBuilder::current() {
  if (g_current == nullptr)
    throw UserError("a kernel operation was used outside of a kernel: create a KernelBuilder (or use record()) first");
  return *g_current;
}

void KernelBuilder::fail(const SourceLoc& loc, const std::string& what) const {
  throw UserError(fmt::format("{}: error: in kernel '{}': {}", loc.str(), k_.name, what));
}

Signal KernelBuilder::make(Op op, Type t, std::vector<Signal> args, const SourceLoc& loc, std::int64_t a0,
                           std::int64_t a1) {
  if (finished_) fail(loc, "the kernel is already finished; no more nodes can be added");
  if (!t.valid())
    fail(loc, fmt::format("{} has unknown or invalid width {} ({})", op_name(op), t.width,
                          rules::rule_message(rules::Err::BadWidth)));
  Node n;
  n.op = op;
  n.type = t;
  n.loc = loc;
  n.a0 = a0;
  n.a1 = a1;
  for (const Signal& s : args) {
    if (s.valid() && s.kb != this) fail(loc, "an operand belongs to another kernel");
    n.args.push_back(s.valid() ? s.id : kNoNode);
  }
  NodeId id = k_.add(std::move(n));
  return Signal{this, id, t};
}

Signal KernelBuilder::input(const std::string& name, Type t, const Signal& enable, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (enable.valid() && !rules::condition(enable.type).ok())
    fail(loc, fmt::format("enable of input '{}' is {}: {}", name, to_string(enable.type),
                          rules::rule_message(rules::Err::NotBool)));
  for (NodeId p : k_.inputs)
    if (k_.at(p).name == name) fail(loc, fmt::format("input '{}' is declared twice", name));
  Signal s = make(Op::Input, t, {enable}, loc);
  k_.at(s.id).name = name;
  k_.inputs.push_back(s.id);
  return s;
}

OutputPort KernelBuilder::output_port(const std::string& name, Type t, const Signal& enable, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (enable.valid() && !rules::condition(enable.type).ok())
    fail(loc, fmt::format("enable of output '{}' is {}: {}", name, to_string(enable.type),
                          rules::rule_message(rules::Err::NotBool)));
  for (NodeId p : k_.outputs)
    if (k_.at(p).name == name) fail(loc, fmt::format("output '{}' is declared twice", name));
  Signal s = make(Op::Output, t, {Signal{}, enable}, loc);
  k_.at(s.id).name = name;
  k_.outputs.push_back(s.id);
  OutputPort p;
  p.kb_ = this;
  p.node_ = s.id;
  p.name_ = name;
  return p;
}

void KernelBuilder::output(const std::string& name, const Signal& value, const Signal& enable, std::source_location l) {
  if (!value.valid()) fail(loc_of(l), fmt::format("output '{}' is given a signal that holds no value", name));
  OutputPort p = output_port(name, value.type, enable, l);
  p.connect(value, l);
}

void OutputPort::connect(const Signal& value, std::source_location l) {
  SourceLoc loc = loc_of(l);
  Node& n = kb_->graph().at(node_);
  if (!value.valid()) kb_->fail(loc, fmt::format("output '{}' is connected to a signal that holds no value", name_));
  if (value.kb != kb_) kb_->fail(loc, fmt::format("output '{}' is connected to a signal of another kernel", name_));
  if (n.args[0] != kNoNode) kb_->fail(loc, fmt::format("output '{}' is connected twice", name_));
  if (value.type != n.type)
    kb_->fail(loc, fmt::format("output '{}' is declared {} but connected to {}: cast<{}>(value) or change the "
                               "declaration",
                               name_, to_string(n.type), to_string(value.type), to_string(n.type)));
  n.args[0] = value.id;
}

Signal KernelBuilder::scalar(const std::string& name, Type t, std::source_location l) {
  SourceLoc loc = loc_of(l);
  for (NodeId p : k_.scalars)
    if (k_.at(p).name == name) fail(loc, fmt::format("scalar '{}' is declared twice", name));
  Signal s = make(Op::Scalar, t, {}, loc);
  k_.at(s.id).name = name;
  k_.scalars.push_back(s.id);
  return s;
}

Signal KernelBuilder::constant(Type t, std::uint64_t value, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (t.valid() && t.width < 64) {
    const auto v = static_cast<std::int64_t>(value);
    const bool fits = t.is_signed() ? (v >> (t.width - 1)) == 0 || (v >> (t.width - 1)) == -1 : (value >> t.width) == 0;
    if (!fits)
      fail(loc, fmt::format("constant {} does not fit in {}", t.is_signed() ? v : static_cast<std::int64_t>(value), to_string(t)));
  }
  std::vector<std::uint64_t> w(static_cast<size_t>(t.valid() ? words_of(t) : 1), 0);
  w[0] = value;
  if (t.is_signed() && static_cast<std::int64_t>(value) < 0)
    for (size_t i = 1; i < w.size(); ++i) w[i] = ~0ull;
  if (t.valid()) bits::mask(w.data(), t.width);
  return constant_words(t, std::move(w), l);
}

Signal KernelBuilder::constant_words(Type t, std::vector<std::uint64_t> words, std::source_location l) {
  Signal s = make(Op::Const, t, {}, loc_of(l));
  words.resize(static_cast<size_t>(words_of(t)), 0);
  k_.at(s.id).bits = std::move(words);
  return s;
}

Signal KernelBuilder::offset(const Signal& x, std::int64_t k, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (!x.valid()) fail(loc, "offset() of a signal that holds no value");
  if (k == 0) return x;
  // The bound is checked by the IR checker too (check_structure), which names the node; checking
  // here as well stops at the line that wrote it.
  if (k > k_.max_offset || -k > k_.max_offset)
    fail(loc, fmt::format("offset({}) exceeds the kernel's declared maximum offset of {} elements: raise it with "
                          "set_max_offset() if the distance is intended",
                          k, k_.max_offset));
  return make(Op::Offset, x.type, {x}, loc, k);
}

Reg KernelBuilder::reg(const std::string& name, Type t, std::uint64_t init, std::source_location l) {
  Signal init_c = constant(t, init, l);  // validates that init fits
  std::vector<std::uint64_t> w = k_.at(init_c.id).bits;
  k_.at(init_c.id).dead = true;
  Signal q = make(Op::Register, t, {Signal{}, Signal{}}, loc_of(l));
  Node& n = k_.at(q.id);
  n.name = name;
  n.bits = std::move(w);
  Reg r;
  r.q_ = q;
  return r;
}

void Reg::next(const Signal& value, const Signal& enable, std::source_location l) {
  SourceLoc loc = loc_of(l);
  KernelBuilder& kb = *q_.kb;
  Node& n = kb.graph().at(q_.id);
  if (!value.valid()) kb.fail(loc, fmt::format("register '{}' is given a next value that holds no value", n.name));
  if (value.type != q_.type)
    kb.fail(loc, fmt::format("register '{}' is {} but its next value is {}: cast<{}>(value)", n.name,
                             to_string(q_.type), to_string(value.type), to_string(q_.type)));
  if (enable.valid() && !rules::condition(enable.type).ok())
    kb.fail(loc, fmt::format("enable of register '{}' is {}: {}", n.name, to_string(enable.type),
                             rules::rule_message(rules::Err::NotBool)));
  n.args = {value.id, enable.valid() ? enable.id : kNoNode};
}

Counter KernelBuilder::counter(std::uint64_t max, const Signal& enable, const std::string& name,
                               std::source_location l) {
  CounterChain chain(*this, enable);
  return chain.add(max, name, l);
}

Counter CounterChain::add(std::uint64_t max, const std::string& name, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (max < 1) kb_->fail(loc, fmt::format("counter '{}' needs a maximum of at least 1, found {}", name, max));
  std::string nm = name.empty() ? fmt::format("count{}", kb_->graph().nodes.size()) : name;
  Type t = Type::uint(index_bits(max));
  maxes_.push_back(max);
  regs_.push_back(kb_->reg(nm, t, 0, l));
  locs_.push_back(loc);
  counters_.push_back({regs_.back().q(), {}});
  rewire();
  return counters_.back();
}

// The innermost counter advances on every enabled tick; counter i advances when counter i+1
// wraps. Re-run after each add() because a new innermost counter changes every outer enable.
void CounterChain::rewire() {
  Signal en = enable_;
  for (size_t i = regs_.size(); i-- > 0;) {
    Signal q = regs_[i].q();
    Type t = q.type;
    Signal at_max = eq(At(q), kb_->constant(t, maxes_[i] - 1));
    Signal wrap = en.valid() ? bit_and(At(en), at_max) : at_max;
    Signal plus1 = cast(At(dsl::add(At(q), kb_->constant(Type::uint(1), 1))), t);
    Signal nxt = mux(At(wrap), kb_->constant(t, 0), plus1);
    regs_[i].next(nxt, en);
    counters_[i].wrap = wrap;
    for (Signal s : {at_max, wrap, plus1, nxt}) kb_->graph().at(s.id).loc = locs_[i];
    en = wrap;
  }
}

Ram KernelBuilder::ram(const std::string& name, Type t, std::int64_t depth, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (depth < 1) fail(loc, fmt::format("RAM '{}' needs a depth of at least 1, found {}", name, depth));
  Signal s = make(Op::Ram, t, {Signal{}, Signal{}, Signal{}}, loc, depth);
  k_.at(s.id).name = name;
  Ram r;
  r.kb_ = this;
  r.node_ = s.id;
  return r;
}

Signal Ram::read(const Signal& addr, std::source_location l) const {
  SourceLoc loc = loc_of(l);
  const Node& n = kb_->graph().at(node_);
  if (!addr.valid() || addr.type.kind != Kind::UInt)
    kb_->fail(loc, fmt::format("RAM '{}' read address must be a UInt, found {}", n.name, to_string(addr.type)));
  return kb_->make(Op::RamRead, n.type, {Signal{kb_, node_, n.type}, addr}, loc);
}

void Ram::write(const Signal& addr, const Signal& data, const Signal& enable, std::source_location l) const {
  SourceLoc loc = loc_of(l);
  Node& n = kb_->graph().at(node_);
  if (n.args[0] != kNoNode) kb_->fail(loc, fmt::format("RAM '{}' has one write port; it is written twice", n.name));
  if (!addr.valid() || addr.type.kind != Kind::UInt)
    kb_->fail(loc, fmt::format("RAM '{}' write address must be a UInt, found {}", n.name, to_string(addr.type)));
  if (!data.valid() || data.type != n.type)
    kb_->fail(loc, fmt::format("RAM '{}' holds {} but is written {}", n.name, to_string(n.type), to_string(data.type)));
  if (!enable.valid() || !rules::condition(enable.type).ok())
    kb_->fail(loc, fmt::format("RAM '{}' write enable must be Bool, found {}", n.name, to_string(enable.type)));
  n.args = {addr.id, data.id, enable.id};
}

Signal KernelBuilder::rom(const std::string& name, Type t, const std::vector<std::uint64_t>& table, const Signal& addr,
                          std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (!t.valid()) fail(loc, fmt::format("ROM '{}' has invalid width {}", name, t.width));
  if (t.width > 64) fail(loc, fmt::format("ROM '{}' is {} bits wide: use rom_words() for entries over 64 bits", name, t.width));
  std::vector<std::uint64_t> words;
  for (size_t i = 0; i < table.size(); ++i) {
    std::uint64_t v = table[i];
    if (t.width < 64 && (v >> t.width) != 0)
      fail(loc, fmt::format("ROM '{}' entry {} = {} does not fit in {}", name, i, v, to_string(t)));
    words.push_back(v);
  }
  return rom_words(name, t, static_cast<std::int64_t>(table.size()), std::move(words), addr, l);
}

Signal KernelBuilder::rom_words(const std::string& name, Type t, std::int64_t depth, std::vector<std::uint64_t> table_words,
                                const Signal& addr, std::source_location l) {
  SourceLoc loc = loc_of(l);
  if (depth < 1) fail(loc, fmt::format("ROM '{}' needs at least one entry", name));
  if (!t.valid()) fail(loc, fmt::format("ROM '{}' has invalid width {}", name, t.width));
  if (table_words.size() != static_cast<size_t>(depth * words_of(t)))
    fail(loc, fmt::format("ROM '{}' table has {} words, expected {} ({} entries of {})", name, table_words.size(),
                          depth * words_of(t), depth, to_string(t)));
  if (!addr.valid() || addr.type.kind != Kind::UInt)
    fail(loc, fmt::format("ROM '{}' address must be a UInt, found {}", name, to_string(addr.type)));
  for (std::int64_t i = 0; i < depth; ++i) bits::mask(&table_words[static_cast<size_t>(i * words_of(t))], t.width);
  Signal s = make(Op::Rom, t, {addr}, loc, depth);
  Node& n = k_.at(s.id);
  n.name = name;
  n.bits = std::move(table_words);
  return s;
}

Kernel KernelBuilder::finish() {
  if (finished_) throw InternalError(fmt::format("kernel '{}' is finished twice", k_.name));
  for (NodeId o : k_.outputs) {
    const Node& n = k_.at(o);
    if (n.args[0] == kNoNode)
      fail(n.loc, fmt::format("output '{}' is declared but never connected: connect it with port <<= value", n.name));
  }
  for (size_t i = 0; i < k_.nodes.size(); ++i) {
    const Node& n = k_.nodes[i];
    if (n.dead) continue;
    if (n.op == Op::Register && n.args[0] == kNoNode)
      fail(n.loc, fmt::format("register '{}' has no next value: call .next(value) on it", n.name));
    if (n.op == Op::Ram && n.args[0] == kNoNode)
      fail(n.loc, fmt::format("RAM '{}' is never written: use rom() for a constant table", n.name));
  }
  if (k_.outputs.empty()) throw UserError(fmt::format("kernel '{}' has no outputs", k_.name));
  finished_ = true;
  Kernel k = std::move(k_);
  k_.name = k.name;  // for messages: the builder refuses new nodes from now on
  return k;
}

// ---- operations ----------------------------------------------------------------------------

Signal add(At a, const Signal& b) { return apply("add", rules::add(a.s.type, b.type), Op::Add, a, {a.s, b}); }
Signal sub(At a, const Signal& b) { return apply("sub", rules::sub(a.s.type, b.type), Op::Sub, a, {a.s, b}); }
Signal mul(At a, const Signal& b) { return apply("mul", rules::mul(a.s.type, b.type), Op::Mul, a, {a.s, b}); }
Signal neg(At a) { return apply("neg", rules::neg(a.s.type), Op::Neg, a, {a.s}); }
Signal bit_and(At a, const Signal& b) { return apply("and", rules::bitwise(a.s.type, b.type), Op::And, a, {a.s, b}); }
Signal bit_or(At a, const Signal& b) { return apply("or", rules::bitwise(a.s.type, b.type), Op::Or, a, {a.s, b}); }
Signal bit_xor(At a, const Signal& b) { return apply("xor", rules::bitwise(a.s.type, b.type), Op::Xor, a, {a.s, b}); }
Signal bit_xnor(At a, const Signal& b) { return apply("xnor", rules::bitwise(a.s.type, b.type), Op::Xnor, a, {a.s, b}); }
Signal bit_not(At a) { return apply("not", rules::bit_not(a.s.type), Op::Not, a, {a.s}); }
Signal eq(At a, const Signal& b) { return apply("==", rules::equality(a.s.type, b.type), Op::Eq, a, {a.s, b}); }
Signal ne(At a, const Signal& b) { return apply("!=", rules::equality(a.s.type, b.type), Op::Ne, a, {a.s, b}); }
Signal lt(At a, const Signal& b) { return apply("<", rules::ordering(a.s.type, b.type), Op::Lt, a, {a.s, b}); }
Signal le(At a, const Signal& b) { return apply("<=", rules::ordering(a.s.type, b.type), Op::Le, a, {a.s, b}); }
Signal gt(At a, const Signal& b) { return apply(">", rules::ordering(a.s.type, b.type), Op::Gt, a, {a.s, b}); }
Signal ge(At a, const Signal& b) { return apply(">=", rules::ordering(a.s.type, b.type), Op::Ge, a, {a.s, b}); }
Signal mux(At sel, const Signal& t, const Signal& f) {
  return apply("mux", rules::mux(sel.s.type, t.type, f.type), Op::Mux, sel, {sel.s, t, f});
}
Signal shl(At a, int k) { return apply("shl", rules::shl(a.s.type, k), Op::Shl, a, {a.s}, k); }
Signal shr(At a, int k) { return apply("shr", rules::shr(a.s.type, k), Op::Shr, a, {a.s}, k); }
Signal shl_keep(At a, const Signal& n) {
  return apply("shl_keep", rules::shift_keep(a.s.type, n.type), Op::ShlKeep, a, {a.s, n});
}
Signal shr_keep(At a, const Signal& n) {
  return apply("shr_keep", rules::shift_keep(a.s.type, n.type), Op::ShrKeep, a, {a.s, n});
}
Signal popcount(At a) { return apply("popcount", rules::popcount(a.s.type), Op::Popcount, a, {a.s}); }
Signal slice(At a, int hi, int lo) {
  return apply(fmt::format("slice<{}, {}>", hi, lo).c_str(), rules::slice(a.s.type, hi, lo), Op::Slice, a, {a.s}, hi, lo);
}
Signal concat(At h, const Signal& l) { return apply("concat", rules::concat(h.s.type, l.type), Op::Concat, h, {h.s, l}); }
Signal reduce_and(At a) { return apply("reduce_and", rules::reduce(a.s.type), Op::ReduceAnd, a, {a.s}); }
Signal reduce_or(At a) { return apply("reduce_or", rules::reduce(a.s.type), Op::ReduceOr, a, {a.s}); }
Signal reduce_xor(At a) { return apply("reduce_xor", rules::reduce(a.s.type), Op::ReduceXor, a, {a.s}); }
Signal cast(At a, Type to) {
  if (a.s.valid() && a.s.type == to) return a.s;
  return apply(fmt::format("cast<{}>", to_string(to)).c_str(), rules::cast(a.s.type, to), Op::Cast, a, {a.s});
}

}  // namespace qdf::dsl

// The dynamic kernel API: signals whose types are known when the kernel is recorded (at run
// time), for kernels whose widths depend on run-time parameters (an engine folded by the
// manager). Every operator checks the width rules of types.hpp and throws a UserError naming
// the kernel, the operation and the C++ line. The static API (static_types.hpp) is a typed
// layer over this one and reports the same rule failures at compile time.
//
// In the manner of MaxJ:
//   KernelBuilder kb("moving_average");
//   Signal x   = kb.input("x", Type::uint(8));
//   Signal sum = kb.offset(x, -1) + x + kb.offset(x, +1);
//   kb.output("y", cast(sum, Type::uint(8)));
//   Kernel k = kb.finish();
#pragma once

#include "dsl/ir.hpp"

#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

namespace qdf::dsl {

class KernelBuilder;

SourceLoc loc_of(const std::source_location& l);

// A value in a kernel being recorded: a node and its type.
struct Signal {
  KernelBuilder* kb = nullptr;
  NodeId id = kNoNode;
  Type type{};

  bool valid() const { return kb != nullptr && id != kNoNode; }
  // Give the node a readable name; it becomes the wire's name in the generated Verilog.
  const Signal& named(const std::string& name) const;
};

// A signal together with the C++ line that used it, so that operators can report where they
// were written (operators cannot take a defaulted source_location parameter themselves).
struct At {
  Signal s;
  SourceLoc loc;
  At(const Signal& sig, std::source_location l = std::source_location::current()) : s(sig), loc(loc_of(l)) {}
  At(const Signal& sig, SourceLoc where) : s(sig), loc(std::move(where)) {}
};

// An output port declared before its value is known (MaxJ: io.output(name, type) <== value).
class OutputPort {
 public:
  void connect(const Signal& value, std::source_location l = std::source_location::current());
  void operator<<=(const Signal& value) { connect(value); }
  const std::string& name() const { return name_; }

 private:
  friend class KernelBuilder;
  KernelBuilder* kb_ = nullptr;
  NodeId node_ = kNoNode;
  std::string name_;
};

// A register with feedback: q() is its value in this tick; next() sets the value of the next tick
// (held when the enable is false). An accumulator is q + x fed back into next().
class Reg {
 public:
  const Signal& q() const { return q_; }
  void next(const Signal& value, const Signal& enable = {}, std::source_location l = std::source_location::current());

 private:
  friend class KernelBuilder;
  Signal q_;
};

// A RAM of `depth` elements with one write port and any number of read ports.
class Ram {
 public:
  Signal read(const Signal& addr, std::source_location l = std::source_location::current()) const;
  void write(const Signal& addr, const Signal& data, const Signal& enable,
             std::source_location l = std::source_location::current()) const;

 private:
  friend class KernelBuilder;
  KernelBuilder* kb_ = nullptr;
  NodeId node_ = kNoNode;
};

// A counter counting 0, 1, ..., max-1, 0, ... advancing on the ticks where its enable holds.
struct Counter {
  Signal value;  // UInt<index_bits(max)>
  Signal wrap;   // Bool: enabled and at max-1 in this tick (the next value is 0)
};

// Nested counters, MaxJ style: the first added is the outermost; the innermost advances on every
// enabled tick and each outer one when all inner ones wrap. chain.add(H); chain.add(W) walks an
// H x W image in row-major order.
class CounterChain {
 public:
  explicit CounterChain(KernelBuilder& kb, Signal enable = {}) : kb_(&kb), enable_(enable) {}
  Counter add(std::uint64_t max, const std::string& name = "",
              std::source_location l = std::source_location::current());

 private:
  void rewire();
  KernelBuilder* kb_;
  Signal enable_;
  std::vector<std::uint64_t> maxes_;
  std::vector<Reg> regs_;
  std::vector<Counter> counters_;
  std::vector<SourceLoc> locs_;
};

class KernelBuilder {
 public:
  explicit KernelBuilder(std::string name);
  KernelBuilder(const KernelBuilder&) = delete;
  KernelBuilder& operator=(const KernelBuilder&) = delete;
  ~KernelBuilder();

  // The builder that free functions of the static API record into (set while one is alive).
  static KernelBuilder& current();

  const std::string& name() const { return k_.name; }
  void set_param(const std::string& key, const std::string& value) { k_.params[key] = value; }
  void set_max_offset(std::int64_t k) { k_.max_offset = k; }

  // Stream input: consumes one element on each tick where `enable` holds (always if omitted).
  // An enable may depend on counters, registers and scalars, not on the data of a stream input.
  Signal input(const std::string& name, Type t, const Signal& enable = {},
               std::source_location l = std::source_location::current());
  // Stream output: writes `value` on each tick where `enable` holds (always if omitted).
  void output(const std::string& name, const Signal& value, const Signal& enable = {},
              std::source_location l = std::source_location::current());
  OutputPort output_port(const std::string& name, Type t, const Signal& enable = {},
                         std::source_location l = std::source_location::current());
  // A value set by the host before a run and constant during it.
  Signal scalar(const std::string& name, Type t, std::source_location l = std::source_location::current());

  // A SInt value is given as the two's complement of its int64 value (static_cast<uint64_t>(-3)).
  Signal constant(Type t, std::uint64_t value, std::source_location l = std::source_location::current());
  Signal constant_words(Type t, std::vector<std::uint64_t> words,
                        std::source_location l = std::source_location::current());
  // x at k ticks away: k < 0 reads earlier elements (zero before the stream starts), k > 0 later
  // ones (zero after the run ends). |k| is bounded by set_max_offset().
  Signal offset(const Signal& x, std::int64_t k, std::source_location l = std::source_location::current());

  Reg reg(const std::string& name, Type t, std::uint64_t init = 0,
          std::source_location l = std::source_location::current());
  Counter counter(std::uint64_t max, const Signal& enable = {}, const std::string& name = "",
                  std::source_location l = std::source_location::current());
  Ram ram(const std::string& name, Type t, std::int64_t depth,
          std::source_location l = std::source_location::current());
  // A constant table read at `addr`; `table` has one entry per address (entries wider than 64
  // bits use rom_words).
  Signal rom(const std::string& name, Type t, const std::vector<std::uint64_t>& table, const Signal& addr,
             std::source_location l = std::source_location::current());
  Signal rom_words(const std::string& name, Type t, std::int64_t depth, std::vector<std::uint64_t> table_words,
                   const Signal& addr, std::source_location l = std::source_location::current());

  // Checks that every declared thing is connected and returns the recorded kernel.
  Kernel finish();

  // Used by the operators: append a node after checking the operands belong to this kernel.
  Signal make(Op op, Type t, std::vector<Signal> args, const SourceLoc& loc, std::int64_t a0 = 0,
              std::int64_t a1 = 0);
  Kernel& graph() { return k_; }
  [[noreturn]] void fail(const SourceLoc& loc, const std::string& what) const;

 private:
  Kernel k_;
  KernelBuilder* previous_ = nullptr;
  bool finished_ = false;
};

// Operations. Each checks the rules of types.hpp and reports the line of its caller.
Signal add(At a, const Signal& b);
Signal sub(At a, const Signal& b);
Signal mul(At a, const Signal& b);
Signal neg(At a);
Signal bit_and(At a, const Signal& b);
Signal bit_or(At a, const Signal& b);
Signal bit_xor(At a, const Signal& b);
Signal bit_xnor(At a, const Signal& b);
Signal bit_not(At a);
Signal eq(At a, const Signal& b);
Signal ne(At a, const Signal& b);
Signal lt(At a, const Signal& b);
Signal le(At a, const Signal& b);
Signal gt(At a, const Signal& b);
Signal ge(At a, const Signal& b);
Signal mux(At sel, const Signal& if_true, const Signal& if_false);
Signal shl(At a, int k);
Signal shr(At a, int k);
Signal shl_keep(At a, const Signal& amount);
Signal shr_keep(At a, const Signal& amount);
Signal popcount(At a);
Signal slice(At a, int hi, int lo);
Signal concat(At high, const Signal& low);
Signal reduce_and(At a);
Signal reduce_or(At a);
Signal reduce_xor(At a);
Signal cast(At a, Type to);

inline Signal operator+(At a, const Signal& b) { return add(a, b); }
inline Signal operator-(At a, const Signal& b) { return sub(a, b); }
inline Signal operator*(At a, const Signal& b) { return mul(a, b); }
inline Signal operator-(At a) { return neg(a); }
inline Signal operator&(At a, const Signal& b) { return bit_and(a, b); }
inline Signal operator|(At a, const Signal& b) { return bit_or(a, b); }
inline Signal operator^(At a, const Signal& b) { return bit_xor(a, b); }
inline Signal operator~(At a) { return bit_not(a); }
inline Signal operator==(At a, const Signal& b) { return eq(a, b); }
inline Signal operator!=(At a, const Signal& b) { return ne(a, b); }
inline Signal operator<(At a, const Signal& b) { return lt(a, b); }
inline Signal operator<=(At a, const Signal& b) { return le(a, b); }
inline Signal operator>(At a, const Signal& b) { return gt(a, b); }
inline Signal operator>=(At a, const Signal& b) { return ge(a, b); }

}  // namespace qdf::dsl

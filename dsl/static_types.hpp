// The static kernel API: UInt<N>, SInt<N>, Bits<N>, Bool and Vec<T, L>, with widths in the type.
// Every operator applies the rules of types.hpp at compile time; a rule failure is a
// static_assert whose text says what to write instead (tests/compile_fail/ proves each one).
// Values record into the current KernelBuilder, exactly as the dynamic API does.
//
//   struct MovingAverage {
//     void describe(KernelBuilder&) const {
//       auto x = io::input<UInt<8>>("x");
//       auto sum = offset(x, -1) + x + offset(x, +1);        // UInt<10>: no truncation
//       io::output("y", cast<UInt<8>>(sum / 3 ...));
//     }
//   };
#pragma once

#include "dsl/signal.hpp"
#include "dsl/types.hpp"

#include <array>
#include <cstdint>
#include <source_location>
#include <string>

namespace qdf::dsl {

template <Kind K, int N>
class Val;

template <int N>
using UInt = Val<Kind::UInt, N>;
template <int N>
using SInt = Val<Kind::SInt, N>;
template <int N>
using Bits = Val<Kind::Bits, N>;
using Bool = Val<Kind::Bool, 1>;

namespace detail {

// One static_assert per rule, so that the message shown is the one for the rule that failed.
template <rules::Err E>
constexpr void assert_rule() {
  static_assert(E != rules::Err::MixedSign, "qdf: " QDF_RULE_MSG_MIXED_SIGN);
  static_assert(E != rules::Err::NotNumber, "qdf: " QDF_RULE_MSG_NOT_NUMBER);
  static_assert(E != rules::Err::UnsignedNeg, "qdf: " QDF_RULE_MSG_UNSIGNED_NEG);
  static_assert(E != rules::Err::KindMismatch, "qdf: " QDF_RULE_MSG_KIND_MISMATCH);
  static_assert(E != rules::Err::WidthMismatch, "qdf: " QDF_RULE_MSG_WIDTH_MISMATCH);
  static_assert(E != rules::Err::NotBool, "qdf: " QDF_RULE_MSG_NOT_BOOL);
  static_assert(E != rules::Err::SliceRange, "qdf: " QDF_RULE_MSG_SLICE_RANGE);
  static_assert(E != rules::Err::ShiftRange, "qdf: " QDF_RULE_MSG_SHIFT_RANGE);
  static_assert(E != rules::Err::BadWidth, "qdf: " QDF_RULE_MSG_BAD_WIDTH);
}

// Implicit conversions are the lossless ones: same kind and not narrower, or UInt<M> into a
// strictly wider SInt.
constexpr bool lossless(Type from, Type to) {
  if (from.kind == to.kind) return from.width <= to.width;
  return from.kind == Kind::UInt && to.kind == Kind::SInt && from.width < to.width;
}

// A value with the line that used it (operators cannot take a defaulted source_location).
template <class V>
struct Here {
  V v;
  SourceLoc loc;
  Here(const V& value, std::source_location l = std::source_location::current()) : v(value), loc(loc_of(l)) {}
};

template <class T>
struct is_val : std::false_type {};
template <Kind K, int N>
struct is_val<Val<K, N>> : std::true_type {};

}  // namespace detail

template <Kind K, int N>
class Val {
  static_assert(N >= 1 && N <= kMaxWidth, "qdf: " QDF_RULE_MSG_BAD_WIDTH);
  static_assert(K != Kind::Bool || N == 1, "qdf: Bool is one bit");

 public:
  static constexpr Type type{K, N};
  static constexpr int width = N;

  Val() = default;
  // Adopts a dynamic signal; its type must be exactly this one (a user error otherwise).
  explicit Val(const Signal& s, std::source_location l = std::source_location::current()) : sig(s) {
    if (s.valid() && s.type != type)
      s.kb->fail(loc_of(l), "a " + to_string(s.type) + " signal used where " + to_string(type) + " is required");
  }
  // Lossless implicit widening; anything else must be spelled cast<T>(x).
  template <Kind K2, int M>
  Val(const Val<K2, M>& o, std::source_location l = std::source_location::current())
      : sig(cast(At(o.sig, loc_of(l)), type)) {
    static_assert(detail::lossless(Type{K2, M}, Type{K, N}), "qdf: " QDF_RULE_MSG_NARROWING);
  }

  Signal sig;

  // Give the value a name in the generated Verilog.
  Val named(const std::string& name) const {
    sig.named(name);
    return *this;
  }

#define QDF_STATIC_BINARY(SYM, RULE, FN)                                        \
  template <Kind K2, int M>                                                    \
  friend auto operator SYM(detail::Here<Val> a, const Val<K2, M>& b) {         \
    constexpr rules::Result r = rules::RULE(Type{K, N}, Type{K2, M});          \
    detail::assert_rule<r.err>();                                              \
    return Val<r.type.kind, r.type.width>(FN(At(a.v.sig, a.loc), b.sig));      \
  }
  QDF_STATIC_BINARY(+, add, add)
  QDF_STATIC_BINARY(-, sub, sub)
  QDF_STATIC_BINARY(*, mul, mul)
  QDF_STATIC_BINARY(&, bitwise, bit_and)
  QDF_STATIC_BINARY(|, bitwise, bit_or)
  QDF_STATIC_BINARY(^, bitwise, bit_xor)
  QDF_STATIC_BINARY(==, equality, eq)
  QDF_STATIC_BINARY(!=, equality, ne)
  QDF_STATIC_BINARY(<, ordering, lt)
  QDF_STATIC_BINARY(<=, ordering, le)
  QDF_STATIC_BINARY(>, ordering, gt)
  QDF_STATIC_BINARY(>=, ordering, ge)
#undef QDF_STATIC_BINARY

  friend auto operator-(detail::Here<Val> a) {
    constexpr rules::Result r = rules::neg(Type{K, N});
    detail::assert_rule<r.err>();
    return Val<r.type.kind, r.type.width>(neg(At(a.v.sig, a.loc)));
  }
  friend Val operator~(detail::Here<Val> a) { return Val(bit_not(At(a.v.sig, a.loc))); }
};

// ---- explicit conversions and bit manipulation ---------------------------------------------

template <class T, Kind K, int N>
T cast(const Val<K, N>& x, std::source_location l = std::source_location::current()) {
  static_assert(detail::is_val<T>::value, "qdf: cast<T> needs T = UInt<N>, SInt<N>, Bits<N> or Bool");
  return T(cast(At(x.sig, loc_of(l)), T::type));
}

template <int HI, int LO, Kind K, int N>
Bits<(HI >= LO ? HI - LO + 1 : 1)> slice(const Val<K, N>& x, std::source_location l = std::source_location::current()) {
  detail::assert_rule<rules::slice(Type{K, N}, HI, LO).err>();
  return Bits<(HI >= LO ? HI - LO + 1 : 1)>(slice(At(x.sig, loc_of(l)), HI, LO));
}

template <Kind K, int N>
Bool bit(const Val<K, N>& x, int i, std::source_location l = std::source_location::current()) {
  return cast<Bool>(Bits<1>(slice(At(x.sig, loc_of(l)), i, i)), l);
}

template <Kind K1, int N1, Kind K2, int N2>
Bits<N1 + N2> concat(const Val<K1, N1>& high, const Val<K2, N2>& low,
                     std::source_location l = std::source_location::current()) {
  return Bits<N1 + N2>(concat(At(high.sig, loc_of(l)), low.sig));
}

template <Kind K, int N>
auto popcount(const Val<K, N>& x, std::source_location l = std::source_location::current()) {
  constexpr rules::Result r = rules::popcount(Type{K, N});
  detail::assert_rule<r.err>();
  return Val<r.type.kind, r.type.width>(popcount(At(x.sig, loc_of(l))));
}

template <int S, Kind K, int N>
auto shl(const Val<K, N>& x, std::source_location l = std::source_location::current()) {
  constexpr rules::Result r = rules::shl(Type{K, N}, S);
  detail::assert_rule<r.err>();
  return Val<r.type.kind, r.type.width>(shl(At(x.sig, loc_of(l)), S));
}

template <int S, Kind K, int N>
auto shr(const Val<K, N>& x, std::source_location l = std::source_location::current()) {
  constexpr rules::Result r = rules::shr(Type{K, N}, S);
  detail::assert_rule<r.err>();
  return Val<r.type.kind, r.type.width>(shr(At(x.sig, loc_of(l)), S));
}

template <Kind K, int N, int M>
Val<K, N> shl_keep(const Val<K, N>& x, const UInt<M>& amount, std::source_location l = std::source_location::current()) {
  detail::assert_rule<rules::shift_keep(Type{K, N}, Type::uint(M)).err>();
  return Val<K, N>(shl_keep(At(x.sig, loc_of(l)), amount.sig));
}

template <Kind K, int N, int M>
Val<K, N> shr_keep(const Val<K, N>& x, const UInt<M>& amount, std::source_location l = std::source_location::current()) {
  detail::assert_rule<rules::shift_keep(Type{K, N}, Type::uint(M)).err>();
  return Val<K, N>(shr_keep(At(x.sig, loc_of(l)), amount.sig));
}

template <Kind K, int N>
Val<K, N> xnor(const Val<K, N>& a, const Val<K, N>& b, std::source_location l = std::source_location::current()) {
  return Val<K, N>(bit_xnor(At(a.sig, loc_of(l)), b.sig));
}
template <Kind K1, int N1, Kind K2, int N2>
void xnor(const Val<K1, N1>&, const Val<K2, N2>&, std::source_location = std::source_location::current()) {
  detail::assert_rule<rules::bitwise(Type{K1, N1}, Type{K2, N2}).err>();
}

template <Kind KS, int NS, Kind K1, int N1, Kind K2, int N2>
auto mux(const Val<KS, NS>& sel, const Val<K1, N1>& if_true, const Val<K2, N2>& if_false,
         std::source_location l = std::source_location::current()) {
  constexpr rules::Result r = rules::mux(Type{KS, NS}, Type{K1, N1}, Type{K2, N2});
  detail::assert_rule<r.err>();
  return Val<r.type.kind, r.type.width>(mux(At(sel.sig, loc_of(l)), if_true.sig, if_false.sig));
}

#define QDF_STATIC_REDUCE(NAME)                                                                  \
  template <Kind K, int N>                                                                       \
  Bool NAME(const Val<K, N>& x, std::source_location l = std::source_location::current()) {      \
    detail::assert_rule<rules::reduce(Type{K, N}).err>();                                        \
    return Bool(NAME(At(x.sig, loc_of(l))));                                                     \
  }
QDF_STATIC_REDUCE(reduce_and)
QDF_STATIC_REDUCE(reduce_or)
QDF_STATIC_REDUCE(reduce_xor)
#undef QDF_STATIC_REDUCE

// ---- vectors -------------------------------------------------------------------------------

// L elements of T, element 0 in the least significant bits when packed.
template <class T, int L>
struct Vec {
  static_assert(detail::is_val<T>::value && L >= 1, "qdf: Vec<T, L> needs a hardware type T and L >= 1");
  using element_type = T;
  static constexpr int size = L;
  static constexpr int width = T::width * L;
  std::array<T, L> e{};

  T& operator[](int i) { return e.at(static_cast<size_t>(i)); }
  const T& operator[](int i) const { return e.at(static_cast<size_t>(i)); }

  Bits<width> pack(std::source_location l = std::source_location::current()) const {
    Signal acc = cast(At(e[0].sig, loc_of(l)), Type::bits(T::width));
    for (int i = 1; i < L; ++i) acc = concat(At(e[static_cast<size_t>(i)].sig, loc_of(l)), acc);
    return Bits<width>(acc);
  }
  static Vec unpack(const Bits<width>& b, std::source_location l = std::source_location::current()) {
    Vec v;
    for (int i = 0; i < L; ++i)
      v.e[static_cast<size_t>(i)] =
          T(cast(At(slice(At(b.sig, loc_of(l)), (i + 1) * T::width - 1, i * T::width), loc_of(l)), T::type));
    return v;
  }
};

// Sum of all elements as a balanced adder tree; the width grows by one per tree level.
template <class T, int L>
auto reduce_add(const Vec<T, L>& v, std::source_location l = std::source_location::current()) {
  static_assert(T::type.is_number(), "qdf: reduce_add needs UInt or SInt elements");
  constexpr int levels = index_bits(static_cast<std::uint64_t>(L)) - (L == 1 ? 1 : 0);
  using R = Val<T::type.kind, T::width + levels>;
  std::vector<Signal> level;
  for (const T& x : v.e) level.push_back(x.sig);
  while (level.size() > 1) {
    std::vector<Signal> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(add(At(level[i], loc_of(l)), level[i + 1]));
    if (level.size() % 2) next.push_back(level.back());
    level = std::move(next);
  }
  return R(cast(At(level[0], loc_of(l)), R::type));
}

// ---- kernel structure: ports, offsets, state -----------------------------------------------

namespace detail {
template <class T>
struct port_traits {
  static constexpr Type type = T::type;
  static T from(const Signal& s) { return T(s); }
  static Signal to(const T& v) { return v.sig; }
};
template <class T, int L>
struct port_traits<Vec<T, L>> {
  static constexpr Type type = Type::bits(Vec<T, L>::width);
  static Vec<T, L> from(const Signal& s) { return Vec<T, L>::unpack(Bits<Vec<T, L>::width>(s)); }
  static Signal to(const Vec<T, L>& v) { return v.pack().sig; }
};
}  // namespace detail

namespace io {

template <class T>
T input(const std::string& name, std::source_location l = std::source_location::current()) {
  return detail::port_traits<T>::from(KernelBuilder::current().input(name, detail::port_traits<T>::type, {}, l));
}
template <class T>
T input(const std::string& name, const Bool& enable, std::source_location l = std::source_location::current()) {
  return detail::port_traits<T>::from(KernelBuilder::current().input(name, detail::port_traits<T>::type, enable.sig, l));
}
template <class T>
void output(const std::string& name, const T& value, std::source_location l = std::source_location::current()) {
  KernelBuilder::current().output(name, detail::port_traits<T>::to(value), {}, l);
}
template <class T>
void output(const std::string& name, const T& value, const Bool& enable,
            std::source_location l = std::source_location::current()) {
  KernelBuilder::current().output(name, detail::port_traits<T>::to(value), enable.sig, l);
}
template <class T>
T scalar(const std::string& name, std::source_location l = std::source_location::current()) {
  return T(KernelBuilder::current().scalar(name, T::type, l));
}

}  // namespace io

template <class T>
T constant(std::uint64_t value, std::source_location l = std::source_location::current()) {
  return T(KernelBuilder::current().constant(T::type, value, l));
}

// The value k elements away in the stream (k < 0: earlier, k > 0: later).
template <Kind K, int N>
Val<K, N> offset(const Val<K, N>& x, std::int64_t k, std::source_location l = std::source_location::current()) {
  return Val<K, N>(x.sig.kb->offset(x.sig, k, l));
}

template <class T>
class Register {
 public:
  explicit Register(const std::string& name, std::uint64_t init = 0,
                    std::source_location l = std::source_location::current())
      : r_(KernelBuilder::current().reg(name, T::type, init, l)) {}
  T q() const { return T(r_.q()); }
  void next(const T& value, std::source_location l = std::source_location::current()) { r_.next(value.sig, {}, l); }
  void next(const T& value, const Bool& enable, std::source_location l = std::source_location::current()) {
    r_.next(value.sig, enable.sig, l);
  }

 private:
  Reg r_;
};

template <std::uint64_t MAX>
struct Count {
  UInt<index_bits(MAX)> value;
  Bool wrap;
};

// A counter 0 .. MAX-1 advancing on every tick (or where `enable` holds).
template <std::uint64_t MAX>
Count<MAX> count(const std::string& name = "", std::source_location l = std::source_location::current()) {
  Counter c = KernelBuilder::current().counter(MAX, {}, name, l);
  return {UInt<index_bits(MAX)>(c.value), Bool(c.wrap)};
}
template <std::uint64_t MAX>
Count<MAX> count(const Bool& enable, const std::string& name = "",
                 std::source_location l = std::source_location::current()) {
  Counter c = KernelBuilder::current().counter(MAX, enable.sig, name, l);
  return {UInt<index_bits(MAX)>(c.value), Bool(c.wrap)};
}

// Nested counters with static bounds: the first added is the outermost.
class Counters {
 public:
  Counters() : chain_(KernelBuilder::current()) {}
  explicit Counters(const Bool& enable) : chain_(KernelBuilder::current(), enable.sig) {}
  template <std::uint64_t MAX>
  Count<MAX> add(const std::string& name = "", std::source_location l = std::source_location::current()) {
    Counter c = chain_.add(MAX, name, l);
    return {UInt<index_bits(MAX)>(c.value), Bool(c.wrap)};
  }

 private:
  CounterChain chain_;
};

// ---- literals: 5_u is a UInt<3>, 5_s a SInt<4> ----------------------------------------------

namespace detail {
template <char... Cs>
constexpr std::uint64_t parse_literal() {
  constexpr char s[] = {Cs...};
  std::uint64_t v = 0;
  size_t i = 0, n = sizeof...(Cs);
  unsigned base = 10;
  if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  } else if (n > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    base = 2;
    i = 2;
  }
  for (; i < n; ++i) {
    char c = s[i];
    if (c == '\'') continue;
    unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0') : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10) : unsigned(c - 'A' + 10);
    v = v * base + d;
  }
  return v;
}
}  // namespace detail

namespace literals {
template <char... Cs>
UInt<bits_for(detail::parse_literal<Cs...>())> operator""_u() {
  constexpr std::uint64_t v = detail::parse_literal<Cs...>();
  return constant<UInt<bits_for(v)>>(v);
}
template <char... Cs>
SInt<bits_for(detail::parse_literal<Cs...>()) + 1> operator""_s() {
  constexpr std::uint64_t v = detail::parse_literal<Cs...>();
  return constant<SInt<bits_for(v) + 1>>(v);
}
}  // namespace literals

}  // namespace qdf::dsl

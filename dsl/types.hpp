// Hardware value types and the width rules of every operator.
//
// This file is the one place where the result type of an operator is decided. The static API
// (static_types.hpp) evaluates these rules at compile time and turns a failure into a
// static_assert; the dynamic API (signal.hpp) evaluates them at record time and turns a failure
// into a UserError; the IR checker (check_types.cpp) evaluates them again on every node. The
// rules, in words:
//   - No silent truncation. Arithmetic widens so that every result is exact:
//     UInt<a> + UInt<b> -> UInt<max(a,b)+1>, SInt likewise; UInt<a> - UInt<b> -> SInt<max(a,b)+1>;
//     UInt<a> * UInt<b> -> UInt<a+b>; -SInt<a> -> SInt<a+1>.
//   - UInt and SInt never mix implicitly; Bits (raw bits) and Bool have no arithmetic.
//   - Bitwise operators need equal kinds and equal widths.
//   - Comparisons need equal kinds (widths may differ; values are compared exactly); ordering
//     comparisons need UInt or SInt. Their result is Bool.
//   - Conditions (mux select, enables) are Bool. Mux arms have identical types.
//   - Narrowing is always spelled out: cast<T>(x), slice<hi, lo>(x), shr(x, k).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// The message of each rule, as macros because static_assert needs string literals: the static
// API and rule_message() both use these, so each sentence exists once.
#define QDF_RULE_MSG_MIXED_SIGN "UInt and SInt do not mix implicitly: convert one side first, e.g. cast<SInt<N+1>>(u)"
#define QDF_RULE_MSG_NOT_NUMBER "Bits and Bool carry no arithmetic or order: cast<UInt<N>>(x) or cast<SInt<N>>(x) first"
#define QDF_RULE_MSG_UNSIGNED_NEG "cannot negate a UInt: cast<SInt<N+1>>(x) first, or subtract"
#define QDF_RULE_MSG_KIND_MISMATCH "operands are of different kinds: cast one side so both have the same kind"
#define QDF_RULE_MSG_WIDTH_MISMATCH "operands have different widths: widen the narrower with cast<T>(x), or slice<hi, lo>(x) the wider"
#define QDF_RULE_MSG_NOT_BOOL "a condition must be Bool: compare instead, e.g. x == 1_u or x != 0_u"
#define QDF_RULE_MSG_SLICE_RANGE "slice bounds must satisfy 0 <= lo <= hi < width"
#define QDF_RULE_MSG_SHIFT_RANGE "constant shift amount out of range (shr needs 0 <= k < width, shl needs k >= 0)"
#define QDF_RULE_MSG_BAD_WIDTH "width must be between 1 and 65536 bits (Bool is 1 bit)"
#define QDF_RULE_MSG_NARROWING "implicit conversion would lose bits or change the kind: write cast<T>(x) to convert explicitly, or slice<hi, lo>(x)"

namespace qdf::dsl {

enum class Kind : std::uint8_t { UInt, SInt, Bits, Bool };

// The widest value the toolchain handles, in bits. Wider words are a sign of a mistake in a
// width calculation, not a real design (a 1024-bit ROM word is 16 machine words).
inline constexpr int kMaxWidth = 1 << 16;

struct Type {
  Kind kind = Kind::UInt;
  int width = 0;  // bits; 0 means "not known", which the checker rejects

  constexpr bool operator==(const Type&) const = default;
  constexpr bool is_signed() const { return kind == Kind::SInt; }
  constexpr bool is_number() const { return kind == Kind::UInt || kind == Kind::SInt; }
  constexpr bool valid() const {
    return width > 0 && width <= kMaxWidth && (kind != Kind::Bool || width == 1);
  }
  static constexpr Type uint(int w) { return {Kind::UInt, w}; }
  static constexpr Type sint(int w) { return {Kind::SInt, w}; }
  static constexpr Type bits(int w) { return {Kind::Bits, w}; }
  static constexpr Type boolean() { return {Kind::Bool, 1}; }
};

std::string to_string(Type t);     // "UInt<8>"
std::string_view to_string(Kind k);  // "UInt"

// Bits needed to hold the unsigned value v (at least 1).
constexpr int bits_for(std::uint64_t v) {
  int n = 1;
  while (n < 64 && (v >> n) != 0) ++n;
  return n;
}
// ceil(log2(n)) for n >= 1, at least 1: the width of an index into n things.
constexpr int index_bits(std::uint64_t n) { return n <= 1 ? 1 : bits_for(n - 1); }

namespace rules {

// Why a rule rejected its operands. Each value has one message, in rule_message().
enum class Err : std::uint8_t {
  None,
  MixedSign,     // UInt with SInt
  NotNumber,     // arithmetic or ordering on Bits or Bool
  UnsignedNeg,   // -UInt
  KindMismatch,  // bitwise/equality/mux on different kinds
  WidthMismatch, // bitwise or mux on different widths
  NotBool,       // a condition that is not Bool
  SliceRange,    // slice bounds outside the value
  ShiftRange,    // constant shift not smaller than the width (for shr)
  BadWidth,      // a width that is zero, negative or too large
};

struct Result {
  Type type{};
  Err err = Err::None;
  constexpr bool ok() const { return err == Err::None; }
};

constexpr Result fail(Err e) { return {Type{Kind::UInt, 1}, e}; }
constexpr int max_width(int a, int b) { return a > b ? a : b; }
constexpr Result checked(Type t) { return t.valid() ? Result{t, Err::None} : fail(Err::BadWidth); }

constexpr Result add(Type a, Type b) {
  if (!a.is_number() || !b.is_number()) return fail(Err::NotNumber);
  if (a.kind != b.kind) return fail(Err::MixedSign);
  return checked({a.kind, max_width(a.width, b.width) + 1});
}
constexpr Result sub(Type a, Type b) {
  if (!a.is_number() || !b.is_number()) return fail(Err::NotNumber);
  if (a.kind != b.kind) return fail(Err::MixedSign);
  return checked({Kind::SInt, max_width(a.width, b.width) + 1});
}
constexpr Result mul(Type a, Type b) {
  if (!a.is_number() || !b.is_number()) return fail(Err::NotNumber);
  if (a.kind != b.kind) return fail(Err::MixedSign);
  return checked({a.kind, a.width + b.width});
}
constexpr Result neg(Type a) {
  if (!a.is_number()) return fail(Err::NotNumber);
  if (a.kind == Kind::UInt) return fail(Err::UnsignedNeg);
  return checked({Kind::SInt, a.width + 1});
}
constexpr Result bitwise(Type a, Type b) {
  if (a.kind != b.kind) return fail(Err::KindMismatch);
  if (a.width != b.width) return fail(Err::WidthMismatch);
  return checked(a);
}
constexpr Result bit_not(Type a) { return checked(a); }
constexpr Result equality(Type a, Type b) {
  if (a.kind != b.kind) return a.is_number() && b.is_number() ? fail(Err::MixedSign) : fail(Err::KindMismatch);
  return checked(Type::boolean());
}
constexpr Result ordering(Type a, Type b) {
  if (!a.is_number() || !b.is_number()) return fail(Err::NotNumber);
  if (a.kind != b.kind) return fail(Err::MixedSign);
  return checked(Type::boolean());
}
constexpr Result condition(Type c) { return c.kind == Kind::Bool ? Result{c, Err::None} : fail(Err::NotBool); }
constexpr Result mux(Type sel, Type a, Type b) {
  if (sel.kind != Kind::Bool) return fail(Err::NotBool);
  if (a.kind != b.kind) return fail(Err::KindMismatch);
  if (a.width != b.width) return fail(Err::WidthMismatch);
  return checked(a);
}
constexpr Result shl(Type a, int k) {
  if (k < 0) return fail(Err::ShiftRange);
  if (a.kind == Kind::Bool) return fail(Err::NotNumber);
  return checked({a.kind, a.width + k});
}
constexpr Result shr(Type a, int k) {
  if (k < 0 || k >= a.width) return fail(Err::ShiftRange);
  if (a.kind == Kind::Bool) return fail(Err::NotNumber);
  return checked({a.kind, a.width - k});
}
// Shifts by a run-time amount keep the width (bits shifted out are lost, by name: shl_keep).
constexpr Result shift_keep(Type a, Type amount) {
  if (a.kind == Kind::Bool) return fail(Err::NotNumber);
  if (amount.kind != Kind::UInt) return fail(Err::NotNumber);
  return checked(a);
}
constexpr Result popcount(Type a) {
  if (a.kind == Kind::SInt) return fail(Err::NotNumber);
  return checked(Type::uint(bits_for(static_cast<std::uint64_t>(a.width))));
}
constexpr Result slice(Type a, int hi, int lo) {
  if (lo < 0 || hi < lo || hi >= a.width) return fail(Err::SliceRange);
  return checked(Type::bits(hi - lo + 1));
}
constexpr Result concat(Type a, Type b) { return checked(Type::bits(a.width + b.width)); }
constexpr Result reduce(Type a) {
  if (a.kind == Kind::SInt) return fail(Err::NotNumber);
  return checked(Type::boolean());
}
// cast<T>: any scalar to any scalar. Widening extends by the source's signedness; narrowing
// keeps the low bits. This is the explicit spelling of every conversion that may lose bits.
constexpr Result cast(Type /*from*/, Type to) { return checked(to); }

// The sentence shown to the user for each rejection: what is wrong and what to write instead.
constexpr std::string_view rule_message(Err e) {
  switch (e) {
    case Err::None: return "ok";
    case Err::MixedSign: return QDF_RULE_MSG_MIXED_SIGN;
    case Err::NotNumber: return QDF_RULE_MSG_NOT_NUMBER;
    case Err::UnsignedNeg: return QDF_RULE_MSG_UNSIGNED_NEG;
    case Err::KindMismatch: return QDF_RULE_MSG_KIND_MISMATCH;
    case Err::WidthMismatch: return QDF_RULE_MSG_WIDTH_MISMATCH;
    case Err::NotBool: return QDF_RULE_MSG_NOT_BOOL;
    case Err::SliceRange: return QDF_RULE_MSG_SLICE_RANGE;
    case Err::ShiftRange: return QDF_RULE_MSG_SHIFT_RANGE;
    case Err::BadWidth: return QDF_RULE_MSG_BAD_WIDTH;
  }
  return "unknown rule";
}

}  // namespace rules
}  // namespace qdf::dsl

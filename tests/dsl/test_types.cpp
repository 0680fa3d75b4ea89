// The width rules (types.hpp) and the static API that applies them at compile time. What must
// NOT compile is in tests/compile_fail/.
#include "dsl/interpreter.hpp"
#include "dsl/port_bundle.hpp"
#include "dsl/static_types.hpp"

#include <boost/hana/define_struct.hpp>
#include <doctest/doctest.h>
#include <type_traits>

using namespace qdf::dsl;
using namespace qdf::dsl::literals;

// The rules, at compile time.
static_assert(rules::add(Type::uint(8), Type::uint(3)).type == Type::uint(9));
static_assert(rules::sub(Type::uint(8), Type::uint(3)).type == Type::sint(9));
static_assert(rules::mul(Type::sint(8), Type::sint(3)).type == Type::sint(11));
static_assert(rules::neg(Type::sint(8)).type == Type::sint(9));
static_assert(rules::add(Type::uint(8), Type::sint(8)).err == rules::Err::MixedSign);
static_assert(rules::add(Type::bits(8), Type::bits(8)).err == rules::Err::NotNumber);
static_assert(rules::bitwise(Type::bits(8), Type::bits(7)).err == rules::Err::WidthMismatch);
static_assert(rules::popcount(Type::bits(64)).type == Type::uint(7));
static_assert(rules::popcount(Type::bits(63)).type == Type::uint(6));
static_assert(rules::slice(Type::bits(8), 7, 4).type == Type::bits(4));
static_assert(rules::slice(Type::bits(8), 8, 4).err == rules::Err::SliceRange);
static_assert(rules::shr(Type::sint(8), 3).type == Type::sint(5));
static_assert(rules::mux(Type::uint(1), Type::uint(4), Type::uint(4)).err == rules::Err::NotBool);
static_assert(bits_for(0) == 1 && bits_for(255) == 8 && bits_for(256) == 9);
static_assert(index_bits(1) == 1 && index_bits(2) == 1 && index_bits(3) == 2 && index_bits(256) == 8);

TEST_CASE("static operators give the widened types of the rules") {
  KernelBuilder kb("static_types");
  auto a = io::input<UInt<8>>("a");
  auto b = io::input<UInt<3>>("b");
  auto s = io::input<SInt<6>>("s");
  auto w = io::input<Bits<64>>("w");
  static_assert(std::is_same_v<decltype(a + b), UInt<9>>);
  static_assert(std::is_same_v<decltype(a - b), SInt<9>>);
  static_assert(std::is_same_v<decltype(a * b), UInt<11>>);
  static_assert(std::is_same_v<decltype(-s), SInt<7>>);
  static_assert(std::is_same_v<decltype(a < b), Bool>);
  static_assert(std::is_same_v<decltype(popcount(xnor(w, w))), UInt<7>>);
  static_assert(std::is_same_v<decltype(slice<15, 8>(w)), Bits<8>>);
  static_assert(std::is_same_v<decltype(concat(a, b)), Bits<11>>);
  static_assert(std::is_same_v<decltype(shl<2>(s)), SInt<8>>);
  static_assert(std::is_same_v<decltype(shr<2>(a)), UInt<6>>);
  static_assert(std::is_same_v<decltype(5_u), UInt<3>>);
  static_assert(std::is_same_v<decltype(0x1f_u), UInt<5>>);
  static_assert(std::is_same_v<decltype(5_s), SInt<4>>);
  static_assert(std::is_same_v<decltype(mux(a == b, a, a)), UInt<8>>);
  UInt<12> widened = a;  // lossless: implicit
  SInt<9> as_signed = a;  // UInt<8> fits SInt<9>
  CHECK(widened.sig.type == Type::uint(12));
  CHECK(as_signed.sig.type == Type::sint(9));
  Vec<UInt<2>, 4> v = Vec<UInt<2>, 4>::unpack(cast<Bits<8>>(a));
  static_assert(std::is_same_v<decltype(reduce_add(v)), UInt<4>>);
  static_assert(Vec<UInt<2>, 4>::width == 8);
}

TEST_CASE("a kernel written with the static API runs: vectors, counters, registers, literals") {
  KernelBuilder kb("static_kernel");
  auto x = io::input<Vec<UInt<2>, 4>>("x");  // four 2-bit activations per element
  auto total = reduce_add(x);                // UInt<4>
  Register<UInt<8>> acc("acc");
  auto pos = count<3>("pos");
  auto sum = mux(pos.value == 0_u, constant<UInt<8>>(0), acc.q()) + total;
  acc.next(cast<UInt<8>>(sum));
  io::output("sum", cast<UInt<8>>(sum), pos.wrap);
  Kernel k = kb.finish();
  RunSpec s;
  s.ticks = 6;
  s.inputs["x"] = Stream(8);
  for (std::uint64_t e : {0xffu, 0x01u, 0x12u, 0x00u, 0x55u, 0xaau}) s.inputs["x"].push(e);
  RunResult r = interpret(k, s);
  // element sums: 12, 1, 1+0+1 = 2 (0x12 = 00 01 00 10 -> 2+0+1+0 = 3)
  REQUIRE(r.outputs["sum"].size() == 2);
  CHECK(r.outputs["sum"].value(0) == 12 + 1 + 3);
  CHECK(r.outputs["sum"].value(1) == 0 + 4 + 8);
}

// A kernel's ports as reflected structs: one member per port, named after it.
struct PairIn {
  BOOST_HANA_DEFINE_STRUCT(PairIn, (UInt<8>, a), (SInt<4>, b), (Bool, flip));
};
struct PairOut {
  BOOST_HANA_DEFINE_STRUCT(PairOut, (SInt<10>, sum), (Bits<8>, raw_a));
};

TEST_CASE("a kernel's ports as a port bundle: declared in member order, named and typed after the members") {
  KernelBuilder kb("bundled");
  PairIn in = io::inputs<PairIn>();
  static_assert(std::is_same_v<decltype(in.a), UInt<8>> && std::is_same_v<decltype(in.b), SInt<4>>);
  SInt<9> a = in.a;
  io::outputs(PairOut{.sum = mux(in.flip, a + -in.b, a + in.b), .raw_a = cast<Bits<8>>(in.a)});
  Kernel k = kb.finish();
  REQUIRE(k.inputs.size() == 3);
  REQUIRE(k.outputs.size() == 2);
  CHECK(k.at(k.inputs[0]).name == "a");
  CHECK(k.at(k.inputs[0]).type == Type::uint(8));
  CHECK(k.at(k.inputs[1]).name == "b");
  CHECK(k.at(k.inputs[1]).type == Type::sint(4));
  CHECK(k.at(k.inputs[2]).name == "flip");
  CHECK(k.at(k.inputs[2]).type == Type::boolean());
  CHECK(k.at(k.outputs[0]).name == "sum");
  CHECK(k.at(k.outputs[1]).name == "raw_a");
  CHECK(k.at(k.outputs[1]).type == Type::bits(8));
  RunSpec s;
  s.ticks = 3;
  s.inputs["a"] = Stream(8);
  s.inputs["b"] = Stream(4);
  s.inputs["flip"] = Stream(1);
  for (std::uint64_t v : {200u, 3u, 0u}) s.inputs["a"].push(v);
  for (std::uint64_t v : {0x7u, 0xfu, 0x8u}) s.inputs["b"].push(v);  // 7, -1, -8 as SInt<4>
  for (std::uint64_t v : {0u, 1u, 1u}) s.inputs["flip"].push(v);
  RunResult r = interpret(k, s);
  REQUIRE(r.outputs["sum"].size() == 3);
  CHECK(r.outputs["sum"].value(0) == 207);       // 200 + 7
  CHECK(r.outputs["sum"].value(1) == 4);         // 3 - (-1)
  CHECK(r.outputs["sum"].value(2) == 8);         // 0 - (-8)
  CHECK(r.outputs["raw_a"].value(0) == 200);
}

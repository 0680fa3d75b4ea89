#include "kernels_for_tests.hpp"

#include "dsl/cosim.hpp"
#include "dsl/signal.hpp"

namespace qdf::testing {

using namespace dsl;

Kernel operator_kernel() {
  KernelBuilder kb("operators");
  Signal a = kb.input("a", Type::sint(13)), b = kb.input("b", Type::sint(9));
  Signal u = kb.input("u", Type::uint(12)), v = kb.input("v", Type::uint(5));
  kb.output("add", a + b);
  kb.output("sub", a - b);
  kb.output("mul", a * b);
  kb.output("neg", -b);
  kb.output("usub", u - v);
  kb.output("lt", cast(a < b, Type::uint(1)));
  kb.output("ge", cast(u >= v, Type::uint(1)));
  kb.output("eq", cast(a == cast(b, Type::sint(13)), Type::uint(1)));
  kb.output("shr_a", shr(a, 3));
  kb.output("shl_u", shl(u, 4));
  kb.output("shl0", shl(v, 0));
  kb.output("shrk", shr_keep(a, v));
  kb.output("shlk", shl_keep(u, v));
  kb.output("pop", popcount(u));
  kb.output("cat", concat(v, slice(u, 7, 2)));
  kb.output("sext", cast(b, Type::sint(20)));
  kb.output("trunc", cast(a, Type::uint(6)));
  kb.output("xn", bit_xnor(u, cast(a, Type::uint(12))));
  kb.output("red", cast(concat(concat(reduce_and(v), reduce_or(v)), reduce_xor(u)), Type::uint(3)));
  return kb.finish();
}

RunSpec operator_run(std::size_t n, std::uint64_t seed) {
  RunSpec s;
  s.ticks = n;
  s.inputs["a"] = random_stream(13, n, seed);
  s.inputs["b"] = random_stream(9, n, seed + 1);
  s.inputs["u"] = random_stream(12, n, seed + 2);
  s.inputs["v"] = random_stream(5, n, seed + 3);
  return s;
}

Kernel wide_kernel() {
  KernelBuilder kb("wide");
  Signal a = kb.input("a", Type::uint(100)), b = kb.input("b", Type::uint(90));
  Signal c = kb.input("c", Type::sint(70));
  kb.output("sum", a + b);
  kb.output("diff", cast(a - b, Type::sint(102)));
  kb.output("lt", cast(b < a, Type::uint(1)));
  kb.output("pop", popcount(a));
  kb.output("mid", slice(a, 95, 40));
  kb.output("neg", -c);
  kb.output("shl", cast(shl(b, 30), Type::uint(120)));
  return kb.finish();
}

RunSpec wide_run(std::size_t n, std::uint64_t seed) {
  RunSpec s;
  s.ticks = n;
  s.inputs["a"] = random_stream(100, n, seed);
  s.inputs["b"] = random_stream(90, n, seed + 1);
  s.inputs["c"] = random_stream(70, n, seed + 2);
  return s;
}

Kernel enables_kernel() {
  KernelBuilder kb("enables");
  Counter third = kb.counter(3, {}, "third");
  Signal read_b = eq(third.value, kb.constant(third.value.type, 0)).named("read_b");
  Signal a = kb.input("a", Type::uint(8));
  Signal b = kb.input("b", Type::uint(8), read_b);
  Signal bias = kb.scalar("bias", Type::uint(4));
  Reg held = kb.reg("held", Type::uint(8));
  held.next(b, read_b);
  Signal b_now = mux(read_b, b, held.q());
  kb.output("sum", a + b_now + bias);
  Signal odd = cast(slice(a, 0, 0), Type::boolean());
  kb.output("odd", a + bias, odd);
  return kb.finish();
}

RunSpec enables_run(std::size_t ticks, std::uint64_t seed) {
  RunSpec s;
  s.ticks = ticks;
  s.scalars["bias"] = 9;
  s.inputs["a"] = random_stream(8, ticks, seed);
  s.inputs["b"] = random_stream(8, (ticks + 2) / 3, seed + 1);
  return s;
}

Kernel ram_delay_kernel(int depth) {
  KernelBuilder kb("ram_delay");
  Signal x = kb.input("x", Type::uint(16));
  Counter at = kb.counter(static_cast<std::uint64_t>(depth), {}, "at");
  Ram ram = kb.ram("line", Type::uint(16), depth);
  Signal old = ram.read(at.value);
  ram.write(at.value, x, kb.constant(Type::boolean(), 1));
  kb.output("delayed", old);
  kb.output("now", x);
  return kb.finish();
}

RunSpec ram_delay_run(std::size_t ticks, std::uint64_t seed) {
  RunSpec s;
  s.ticks = ticks;
  s.inputs["x"] = random_stream(16, ticks, seed);
  return s;
}

}  // namespace qdf::testing

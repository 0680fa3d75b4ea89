// The pass pipeline: what each pass leaves behind.
#include "dsl/cosim.hpp"
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"
#include "dsl/signal.hpp"
#include "examples/example_kernels.hpp"

#include <doctest/doctest.h>

using namespace qdf::dsl;
using namespace qdf::examples;

namespace {
int live(const Kernel& k, Op op) {
  int n = 0;
  for (const Node& node : k.nodes) n += !node.dead && node.op == op;
  return n;
}
}  // namespace

TEST_CASE("the pipeline dumps the IR after each pass on request, in order") {
  std::vector<std::string> passes;
  CompileOptions opt;
  opt.after_pass = [&](const std::string& pass, const Kernel& k) {
    passes.push_back(pass);
    CHECK(dump(k).find("kernel moving_average") == 0);
  };
  compile_kernel(record(MovingAverage{}), opt);
  CHECK(passes == std::vector<std::string>{"recorded", "remove_dead_nodes", "merge_common_subexpressions", "schedule",
                                           "lower_to_delays", "map_delays_to_memories"});
}

TEST_CASE("dead nodes are removed, ports are kept") {
  KernelBuilder kb("dead");
  Signal x = kb.input("x", Type::uint(8));
  Signal unused_in = kb.input("unused", Type::uint(8));
  Signal waste = x + x;
  (void)waste;
  (void)unused_in;
  kb.output("y", x);
  Kernel k = compile_kernel(kb.finish());
  CHECK(live(k, Op::Add) == 0);
  CHECK(live(k, Op::Input) == 2);
}

TEST_CASE("common subexpressions are merged") {
  KernelBuilder kb("cse");
  Signal x = kb.input("x", Type::uint(8));
  Signal a = x + kb.constant(Type::uint(8), 1);
  Signal b = x + kb.constant(Type::uint(8), 1);
  kb.output("y", a + b);
  CompileOptions opt;
  opt.latency = LatencyModel::zero();
  Kernel k = compile_kernel(kb.finish(), opt);
  CHECK(live(k, Op::Add) == 2);  // x + 1 once, then the sum
}

TEST_CASE("lowering leaves no offsets, and long delay lines become memories") {
  CompileOptions opt;
  Kernel small = compile_kernel(record(Window3x3{32, 8}), opt);
  CHECK(live(small, Op::Offset) == 0);
  Kernel big = compile_kernel(record(Window3x3{200, 4}), opt);
  int mem = 0;
  for (const Node& n : big.nodes)
    if (!n.dead && n.op == Op::Delay && n.a1) {
      ++mem;
      CHECK(n.a0 >= opt.memory_min_depth);
      CHECK(n.a0 * n.type.width >= opt.memory_min_bits);
    }
  CHECK(mem >= 2);  // the two lines of the window
}

TEST_CASE("operator latencies set the pipeline depth, but a feedback loop closes in one tick") {
  KernelBuilder kb("acc32");
  Signal x = kb.input("x", Type::uint(32));
  Reg acc = kb.reg("acc", Type::uint(32));
  Signal sum = cast(acc.q() + x, Type::uint(32));
  acc.next(sum);
  Signal out = x + x;  // 33 bits: one tick of latency outside the loop
  kb.output("y", cast(out, Type::uint(33)));
  kb.output("acc_out", sum);
  Kernel k = compile_kernel(kb.finish());
  CHECK(k.op_latency[static_cast<size_t>(sum.id - 1)] == 0);  // the add in the loop
  CHECK(k.latency == 1);
  CompileOptions zero;
  zero.latency = LatencyModel::zero();
  KernelBuilder kb2("acc32");
  CHECK(compile_kernel(record(BlockAccumulator{4}), zero).latency == 0);
}

TEST_CASE("a positive offset delays the outputs by its distance") {
  CompileOptions zero;
  zero.latency = LatencyModel::zero();
  Kernel k = compile_kernel(record(Window3x3{10, 4}), zero);
  CHECK(k.latency == 11);  // the window reads x(t + width + 1)
}

TEST_CASE("an input read later than the outputs (a slow enable) extends the run, so no element is left") {
  KernelBuilder kb("late_input");
  Counter c = kb.counter(1000, {}, "c");
  Signal big = cast(c.value, Type::uint(32));
  Signal en = big < kb.constant(Type::uint(32), 1000);  // a 32-bit compare: one tick of latency
  Signal x = kb.input("x", Type::uint(8), en);
  kb.output("c_out", c.value);
  kb.output("x_out", x, en);
  Kernel k = compile_kernel(kb.finish());
  CHECK(k.latency >= k.shift[static_cast<size_t>(k.inputs[0])]);
  RunSpec s;
  s.ticks = 4;
  s.inputs["x"] = random_stream(8, 3, 1);
  CHECK_THROWS_WITH_AS(Interpreter(k).run(s), doctest::Contains("needs more input"), qdf::UserError);
}

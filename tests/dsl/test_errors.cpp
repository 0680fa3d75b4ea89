// Bad kernels are user errors that name the kernel, the node and the C++ line that wrote it.
#include "dsl/errors.hpp"
#include "dsl/passes.hpp"
#include "dsl/signal.hpp"
#include "dsl/static_types.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace qdf::dsl;
using qdf::UserError;

namespace {

// The message of the UserError thrown by f, or "" if none was thrown.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

std::string here(int line) { return fmt::format("test_errors.cpp:{}", line); }

}  // namespace

TEST_CASE("an offset beyond the declared maximum names the kernel, the offset and its line") {
  int line = 0;
  std::string msg = error_of([&] {
    KernelBuilder kb("too_far");
    kb.set_max_offset(100);
    Signal x = kb.input("x", Type::uint(8));
    line = __LINE__; kb.output("y", kb.offset(x, -101));
  });
  CHECK(msg.find("kernel 'too_far'") != std::string::npos);
  CHECK(msg.find("offset(-101) exceeds the kernel's declared maximum offset of 100") != std::string::npos);
  CHECK(msg.find(here(line)) != std::string::npos);
}

TEST_CASE("the IR checker rejects an offset beyond the maximum set after it was recorded") {
  KernelBuilder kb("late_limit");
  Signal x = kb.input("x", Type::uint(8));
  int line = __LINE__; kb.output("y", kb.offset(x, 50));
  Kernel k = kb.finish();
  k.max_offset = 10;
  std::string msg = error_of([&] { compile_kernel(k); });
  CHECK(msg.find("in kernel 'late_limit'") != std::string::npos);
  CHECK(msg.find("(Offset, ") != std::string::npos);
  CHECK(msg.find(here(line)) != std::string::npos);
}

TEST_CASE("a combinational loop lists every node on it with its line") {
  KernelBuilder kb("loop");
  Signal x = kb.input("x", Type::uint(8));
  // Build a loop by hand: y = x + z, z = cast(y): a value depending on itself in one tick.
  int line_y = __LINE__; Signal y = x + x;
  int line_z = __LINE__; Signal z = cast(y, Type::uint(8));
  kb.graph().at(y.id).args[1] = z.id;
  kb.output("out", z);
  Kernel k = kb.finish();
  std::string msg = error_of([&] { compile_kernel(k); });
  CHECK(msg.find("combinational loop") != std::string::npos);
  CHECK(msg.find("kernel 'loop'") != std::string::npos);
  CHECK(msg.find(here(line_y)) != std::string::npos);
  CHECK(msg.find(here(line_z)) != std::string::npos);
}

TEST_CASE("an unconnected output names the output and where it was declared") {
  int line = 0;
  std::string msg = error_of([&] {
    KernelBuilder kb("dangling");
    Signal x = kb.input("x", Type::uint(8));
    line = __LINE__; OutputPort y = kb.output_port("y", Type::uint(8));
    (void)x;
    (void)y;
    kb.finish();
  });
  CHECK(msg.find("output 'y' is declared but never connected") != std::string::npos);
  CHECK(msg.find("kernel 'dangling'") != std::string::npos);
  CHECK(msg.find(here(line)) != std::string::npos);
}

TEST_CASE("an unknown width is rejected where it is written") {
  int line = 0;
  std::string msg = error_of([&] {
    KernelBuilder kb("no_width");
    line = __LINE__; kb.input("x", Type::uint(0));
  });
  CHECK(msg.find("unknown or invalid width 0") != std::string::npos);
  CHECK(msg.find(here(line)) != std::string::npos);
  CHECK(msg.find("kernel 'no_width'") != std::string::npos);

  // and by the IR checker, for a graph built or rewritten without the builder
  KernelBuilder kb("bad_ir");
  Signal x = kb.input("x", Type::uint(8));
  line = __LINE__; Signal y = x + x;
  kb.output("y", y);
  Kernel k = kb.finish();
  k.at(y.id).type.width = 0;
  msg = error_of([&] { compile_kernel(k); });
  CHECK(msg.find("unknown or invalid width 0") != std::string::npos);
  CHECK(msg.find(here(line)) != std::string::npos);
}

TEST_CASE("width-rule violations in the dynamic API say what to write instead") {
  KernelBuilder kb("rules");
  Signal u = kb.input("u", Type::uint(8)), s = kb.input("s", Type::sint(8)), b = kb.input("b", Type::bits(8));
  CHECK(error_of([&] { u + s; }).find("UInt and SInt do not mix implicitly") != std::string::npos);
  CHECK(error_of([&] { b + b; }).find("Bits and Bool carry no arithmetic") != std::string::npos);
  CHECK(error_of([&] { -u; }).find("cannot negate a UInt") != std::string::npos);
  CHECK(error_of([&] { u & cast(u, Type::uint(9)); }).find("different widths") != std::string::npos);
  CHECK(error_of([&] { mux(u, u, u); }).find("a condition must be Bool") != std::string::npos);
  CHECK(error_of([&] { slice(u, 8, 0); }).find("slice bounds") != std::string::npos);
  CHECK(error_of([&] { kb.output("o", u, u); }).find("enable of output 'o' is UInt<8>") != std::string::npos);
}

TEST_CASE("state and ports that are not connected or not consistent are user errors") {
  CHECK(error_of([] {
          KernelBuilder kb("reg");
          Reg r = kb.reg("acc", Type::uint(8));
          kb.output("y", r.q());
          kb.finish();
        }).find("register 'acc' has no next value") != std::string::npos);
  CHECK(error_of([] {
          KernelBuilder kb("reg2");
          Reg r = kb.reg("acc", Type::uint(8));
          r.next(cast(r.q(), Type::uint(9)));
        }).find("register 'acc' is UInt<8> but its next value is UInt<9>") != std::string::npos);
  CHECK(error_of([] {
          KernelBuilder kb("ram");
          Ram m = kb.ram("mem", Type::uint(8), 16);
          kb.output("y", m.read(kb.constant(Type::uint(4), 3)));
          kb.finish();
        }).find("RAM 'mem' is never written") != std::string::npos);
  CHECK(error_of([] {
          KernelBuilder kb("init");
          kb.reg("r", Type::uint(4), 16);
        }).find("constant 16 does not fit in UInt<4>") != std::string::npos);
  CHECK(error_of([] {
          KernelBuilder kb("twice");
          kb.input("x", Type::uint(4));
          kb.input("x", Type::uint(4));
        }).find("input 'x' is declared twice") != std::string::npos);
}

TEST_CASE("an input enable may not depend on stream data of the same tick") {
  KernelBuilder kb("peek");
  Signal a = kb.input("a", Type::uint(8));
  Signal en = a > kb.constant(Type::uint(8), 3);
  Signal b = kb.input("b", Type::uint(8), en);
  kb.output("y", a + b);
  Kernel k = kb.finish();
  std::string msg = error_of([&] { compile_kernel(k); });
  CHECK(msg.find("enable depends on the data of stream input 'a'") != std::string::npos);
  CHECK(msg.find("'b'") != std::string::npos);
}

TEST_CASE("a value cannot depend on its own future") {
  KernelBuilder kb("future");
  Signal x = kb.input("x", Type::uint(8));
  Reg r = kb.reg("r", Type::uint(8));
  int line = __LINE__; Signal ahead = kb.offset(r.q(), +2);
  r.next(cast(ahead + x, Type::uint(8)));
  kb.output("y", r.q());
  Kernel k = kb.finish();
  std::string msg = error_of([&] { compile_kernel(k); });
  CHECK(msg.find("inside a feedback loop") != std::string::npos);
  CHECK(msg.find(here(line)) != std::string::npos);
}

TEST_CASE("static values adopting a dynamic signal of another type is a user error") {
  KernelBuilder kb("adopt");
  Signal x = kb.input("x", Type::uint(8));
  CHECK(error_of([&] { UInt<9> y(x); }).find("a UInt<8> signal used where UInt<9> is required") != std::string::npos);
}

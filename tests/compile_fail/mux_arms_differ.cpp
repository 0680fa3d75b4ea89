// Mux arms must have one type, or the result width would be a guess.
// expect: qdf: operands have different widths
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto c = io::input<Bool>("c");
  auto a = io::input<UInt<8>>("a");
  auto b = io::input<UInt<4>>("b");
#ifdef QDF_FAIL
  io::output("y", mux(c, a, b));
#else
  io::output("y", mux(c, a, cast<UInt<8>>(b)));
#endif
}

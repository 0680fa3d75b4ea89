// A mux selects with a Bool, not with a 1-bit number.
// expect: qdf: a condition must be Bool
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto s = io::input<UInt<1>>("s");
  auto a = io::input<UInt<8>>("a");
#ifdef QDF_FAIL
  io::output("y", mux(s, a, a));
#else
  io::output("y", mux(s == constant<UInt<1>>(1), a, a));
#endif
}

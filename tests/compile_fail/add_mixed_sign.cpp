// A UInt plus a SInt: the sum's signedness must be chosen by the user.
// expect: qdf: UInt and SInt do not mix implicitly
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<UInt<8>>("a");
  auto b = io::input<SInt<8>>("b");
#ifdef QDF_FAIL
  io::output("c", a + b);
#else
  io::output("c", cast<SInt<9>>(a) + b);
#endif
}

// Ordering a UInt against a SInt is ambiguous without a common type.
// expect: qdf: UInt and SInt do not mix implicitly
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<UInt<8>>("a");
  auto b = io::input<SInt<8>>("b");
#ifdef QDF_FAIL
  io::output("y", cast<UInt<1>>(a < b));
#else
  io::output("y", cast<UInt<1>>(cast<SInt<9>>(a) < b));
#endif
}

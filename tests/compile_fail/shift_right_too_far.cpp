// A constant right shift by the whole width leaves nothing.
// expect: qdf: constant shift amount out of range
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<UInt<8>>("a");
#ifdef QDF_FAIL
  io::output("y", shr<8>(a));
#else
  io::output("y", shr<7>(a));
#endif
}

// Negating a UInt has no UInt result.
// expect: qdf: cannot negate a UInt
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<UInt<8>>("a");
#ifdef QDF_FAIL
  io::output("y", -a);
#else
  io::output("y", -cast<SInt<9>>(a));
#endif
}

// A 9-bit sum assigned to 8 bits would drop its carry silently.
// expect: qdf: implicit conversion would lose bits
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<UInt<8>>("a");
#ifdef QDF_FAIL
  UInt<8> sum = a + a;
  io::output("s", sum);
#else
  UInt<8> sum = cast<UInt<8>>(a + a);  // explicit: keeps the low 8 bits
  io::output("s", sum);
#endif
}

// A SInt converted implicitly to a UInt would reinterpret negative values.
// expect: qdf: implicit conversion would lose bits
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<SInt<8>>("a");
#ifdef QDF_FAIL
  UInt<16> u = a;
  io::output("u", u);
#else
  UInt<16> u = cast<UInt<16>>(a);
  io::output("u", u);
#endif
}

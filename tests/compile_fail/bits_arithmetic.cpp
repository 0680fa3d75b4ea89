// Raw Bits have no numeric meaning, so no arithmetic.
// expect: qdf: Bits and Bool carry no arithmetic or order
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto w = io::input<Bits<8>>("w");
#ifdef QDF_FAIL
  io::output("s", w + w);
#else
  io::output("s", cast<UInt<8>>(w) + cast<UInt<8>>(w));
#endif
}

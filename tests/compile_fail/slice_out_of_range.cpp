// A slice past the top bit of a value.
// expect: qdf: slice bounds must satisfy 0 <= lo <= hi < width
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<UInt<8>>("a");
#ifdef QDF_FAIL
  io::output("y", slice<8, 1>(a));
#else
  io::output("y", slice<7, 1>(a));
#endif
}

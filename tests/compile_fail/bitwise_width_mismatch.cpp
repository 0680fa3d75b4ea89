// Bitwise operators need equal widths: which bits would be padded is the user's choice.
// expect: qdf: operands have different widths
#include "dsl/static_types.hpp"

using namespace qdf::dsl;

void kernel() {
  auto a = io::input<Bits<8>>("a");
  auto b = io::input<Bits<9>>("b");
#ifdef QDF_FAIL
  io::output("x", a ^ b);
#else
  io::output("x", cast<Bits<9>>(a) ^ b);
#endif
}

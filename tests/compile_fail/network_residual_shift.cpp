// A residual block whose skip is scaled by 2^17: the residual add engine takes shifts 0..16.
// expect: qdf: a residual's shift (skip scale 2^shift) must be 0..16
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 16, 2>("x");
#ifdef QDF_FAIL
  auto net = x >> residual<17>([](auto in) { return in >> conv<3, 16, 1, 1>{"a"}; });
  (void)net;
#else
  auto net = x >> residual<16>([](auto in) { return in >> conv<3, 16, 1, 1>{"a"}; });
  (void)net;
#endif
}

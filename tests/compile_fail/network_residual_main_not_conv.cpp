// A residual block whose main branch ends in thresholds: the add comes before them.
// expect: qdf: the residual's main branch must end in a conv
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 16, 2>("x");
#ifdef QDF_FAIL
  auto net = x >> residual([](auto in) { return in >> conv<3, 16, 1, 1>{"a"} >> act<2>{}; });
  (void)net;
#else
  auto net = x >> residual([](auto in) { return in >> conv<3, 16, 1, 1>{"a"}; });
  (void)net;
#endif
}

// A residual block inside another's main branch, which the skip FIFO sizing does not count yet.
// expect: qdf: a residual block inside a residual's branch is not supported yet
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 16, 2>("x");
  auto inner = [](auto in) { return in >> conv<3, 16, 1, 1>{"i"}; };
#ifdef QDF_FAIL
  auto net = x >> residual([&](auto in) { return in >> residual(inner) >> act<2>{} >> conv<3, 16, 1, 1>{"b"}; });
  (void)net;
#else
  auto net = x >> residual(inner) >> act<2>{} >> residual([](auto in) { return in >> conv<3, 16, 1, 1>{"b"}; });
  (void)net;
#endif
}

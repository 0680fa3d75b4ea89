// A residual block on binary (±1) activations: its skip must be unsigned activations.
// expect: qdf: a residual block's input must be unsigned activations
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 3, 8>("x") >> conv<3, 16, 1, 1>{"c0"};
#ifdef QDF_FAIL
  auto net = x >> act<1>{} >> residual([](auto in) { return in >> conv<3, 16, 1, 1>{"a"}; });
  (void)net;
#else
  auto net = x >> act<2>{} >> residual([](auto in) { return in >> conv<3, 16, 1, 1>{"a"}; });
  (void)net;
#endif
}

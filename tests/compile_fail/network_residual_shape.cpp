// A residual block whose main branch halves the image: main and skip shapes differ.
// expect: qdf: the residual's main branch and its skip differ in shape
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 16, 2>("x");
#ifdef QDF_FAIL
  auto net = x >> residual([](auto in) { return in >> conv<3, 16, 2, 1>{"down"}; });
  (void)net;
#else
  auto net = x >> residual([](auto in) { return in >> conv<3, 16, 1, 1>{"same"}; });
  (void)net;
#endif
}

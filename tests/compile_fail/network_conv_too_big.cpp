// A 7x7 conv on a 4x4 image: the window does not fit, and the instantiation shows both shapes.
// expect: qdf: the conv window does not fit its input shape
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto img = input<4, 4, 3, 8>("img");
#ifdef QDF_FAIL
  auto net = img >> conv<7, 8>{"big"};
  (void)net;
#else
  auto net = img >> conv<3, 8>{"small"};
  (void)net;
#endif
}

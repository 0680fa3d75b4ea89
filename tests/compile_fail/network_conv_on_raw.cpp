// Two convs in a row: the second would read raw accumulators, not activations.
// expect: qdf: a conv needs activations, not raw accumulators
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto img = input<8, 8, 3, 8>("img");
#ifdef QDF_FAIL
  auto net = img >> conv<3, 8>{"c1"} >> conv<3, 8>{"c2"};
  (void)net;
#else
  auto net = img >> conv<3, 8>{"c1"} >> act<2>{} >> conv<3, 8>{"c2"};
  (void)net;
#endif
}

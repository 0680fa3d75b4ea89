// A global pool of binary (±1) activations: it sums unsigned ones.
// expect: qdf: a global pool sums unsigned activations, not binary
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 3, 8>("x") >> conv<3, 16>{"c0"};
#ifdef QDF_FAIL
  auto net = x >> act<1>{} >> global_pool{} >> label_select<1>{};
  (void)net;
#else
  auto net = x >> act<2>{} >> global_pool{} >> label_select<1>{};
  (void)net;
#endif
}

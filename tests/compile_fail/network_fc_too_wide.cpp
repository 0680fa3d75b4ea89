// The global pool of a 256x256 map of 2-bit activations is 18 bits wide: too wide for a fully connected layer.
// expect: qdf: a conv or fully connected layer needs activations of at most 16 bits
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<256, 256, 1, 2>("x");
#ifdef QDF_FAIL
  auto net = x >> global_pool{} >> fc<10>{"fc"};
  (void)net;
#else
  auto net = x >> maxpool<2>{} >> global_pool{} >> fc<10>{"fc"};
  (void)net;
#endif
}

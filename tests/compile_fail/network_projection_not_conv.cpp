// A skip projection that ends in thresholds: the add needs the projection conv's accumulators.
// expect: qdf: the residual's skip projection must end in a conv
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 16, 2>("x");
#ifdef QDF_FAIL
  auto net = x >> residual([](auto in) { return in >> conv<3, 32, 2, 1>{"down"}; }, [](auto in) { return in >> conv<1, 32, 2>{"proj"} >> act<2>{}; });
  (void)net;
#else
  auto net = x >> residual([](auto in) { return in >> conv<3, 32, 2, 1>{"down"}; }, [](auto in) { return in >> conv<1, 32, 2>{"proj"}; });
  (void)net;
#endif
}

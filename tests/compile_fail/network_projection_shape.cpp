// A strided block whose skip projection keeps the input's size: projection and main branch differ.
// expect: qdf: the residual's skip projection gives a shape other than its main branch's
#include "manager/static_network.hpp"

using namespace qdf::manager::static_net;

void network() {
  auto x = input<8, 8, 16, 2>("x");
#ifdef QDF_FAIL
  auto net = x >> residual([](auto in) { return in >> conv<3, 32, 2, 1>{"down"}; }, [](auto in) { return in >> conv<1, 32>{"proj"}; });
  (void)net;
#else
  auto net = x >> residual([](auto in) { return in >> conv<3, 32, 2, 1>{"down"}; }, [](auto in) { return in >> conv<1, 32, 2>{"proj"}; });
  (void)net;
#endif
}

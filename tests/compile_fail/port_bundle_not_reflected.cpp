// A port bundle whose members are not reflected: its ports could not be named.
// expect: qdf: a port bundle is a struct whose members are its ports, declared with BOOST_HANA_DEFINE_STRUCT
#include "dsl/port_bundle.hpp"

#include <boost/hana/define_struct.hpp>

using namespace qdf::dsl;

#ifdef QDF_FAIL
struct Ports {
  UInt<8> x;
};
#else
struct Ports {
  BOOST_HANA_DEFINE_STRUCT(Ports, (UInt<8>, x));
};
#endif

void describe() {
  Ports in = io::inputs<Ports>();
  io::outputs(in);
}

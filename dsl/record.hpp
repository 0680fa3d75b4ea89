// record(): runs a kernel definition's describe() once and returns the recorded graph.
//
// A kernel definition is a struct with a name() and a describe(KernelBuilder&) const. When it is
// also a Boost.Hana struct (BOOST_HANA_DEFINE_STRUCT), its members are its generator parameters:
// they are reflected into the kernel (and so into the header of the generated Verilog and into
// IR dumps) without being listed twice.
//
//   struct Window3x3 {
//     BOOST_HANA_DEFINE_STRUCT(Window3x3, (int, width), (int, height));
//     std::string name() const { return "window3x3"; }
//     void describe(KernelBuilder& kb) const { ... }
//   };
//   Kernel k = record(Window3x3{.width = 32, .height = 8});
#pragma once

#include "dsl/signal.hpp"

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <sstream>

namespace qdf::dsl {

template <class Def>
Kernel record(const Def& def) {
  KernelBuilder kb(def.name());
  if constexpr (boost::hana::Struct<Def>::value) {
    boost::hana::for_each(boost::hana::accessors<Def>(), [&](auto pair) {
      std::ostringstream value;
      value << boost::hana::second(pair)(def);
      kb.set_param(boost::hana::to<char const*>(boost::hana::first(pair)), value.str());
    });
  }
  def.describe(kb);
  return kb.finish();
}

}  // namespace qdf::dsl

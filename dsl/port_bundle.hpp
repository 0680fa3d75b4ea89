// Port bundles: a kernel's stream ports as one struct of static types, reflected with Boost.Hana,
// so that each port is declared once, as a member, and named after it (Cash's typed port
// bundles, with the widths in the member types):
//
//   struct Pixels {
//     BOOST_HANA_DEFINE_STRUCT(Pixels, (UInt<8>, pixel), (Bool, last));
//   };
//   struct Sums {
//     BOOST_HANA_DEFINE_STRUCT(Sums, (UInt<9>, sum));
//   };
//   void describe(KernelBuilder&) const {
//     auto in = io::inputs<Pixels>();                     // input ports "pixel", "last", in member order
//     io::outputs(Sums{.sum = in.pixel + offset(in.pixel, -1)});  // output port "sum"
//   }
//
// A bundle's ports share one enable (always, if none is given); ports with their own enables are
// declared one by one with io::input and io::output.
#pragma once

#include "dsl/static_types.hpp"

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/unpack.hpp>
#include <cstdlib>
#include <source_location>
#include <type_traits>
#include <utility>

namespace qdf::dsl::io {

namespace detail {
template <class Ports>
struct is_port_bundle {
  static_assert(boost::hana::Struct<Ports>::value,
                "qdf: a port bundle is a struct whose members are its ports, declared with BOOST_HANA_DEFINE_STRUCT");
  static constexpr bool ok = true;
};
template <class Ports>
inline constexpr bool reflected = boost::hana::Struct<Ports>::value;
// The type of a bundle's member, from its hana accessor.
template <class Ports, class Member>
using member_type = std::remove_cvref_t<decltype(boost::hana::second(std::declval<Member>())(std::declval<const Ports&>()))>;

// Called for reflected structs only (inputs() and outputs() check first), so that the check's
// message is the only one.
template <class Ports>
Ports declare_inputs(const Signal& enable, std::source_location l) {
  // A braced list is evaluated left to right: the ports are declared in member order.
  return boost::hana::unpack(boost::hana::accessors<Ports>(), [&](auto... member) {
    return Ports{dsl::detail::port_traits<member_type<Ports, decltype(member)>>::from(KernelBuilder::current().input(
        boost::hana::to<char const*>(boost::hana::first(member)), dsl::detail::port_traits<member_type<Ports, decltype(member)>>::type,
        enable, l))...};
  });
}
template <class Ports>
void declare_outputs(const Ports& ports, const Signal& enable, std::source_location l) {
  boost::hana::for_each(boost::hana::accessors<Ports>(), [&](auto member) {
    using T = member_type<Ports, decltype(member)>;
    KernelBuilder::current().output(boost::hana::to<char const*>(boost::hana::first(member)),
                                    dsl::detail::port_traits<T>::to(boost::hana::second(member)(ports)), enable, l);
  });
}
}  // namespace detail

// Declares an input port per member of `Ports`, named after it, and returns them as a `Ports`.
template <class Ports>
Ports inputs(std::source_location l = std::source_location::current()) {
  static_assert(detail::is_port_bundle<Ports>::ok);
  if constexpr (detail::reflected<Ports>)
    return detail::declare_inputs<Ports>({}, l);
  else
    std::abort();  // not compiled: the check above has failed
}
template <class Ports>
Ports inputs(const Bool& enable, std::source_location l = std::source_location::current()) {
  static_assert(detail::is_port_bundle<Ports>::ok);
  if constexpr (detail::reflected<Ports>)
    return detail::declare_inputs<Ports>(enable.sig, l);
  else
    std::abort();  // not compiled: the check above has failed
}
// Declares an output port per member of `ports`, named after it, writing the member's value.
template <class Ports>
void outputs(const Ports& ports, std::source_location l = std::source_location::current()) {
  static_assert(detail::is_port_bundle<Ports>::ok);
  if constexpr (detail::reflected<Ports>) detail::declare_outputs(ports, {}, l);
}
template <class Ports>
void outputs(const Ports& ports, const Bool& enable, std::source_location l = std::source_location::current()) {
  static_assert(detail::is_port_bundle<Ports>::ok);
  if constexpr (detail::reflected<Ports>) detail::declare_outputs(ports, enable.sig, l);
}

}  // namespace qdf::dsl::io

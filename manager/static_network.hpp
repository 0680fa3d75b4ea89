// Networks with static shapes: the same expressions as network.hpp, with the shape and
// precision of every stream in the type, so that a layer that does not fit is a compile error.
// The error's instantiation names both shapes (as at<H, W, C, Bits, Values> and the layer's
// parameters):
//
//   auto net = static_net::input<32, 32, 3, 8>("image")
//              >> static_net::conv<3, 64>{"conv1"} >> static_net::act<1>{}
//              >> static_net::maxpool<2>{} >> ...;
//   Net runtime = net.net;   // the runtime expression, for the manager
//
// Precisions are those the runtime network computes (one definition: manager/layer_precision.hpp).
//
// Residual blocks take their main branch, and optionally a projection of the skip, as functions
// of the block's input; the skip scale 2^Shift is a template argument (checked 0..16):
//   x >> static_net::residual([](auto in) { return in >> conv<3, 64, 1, 1>{"a"} >> act<2>{} >> conv<3, 64, 1, 1>{"b"}; })
//   x >> static_net::residual<1>(main, [](auto in) { return in >> conv<1, 128, 2>{"proj"}; }, "block2")
//
// The layer list is a Boost.Hana tuple in the type, `decltype(net)::layers`: one
// hana::type<step<Layer, Out>> per layer, with the layer's parameters and its output stream, to
// inspect or transform at compile time (count the convs, list the widths, ...).
#pragma once

#include "manager/layer_precision.hpp"
#include "manager/network.hpp"

#include <boost/hana/any_of.hpp>
#include <boost/hana/back.hpp>
#include <boost/hana/is_empty.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <string>
#include <type_traits>

namespace qdf::manager::static_net {

// What the values on a stream are: signed accumulators (of a conv, a fully connected layer or a
// residual add), unsigned activations (or pooled sums, or label indices), or binary ±1 activations.
enum class Values { raw, uint, binary };

// A stream, as a type: its shape and the precision of its values.
template <int H, int W, int C, int Bits, Values V>
struct at {
  static constexpr int h = H, w = W, c = C, bits = Bits;
  static constexpr Values values = V;
  static constexpr bool raw = V == Values::raw, binary = V == Values::binary;
};

// One layer of a static network in its layer list: the layer (its parameters) and its output stream.
template <class Layer, class Out>
struct step {
  using layer = Layer;
  using out = Out;
};

// The layers. Their template arguments are their parameters (as in network.hpp's functions).
struct input_layer {};
template <int K, int OC, int S = 1, int P = 0>
struct conv {
  std::string name;
};
template <int N>
struct fc {
  std::string name;
};
template <int Bits>
struct act {};
template <int K, int S = K, int P = 0>
struct maxpool {};
struct global_pool {};
template <int K = 1>
struct label_select {};
// In a layer list: a residual block, its main branch and its skip as static expressions (Expr
// types; an identity skip has no layers).
template <int Shift, class Main, class Skip>
struct residual_layer {
  static constexpr int shift = Shift;
  using main = Main;
  using skip = Skip;
};

// An expression: the runtime network, with the output stream `Shape` and the layer list in its type.
template <class Shape, class... Steps>
struct Expr {
  using shape = Shape;
  static constexpr auto layers = boost::hana::tuple_t<Steps...>;
  Net net;
};

template <int H, int W, int C, int Bits, bool Binary = false>
auto input(const std::string& name) {
  static_assert(H >= 1 && W >= 1 && C >= 1 && Bits >= 1 && Bits <= 16, "qdf: an input needs a non-empty shape and 1..16 bits");
  using Out = at<H, W, C, Bits, Binary ? Values::binary : Values::uint>;
  return Expr<Out, step<input_layer, Out>>{manager::input(name, {H, W, C}, Bits, Binary)};
}

template <class E>
inline constexpr bool is_conv_v = false;
template <int K, int OC, int S, int P>
inline constexpr bool is_conv_v<conv<K, OC, S, P>> = true;
template <class E>
inline constexpr bool is_residual_v = false;
template <int Shift, class Main, class Skip>
inline constexpr bool is_residual_v<residual_layer<Shift, Main, Skip>> = true;

// Whether the last layer of expression E is a conv.
template <class E>
constexpr bool ends_in_conv() {
  if constexpr (boost::hana::is_empty(E::layers)) {
    return false;
  } else {
    using Last = typename std::remove_cvref_t<decltype(boost::hana::back(E::layers))>::type;
    return is_conv_v<typename Last::layer>;
  }
}
// Whether expression E has a residual block among its layers.
template <class E>
constexpr bool has_residual() {
  return boost::hana::any_of(E::layers, [](auto t) { return boost::hana::bool_c<is_residual_v<typename decltype(t)::type::layer>>; });
}

// One static_assert per mistake, each in a template whose arguments show the streams involved.
template <class In>
struct activation_bits_fit {
  static_assert(In::binary || In::bits <= precision::kMaxActivationBits,
                "qdf: a conv or fully connected layer needs activations of at most 16 bits");
  static constexpr bool ok = true;
};
template <class In, int K, int OC, int S, int P>
struct conv_fits {
  static_assert(!In::raw, "qdf: a conv needs activations, not raw accumulators: put act<bits>() between the layers");
  static_assert(K >= 1 && S >= 1 && P >= 0 && P < K && OC >= 1, "qdf: conv<K, OC, S, P> needs K >= 1, S >= 1, 0 <= P < K and OC >= 1");
  static_assert(In::h + 2 * P >= K && In::w + 2 * P >= K, "qdf: the conv window does not fit its input shape");
  static constexpr bool ok = activation_bits_fit<In>::ok;
};
template <int Shift>
struct residual_shift_in_range {
  static_assert(Shift >= 0 && Shift <= precision::kMaxResidualShift, "qdf: a residual's shift (skip scale 2^shift) must be 0..16");
  static constexpr bool ok = true;
};
template <class Main, class Skip, bool Projected>
struct residual_shapes_match {
  static_assert(Projected || (Main::h == Skip::h && Main::w == Skip::w && Main::c == Skip::c),
                "qdf: the residual's main branch and its skip differ in shape: add a projection conv to the skip");
  static_assert(!Projected || (Main::h == Skip::h && Main::w == Skip::w && Main::c == Skip::c),
                "qdf: the residual's skip projection gives a shape other than its main branch's");
  static constexpr bool ok = true;
};
template <class MainExpr, class SkipExpr, bool Projected>
struct residual_branches_fit {
  static_assert(ends_in_conv<MainExpr>(), "qdf: the residual's main branch must end in a conv (the add comes before the thresholds)");
  static_assert(!Projected || ends_in_conv<SkipExpr>(), "qdf: the residual's skip projection must end in a conv");
  static_assert(!has_residual<MainExpr>() && !has_residual<SkipExpr>(),
                "qdf: a residual block inside a residual's branch is not supported yet: put the blocks one after the other");
  static constexpr bool ok = true;
};

template <class In, class... Steps, int K, int OC, int S, int P>
auto operator>>(Expr<In, Steps...> x, const conv<K, OC, S, P>& c) {
  static_assert(conv_fits<In, K, OC, S, P>::ok);
  using Out = at<precision::window_out(In::h, K, S, P), precision::window_out(In::w, K, S, P), OC,
                 precision::accumulator_bits(std::int64_t{K} * K * In::c, In::bits, In::binary), Values::raw>;
  return Expr<Out, Steps..., step<conv<K, OC, S, P>, Out>>{x.net >> manager::conv(c.name, K, OC, S, P)};
}
template <class In, class... Steps, int N>
auto operator>>(Expr<In, Steps...> x, const fc<N>& f) {
  static_assert(!In::raw, "qdf: a fully connected layer needs activations: put act<bits>() before it");
  static_assert(N >= 1, "qdf: fc<N> needs N >= 1 outputs");
  static_assert(activation_bits_fit<In>::ok);
  using Out = at<1, 1, N, precision::accumulator_bits(std::int64_t{In::h} * In::w * In::c, In::bits, In::binary), Values::raw>;
  return Expr<Out, Steps..., step<fc<N>, Out>>{x.net >> manager::fc(f.name, N)};
}
template <class In, class... Steps, int Bits>
auto operator>>(Expr<In, Steps...> x, act<Bits>) {
  static_assert(In::raw, "qdf: act<bits>() thresholds raw accumulators, and its input is already activations");
  static_assert(Bits == 1 || Bits == 2, "qdf: activations are 1 or 2 bits");
  using Out = at<In::h, In::w, In::c, Bits, Bits == 1 ? Values::binary : Values::uint>;
  return Expr<Out, Steps..., step<act<Bits>, Out>>{x.net >> manager::act(Bits)};
}
template <class In, class... Steps, int K, int S, int P>
auto operator>>(Expr<In, Steps...> x, maxpool<K, S, P>) {
  static_assert(!In::raw, "qdf: a pool needs activations: put act<bits>() before it");
  static_assert(In::h + 2 * P >= K && In::w + 2 * P >= K, "qdf: the pool window does not fit its input shape");
  using Out = at<precision::window_out(In::h, K, S, P), precision::window_out(In::w, K, S, P), In::c, In::bits, In::values>;
  return Expr<Out, Steps..., step<maxpool<K, S, P>, Out>>{x.net >> manager::maxpool(K, S, P)};
}
template <class In, class... Steps>
auto operator>>(Expr<In, Steps...> x, global_pool) {
  static_assert(!In::raw, "qdf: a pool needs activations: put act<bits>() before it");
  static_assert(!In::binary, "qdf: a global pool sums unsigned activations, not binary (±1) ones: use act<2>() before it");
  using Out = at<1, 1, In::c, precision::global_pool_bits(std::int64_t{In::h} * In::w, In::bits), Values::uint>;
  return Expr<Out, Steps..., step<global_pool, Out>>{x.net >> manager::global_pool()};
}
template <class In, class... Steps, int K>
auto operator>>(Expr<In, Steps...> x, label_select<K>) {
  static_assert(In::h == 1 && In::w == 1, "qdf: label select needs a vector (after a fully connected layer or a global pool)");
  static_assert(K >= 1 && K <= In::c, "qdf: top-k needs 1 <= k <= classes");
  using Out = at<1, 1, K, precision::label_bits(In::c), Values::uint>;
  return Expr<Out, Steps..., step<label_select<K>, Out>>{x.net >> manager::label_select(K)};
}

// A residual block. `Main` maps the block's input expression to the main branch's output;
// `Projection`, if given, maps it to the skip (a conv, where the main branch changes the shape).
struct no_projection {};
template <int Shift, class Main, class Projection>
struct residual_block {
  Main main;
  Projection projection;
  std::string name;  // empty: named after the layer before it, as the runtime's
};
template <int Shift = 0, class Main, class Projection = no_projection>
residual_block<Shift, Main, Projection> residual(Main main, Projection projection = {}, std::string name = "") {
  static_assert(residual_shift_in_range<Shift>::ok);
  return {main, projection, name};
}
template <class In, class... Steps, int Shift, class Main, class Projection>
auto operator>>(Expr<In, Steps...> x, const residual_block<Shift, Main, Projection>& r) {
  static_assert(!In::raw && !In::binary,
                "qdf: a residual block's input must be unsigned activations (its skip is added to the accumulators): "
                "put act<2>() before it");
  constexpr bool projected = !std::is_same_v<Projection, no_projection>;
  static_assert(!projected || std::is_invocable_v<const Projection&, Expr<In>>,
                "qdf: residual<Shift>(main, projection): the shift is a template argument, "
                "the projection a function of the block's input");
  auto branch = r.main(Expr<In>{Net()});  // open expressions: the branches' layers
  auto skip = [&] {
    if constexpr (projected)
      return r.projection(Expr<In>{Net()});
    else
      return Expr<In>{Net()};
  }();
  using MainExpr = decltype(branch);
  using SkipExpr = decltype(skip);
  using M = typename MainExpr::shape;
  using Sk = typename SkipExpr::shape;
  static_assert(residual_branches_fit<MainExpr, SkipExpr, projected>::ok);
  static_assert(residual_shapes_match<M, Sk, projected>::ok);
  using Out = at<M::h, M::w, M::c, precision::residual_bits(M::bits, In::bits, Shift, projected, Sk::bits), Values::raw>;
  return Expr<Out, Steps..., step<residual_layer<Shift, MainExpr, SkipExpr>, Out>>{
      x.net >> manager::residual(branch.net, Shift, skip.net, r.name)};
}

}  // namespace qdf::manager::static_net

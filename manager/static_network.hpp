// Networks with static shapes: the same expressions as network.hpp, with the shape and
// precision of every stream in the type, so that a layer that does not fit is a compile error.
// The error's instantiation names both shapes (as at<H, W, C> and the layer's parameters):
//
//   auto net = static_net::input<32, 32, 3, 8>("image")
//              >> static_net::conv<3, 64>("conv1") >> static_net::act<1>()
//              >> static_net::maxpool<2>() >> ...;
//   Net runtime = net.net;   // the runtime expression, for the manager
//
// Residual blocks take their main branch as a function of the block's input:
//   x >> static_net::residual([](auto in) { return in >> conv<3, 64, 1, 1>("a") >> act<2>() >> conv<3, 64, 1, 1>("b"); })
#pragma once

#include "manager/network.hpp"

#include <string>

namespace qdf::manager::static_net {

// The shape of a stream, as a type: at<H, W, C>. `raw` streams carry signed accumulators.
template <int H, int W, int C, bool Raw>
struct at {
  static constexpr int h = H, w = W, c = C;
  static constexpr bool raw = Raw;
};

template <class Shape>
struct Expr {
  using shape = Shape;
  Net net;
};

template <int H, int W, int C, int Bits>
Expr<at<H, W, C, false>> input(const std::string& name) {
  static_assert(H >= 1 && W >= 1 && C >= 1 && Bits >= 1 && Bits <= 16, "qdf: an input needs a non-empty shape and 1..16 bits");
  return {manager::input(name, {H, W, C}, Bits)};
}

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

// One static_assert per mistake, each in a template whose arguments show the shapes involved.
template <class In, int K, int OC, int S, int P>
struct conv_fits {
  static_assert(!In::raw, "qdf: a conv needs activations, not raw accumulators: put act<bits>() between the layers");
  static_assert(In::h + 2 * P >= K && In::w + 2 * P >= K, "qdf: the conv window does not fit its input shape");
  static constexpr bool ok = true;
};
template <class Main, class Skip>
struct residual_shapes_match {
  static_assert(Main::h == Skip::h && Main::w == Skip::w && Main::c == Skip::c,
                "qdf: the residual's main branch and its skip differ in shape: add a projection conv to the skip");
  static constexpr bool ok = true;
};

template <class In, int K, int OC, int S, int P>
auto operator>>(Expr<In> x, const conv<K, OC, S, P>& c) {
  static_assert(conv_fits<In, K, OC, S, P>::ok);
  using Out = at<(In::h + 2 * P - K) / S + 1, (In::w + 2 * P - K) / S + 1, OC, true>;
  return Expr<Out>{x.net >> manager::conv(c.name, K, OC, S, P)};
}
template <class In, int N>
auto operator>>(Expr<In> x, const fc<N>& f) {
  static_assert(!In::raw, "qdf: a fully connected layer needs activations: put act<bits>() before it");
  return Expr<at<1, 1, N, true>>{x.net >> manager::fc(f.name, N)};
}
template <class In, int Bits>
auto operator>>(Expr<In> x, act<Bits>) {
  static_assert(In::raw, "qdf: act<bits>() thresholds raw accumulators, and its input is already activations");
  static_assert(Bits == 1 || Bits == 2, "qdf: activations are 1 or 2 bits");
  return Expr<at<In::h, In::w, In::c, false>>{x.net >> manager::act(Bits)};
}
template <class In, int K, int S, int P>
auto operator>>(Expr<In> x, maxpool<K, S, P>) {
  static_assert(!In::raw, "qdf: a pool needs activations: put act<bits>() before it");
  static_assert(In::h + 2 * P >= K && In::w + 2 * P >= K, "qdf: the pool window does not fit its input shape");
  return Expr<at<(In::h + 2 * P - K) / S + 1, (In::w + 2 * P - K) / S + 1, In::c, false>>{x.net >> manager::maxpool(K, S, P)};
}
template <class In>
auto operator>>(Expr<In> x, global_pool) {
  static_assert(!In::raw, "qdf: a pool needs activations: put act<bits>() before it");
  return Expr<at<1, 1, In::c, false>>{x.net >> manager::global_pool()};
}
template <class In, int K>
auto operator>>(Expr<In> x, label_select<K>) {
  static_assert(In::h == 1 && In::w == 1, "qdf: label select needs a vector (after a fully connected layer)");
  static_assert(K >= 1 && K <= In::c, "qdf: top-k needs 1 <= k <= classes");
  return Expr<at<1, 1, K, false>>{x.net >> manager::label_select(K)};
}

// A residual block; `Main` maps the block's input expression to the main branch's output.
template <class Main>
struct residual_block {
  Main main;
  int shift = 0;
};
template <class Main>
residual_block<Main> residual(Main main, int shift = 0) {
  return {main, shift};
}
template <class In, class Main>
auto operator>>(Expr<In> x, const residual_block<Main>& r) {
  static_assert(!In::raw, "qdf: a residual block's input must be activations (its skip is added to the accumulators)");
  auto branch = r.main(Expr<In>{Net()});  // an open expression: the branch's layers
  using Out = typename decltype(branch)::shape;
  static_assert(Out::raw, "qdf: the residual's main branch must end in a conv (the add comes before the thresholds)");
  static_assert(residual_shapes_match<Out, In>::ok);
  return Expr<at<Out::h, Out::w, Out::c, true>>{x.net >> manager::residual(branch.net, r.shift)};
}

}  // namespace qdf::manager::static_net

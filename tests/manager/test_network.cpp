// Networks as expressions: shapes flow through them, and a layer that does not fit is a user
// error naming it and the shapes.
#include "dsl/errors.hpp"
#include "manager/network.hpp"
#include "manager/static_network.hpp"

#include <boost/hana.hpp>
#include <doctest/doctest.h>
#include <vector>

using namespace qdf;
using namespace qdf::manager;

TEST_CASE("the built-in networks have the shapes of their papers") {
  CHECK(builtin_net("sfc").net.shape() == Shape{1, 1, 1});
  CHECK(builtin_net("cnv").net.layers()[10].out == Shape{5, 5, 128});  // after the second pool
  const Net& r = builtin_net("resnet18").net;
  CHECK(r.layers()[3].out == Shape{56, 56, 64});  // conv1 /2, max pool /2
  const Layer& gp = r.layers()[r.layers().size() - 3];
  CHECK(gp.kind == LayerKind::GlobalPool);
  CHECK(gp.in == Shape{7, 7, 512});
  // ResNet-18 is about 1.8 billion multiply-accumulates per 224x224 image.
  CHECK(r.macs() > 1'780'000'000);
  CHECK(r.macs() < 1'840'000'000);
  const Net& a = builtin_net("alexnet").net;
  CHECK(a.layers()[1].out == Shape{54, 54, 96});
  for (const auto& n : builtin_nets()) CHECK(n.net.shape().c == 1);  // top-1 label
}

TEST_CASE("a layer that does not fit names the layer and the shapes") {
  Net small = input("img", {4, 4, 3}, 8);
  CHECK_THROWS_WITH_AS(small >> conv("big", 7, 8), doctest::Contains("layer 'big' (conv 7x7/1 pad 0, 8 channels): a 7x7 window"),
                       UserError);
  CHECK_THROWS_WITH_AS(small >> conv("c1", 3, 8) >> conv("c2", 3, 8),
                       doctest::Contains("put an act() between them"), UserError);
  Net block_in = input("img", {8, 8, 16}, 2) >> conv("c0", 3, 16, 1, 1) >> act(2);
  CHECK_THROWS_WITH_AS(block_in >> residual(conv("down", 3, 32, 2, 1)),
                       doctest::Contains("its main branch gives 4x4x32 but its skip gives 8x8x16"), UserError);
  CHECK_NOTHROW(block_in >> residual(conv("down", 3, 32, 2, 1), 0, conv("proj", 1, 32, 2, 0)) >> act(2));
  CHECK_THROWS_WITH_AS(builtin_net("vgg"), doctest::Contains("the networks are: sfc, lfc"), UserError);
}

// Field by field, through residual branches: the static expression's network against the one
// written with runtime expressions.
static void check_same_layers(const std::vector<Layer>& got, const std::vector<Layer>& want, const std::string& where) {
  REQUIRE_MESSAGE(got.size() == want.size(), where);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Layer &g = got[i], &w = want[i];
    INFO(where, " layer ", i, " ", w.describe());
    CHECK(g.name == w.name);
    CHECK(g.kind == w.kind);
    CHECK(g.out_channels == w.out_channels);
    CHECK(g.k == w.k);
    CHECK(g.s == w.s);
    CHECK(g.p == w.p);
    CHECK(g.act_bits == w.act_bits);
    CHECK(g.shift == w.shift);
    CHECK(g.top_k == w.top_k);
    CHECK(g.in == w.in);
    CHECK(g.out == w.out);
    CHECK(g.in_bits == w.in_bits);
    CHECK(g.out_bits == w.out_bits);
    CHECK(g.in_binary == w.in_binary);
    CHECK(g.out_binary == w.out_binary);
    check_same_layers(g.main, w.main, where + "/" + w.name + ".main");
    check_same_layers(g.projection, w.projection, where + "/" + w.name + ".projection");
  }
}

TEST_CASE("a network with static shapes builds the same runtime network") {
  namespace sn = static_net;
  auto net = sn::input<32, 32, 3, 8>("image") >> sn::conv<3, 64>{"conv1"} >> sn::act<2>{} >> sn::conv<3, 64>{"conv2"} >> sn::act<2>{} >>
             sn::maxpool<2>{} >>
             sn::residual([](auto in) { return in >> sn::conv<3, 64, 1, 1>{"a"} >> sn::act<2>{} >> sn::conv<3, 64, 1, 1>{"b"}; }) >>
             sn::act<2>{} >> sn::global_pool{} >> sn::fc<10>{"fc"} >> sn::label_select<1>{};
  using S = decltype(net)::shape;
  static_assert(S::h == 1 && S::w == 1 && S::c == 1);
  Net runtime = input("image", {32, 32, 3}, 8) >> conv("conv1", 3, 64) >> act(2) >> conv("conv2", 3, 64) >> act(2) >> maxpool(2) >>
                residual(conv("a", 3, 64, 1, 1) >> act(2) >> conv("b", 3, 64, 1, 1)) >> act(2) >> global_pool() >> fc("fc", 10) >>
                label_select(1);
  check_same_layers(net.net.layers(), runtime.layers(), "net");
  CHECK(net.net.layers()[5].out == Shape{14, 14, 64});
  CHECK(net.net.layers()[6].kind == LayerKind::Residual);
}

// A residual network with every layer kind: identity and projection blocks with shifts, binary and
// 2-bit activations, pools, a fully connected layer, and a label select of a global pool's
// unsigned scores. Its widths, worked out by hand from the layers (accumulator: bits of the largest
// sum, plus the sign; residual: one more than the wider of main branch and skip):
static auto every_layer_kind() {
  namespace sn = static_net;
  return sn::input<12, 12, 3, 8>("image") >>
         sn::conv<3, 16, 1, 1>{"c0"} >>  // 27 * 255 = 6885 < 2^13: 14 bits
         sn::act<2>{} >>
         sn::residual<1>([](auto in) { return in >> sn::conv<3, 16, 1, 1>{"a1"} >> sn::act<1>{} >> sn::conv<3, 16, 1, 1>{"b1"}; },
                         sn::no_projection{}, "block1") >>  // main: 144 (binary) < 2^8: 9 bits; skip 2 + 1 + 1 = 4 bits: 10
         sn::act<2>{} >>
         sn::residual<2>([](auto in) { return in >> sn::conv<3, 32, 2, 1>{"a2"} >> sn::act<2>{} >> sn::conv<3, 32, 1, 1>{"b2"}; },
                         [](auto in) { return in >> sn::conv<1, 32, 2>{"proj2"}; }) >>  // main: 288 * 3 = 864: 11; proj: 48: 7 bits; 12
         sn::act<2>{} >> sn::maxpool<2>{} >>                                             // 6x6 -> 3x3, 2 bits
         sn::conv<1, 10>{"scores"} >>                                                    // 32 * 3 = 96: 8 bits
         sn::act<2>{} >> sn::global_pool{} >>                                            // 9 * 3 = 27: 5 bits
         sn::label_select<1>{};                                                          // index of 10: 4 bits
}

TEST_CASE("a static network carries each stream's precision, as the runtime network computes it") {
  namespace sn = static_net;
  namespace hana = boost::hana;
  using E = decltype(every_layer_kind());
  // The layer list is a hana tuple in the type: its output widths and kinds, worked out by hand above.
  constexpr auto bits = hana::transform(E::layers, [](auto t) { return hana::int_c<decltype(t)::type::out::bits>; });
  static_assert(bits == hana::tuple_c<int, 8, 14, 2, 10, 2, 12, 2, 2, 8, 2, 5, 4>);
  constexpr auto values = hana::transform(E::layers, [](auto t) { return hana::int_c<static_cast<int>(decltype(t)::type::out::values)>; });
  constexpr int R = static_cast<int>(sn::Values::raw), U = static_cast<int>(sn::Values::uint);
  static_assert(values == hana::tuple_c<int, U, R, U, R, U, R, U, U, R, U, U, U>);
  constexpr auto is_conv = [](auto t) { return hana::bool_c<sn::is_conv_v<typename decltype(t)::type::layer>>; };
  static_assert(hana::count_if(E::layers, is_conv) == hana::size_c<2>);
  // The second block keeps its shift and its branches' layer lists: its skip is the projection conv.
  using Block2 = typename decltype(+E::layers[hana::size_c<5>])::type::layer;
  static_assert(sn::is_residual_v<Block2> && Block2::shift == 2);
  static_assert(hana::size(Block2::main::layers) == hana::size_c<3> && hana::size(Block2::skip::layers) == hana::size_c<1>);
  static_assert(std::is_same_v<typename decltype(+hana::back(Block2::skip::layers))::type::layer, sn::conv<1, 32, 2, 0>>);
  static_assert(std::is_same_v<typename decltype(+E::layers[hana::size_c<5>])::type::out, sn::at<6, 6, 32, 12, sn::Values::raw>>);
  // The first block on binary activations, in its main branch: the 1-bit act gives binary values.
  using Block1 = typename decltype(+E::layers[hana::size_c<3>])::type::layer;
  static_assert(decltype(+Block1::main::layers[hana::size_c<1>])::type::out::binary);

  auto net = every_layer_kind();
  Net runtime =
      input("image", {12, 12, 3}, 8) >> conv("c0", 3, 16, 1, 1) >> act(2) >>
      residual(conv("a1", 3, 16, 1, 1) >> act(1) >> conv("b1", 3, 16, 1, 1), 1, Net(), "block1") >> act(2) >>
      residual(conv("a2", 3, 32, 2, 1) >> act(2) >> conv("b2", 3, 32, 1, 1), 2, conv("proj2", 1, 32, 2)) >> act(2) >> maxpool(2) >>
      conv("scores", 1, 10) >> act(2) >> global_pool() >> label_select(1);
  check_same_layers(net.net.layers(), runtime.layers(), "net");
  // The type's widths are those of the runtime's layers.
  std::vector<int> runtime_bits;
  for (const Layer& l : runtime.layers()) runtime_bits.push_back(l.out_bits);
  std::vector<int> static_bits;
  hana::for_each(bits, [&](auto b) { static_bits.push_back(b); });
  CHECK(static_bits == runtime_bits);
}

TEST_CASE("a residual block's shift is 0..16, named with the block, in a network and in a bundle's") {
  Net block_in = input("img", {8, 8, 16}, 2) >> conv("c0", 3, 16, 1, 1) >> act(2);
  CHECK_THROWS_WITH_AS(block_in >> residual(conv("a", 3, 16, 1, 1), -1, Net(), "blk"),
                       doctest::Contains("layer 'blk' (residual block): its shift (skip scale 2^shift) must be 0..16, found -1"), UserError);
  CHECK_THROWS_WITH_AS(block_in >> residual(conv("a", 3, 16, 1, 1), 17), doctest::Contains("shift (skip scale 2^shift) must be 0..16, found 17"),
                       UserError);
  CHECK_THROWS_WITH_AS(block_in >> residual(conv("a", 3, 16, 1, 1), -2147483647 - 1), doctest::Contains("'c0_act_res' (residual block)"),
                       UserError);
  CHECK_NOTHROW(block_in >> residual(conv("a", 3, 16, 1, 1), 16));
}

TEST_CASE("a residual block inside another's branch is refused: the skip FIFO's depth does not count it yet") {
  Net block_in = input("img", {8, 8, 16}, 2) >> conv("c0", 3, 16, 1, 1) >> act(2);
  Net inner = residual(conv("i1", 3, 16, 1, 1), 0, Net(), "inner");
  CHECK_THROWS_WITH_AS(block_in >> residual(conv("a", 3, 16, 1, 1) >> act(2) >> inner >> act(2) >> conv("b", 3, 16, 1, 1), 0, Net(), "outer"),
                       doctest::Contains("layer 'outer' (residual block): a residual block inside its main branch ('inner') is not supported yet"),
                       UserError);
  CHECK_THROWS_WITH_AS(block_in >> residual(conv("a", 3, 16, 1, 1), 0, conv("p0", 1, 16) >> act(2) >> inner, "outer"),
                       doctest::Contains("inside its skip projection ('inner') is not supported yet"), UserError);
}

TEST_CASE("binary MACs count an unsigned k-bit input k times (its bit planes), a binary input once") {
  // conv: 4x4x2 outputs of 3x3x3 windows = 864 weight uses, on 8-bit pixels: 8 planes = 6912;
  // fc f: 32 inputs x 5 = 160 uses, 2-bit: 320; fc g: 5 x 3 = 15 uses, binary: 15.
  Net n = input("img", {4, 4, 3}, 8) >> conv("c", 3, 2, 1, 1) >> act(2) >> fc("f", 5) >> act(1) >> fc("g", 3) >> label_select();
  CHECK(n.macs() == 864 + 160 + 15);
  CHECK(n.binary_macs() == 6912 + 320 + 15);
  // A residual block counts its branches: 4x4x2 outputs of 3x3x2 windows on 2-bit inputs = 576 uses, 1152.
  Net r = input("img", {4, 4, 2}, 2) >> residual(conv("r", 3, 2, 1, 1)) >> act(2);
  CHECK(r.macs() == 576);
  CHECK(r.binary_macs() == 1152);
}

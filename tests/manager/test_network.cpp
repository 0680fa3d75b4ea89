// Networks as expressions: shapes flow through them, and a layer that does not fit is a user
// error naming it and the shapes.
#include "dsl/errors.hpp"
#include "manager/network.hpp"
#include "manager/static_network.hpp"

#include <doctest/doctest.h>

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

TEST_CASE("a network with static shapes builds the same runtime network") {
  using namespace qdf::manager::static_net;
  auto net = static_net::input<32, 32, 3, 8>("image") >> static_net::conv<3, 64>{"conv1"} >> static_net::act<2>{} >>
             static_net::conv<3, 64>{"conv2"} >> static_net::act<2>{} >> static_net::maxpool<2>{} >>
             static_net::residual([](auto in) { return in >> static_net::conv<3, 64, 1, 1>{"a"} >> static_net::act<2>{} >> static_net::conv<3, 64, 1, 1>{"b"}; }) >>
             static_net::act<2>{} >> static_net::global_pool{} >> static_net::fc<10>{"fc"} >> static_net::label_select<1>{};
  using S = decltype(net)::shape;
  static_assert(S::h == 1 && S::w == 1 && S::c == 1);
  CHECK(net.net.shape() == Shape{1, 1, 1});
  CHECK(net.net.layers()[5].out == Shape{14, 14, 64});
  CHECK(net.net.layers()[6].kind == LayerKind::Residual);
  CHECK(net.net.layers()[6].out == Shape{14, 14, 64});
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
